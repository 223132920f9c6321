"""The PyTorch twin of rnnkit's default Seq2Seq, trained on CMUdict the same way.

    python benchmarks/g2p_torch.py --minutes 10 [--json out.json]

The same network as ``Seq2Seq()`` (character embedding 64, bidirectional GRU encoder
2 x 128 with dropout 0.2 between the layers, a tanh bridge from [h_fwd; h_bwd] to the
GRU decoder of 256, Luong dot attention with h~ = tanh(W_c [ctx; h]), dropout 0.2,
softmax output), the same data pipeline (rnnkit's vocabularies and length-bucketed
batches of 64), the same loss (cross-entropy summed over each target, mean over the
batch), Adam 2e-3, global-norm clipping at 5, the learning rate halved after an epoch
without a better validation loss, early stopping after 4 such epochs and the best
epoch's weights restored. Then greedy decoding of the test split, batched. Needs
PyTorch and ../shared/data/cmudict_g2p.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

from rnnkit.data.pairs import read_cmudict
from rnnkit.metrics.sequences import SequenceReport
from rnnkit.text import Vocabulary
from rnnkit.training.pairs import PairDataset

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "cmudict_g2p"


def build(torch, n_src: int, n_tgt: int):
    nn = torch.nn

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.enc_emb = nn.Embedding(n_src, 64)
            self.enc = nn.GRU(64, 128, 2, batch_first=True, bidirectional=True, dropout=0.2)
            self.bridge = nn.Linear(256, 256)
            self.dec_emb = nn.Embedding(n_tgt, 64)
            self.dec = nn.GRU(64, 256, batch_first=True)
            self.w_c = nn.Linear(512, 256)
            self.drop = nn.Dropout(0.2)
            self.out = nn.Linear(256, n_tgt)

        def encode(self, x, lengths):
            pack = nn.utils.rnn.pack_padded_sequence
            e = self.enc_emb(x)
            out, h = self.enc(pack(e, lengths, batch_first=True, enforce_sorted=False))
            enc, _ = nn.utils.rnn.pad_packed_sequence(
                out, batch_first=True, total_length=x.shape[1]
            )
            s0 = torch.tanh(self.bridge(torch.cat([h[-2], h[-1]], dim=-1)))  # top layer
            return enc, s0[None]

        def attend(self, h, enc, src_mask):
            scores = (h @ enc.transpose(1, 2)).masked_fill(~src_mask[:, None, :], -math.inf)
            ctx = torch.softmax(scores, dim=-1) @ enc
            return self.out(self.drop(torch.tanh(self.w_c(torch.cat([ctx, h], dim=-1)))))

        def forward(self, x, lengths, src_mask, y_in):
            enc, s0 = self.encode(x, lengths)
            h, _ = self.dec(self.dec_emb(y_in), s0)
            return self.attend(h, enc, src_mask)

    return Net()


def tensors(torch, b):
    t = torch.from_numpy
    return t(b.x), t(b.lengths), t(b.mask), t(b.y_in), t(b.y), t(b.y_mask)


def loss_of(torch, net, b) -> tuple:
    x, lengths, mask, y_in, y, y_mask = tensors(torch, b)
    logits = net(x, lengths, mask, y_in)
    ce = torch.nn.functional.cross_entropy(logits.transpose(1, 2), y, reduction="none")
    return (ce * y_mask).sum() / len(x), int(y_mask.sum()) + int(lengths.sum())


def greedy(torch, net, data: PairDataset, sos: int, eos: int) -> list[list[int]]:
    out: list[list[int]] = [[] for _ in range(len(data))]
    net.eval()
    with torch.no_grad():
        for index in data.batches(256, rng=None):
            b = data.batch(index)
            x, lengths, mask = (torch.from_numpy(a) for a in (b.x, b.lengths, b.mask))
            enc, h = net.encode(x, lengths)
            tok = torch.full((len(x),), sos, dtype=torch.long)
            done = torch.zeros(len(x), dtype=torch.bool)
            for _ in range(int(2 * lengths.max()) + 10):
                o, h = net.dec(net.dec_emb(tok)[:, None], h)
                tok = net.attend(o, enc, mask)[:, 0].argmax(-1)
                for row in torch.nonzero(~done & (tok != eos)).flatten().tolist():
                    out[index[row]].append(int(tok[row]))
                done |= tok == eos
                if bool(done.all()):
                    break
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--minutes", type=float, default=10.0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", type=Path, default=None)
    args = p.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    if not (DATA / "cmudict-train.dict").exists():
        print(f"no CMUdict data at {DATA}", file=sys.stderr)
        return 2
    train, dev, test = (read_cmudict(DATA / f"cmudict-{s}.dict") for s in ("train", "dev", "test"))
    sv, tv = Vocabulary.build(train.sources), Vocabulary.build(train.targets)
    sos, eos = tv["<sos>"], tv["<eos>"]

    def dataset(c, targets=True):
        y = [tv.encode(t, add_eos=True) for t in c.targets] if targets else None
        return PairDataset([sv.encode(s) for s in c.sources], y, sos_id=sos)

    tr, va = dataset(train), dataset(dev)
    net = build(torch, len(sv), len(tv))
    opt = torch.optim.Adam(net.parameters(), lr=2e-3)
    rng = np.random.default_rng([args.seed, 1])
    deadline = time.perf_counter() + 60 * args.minutes
    start = time.perf_counter()
    best, best_state, waited, tokens, epoch, busy = math.inf, None, 0, 0, 0, 0.0
    while time.perf_counter() < deadline and waited < 4:
        epoch += 1
        net.train()
        t0 = time.perf_counter()
        for index in tr.batches(64, rng=rng):
            loss, n = loss_of(torch, net, tr.batch(index))
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 5.0)
            opt.step()
            tokens += n
            if time.perf_counter() > deadline:
                break
        train_s = time.perf_counter() - t0
        busy += train_s
        net.eval()
        with torch.no_grad():
            vl = sum(float(loss_of(torch, net, va.batch(i))[0]) * len(i) for i in va.batches(256))
        vl /= len(va)
        print(f"epoch {epoch}  val_loss {vl:.4f}  {train_s:.1f}s", flush=True)
        if vl < best:
            best, waited = vl, 0
            best_state = {k: v.clone() for k, v in net.state_dict().items()}
        else:
            waited += 1
            for g in opt.param_groups:
                g["lr"] *= 0.5
    seconds = time.perf_counter() - start
    if best_state is not None:
        net.load_state_dict(best_state)
    t0 = time.perf_counter()
    outs = greedy(torch, net, dataset(test, targets=False), sos, eos)
    r = SequenceReport.from_sequences(test.targets, [tv.decode(o) for o in outs])
    print(f"test, greedy: WER {r.word_error_rate:.2%}  PER {r.token_error_rate:.2%}  "
          f"({time.perf_counter() - t0:.1f}s)")  # fmt: skip
    rate = tokens / busy  # source and target tokens per second of training steps
    print(f"trained {seconds / 60:.1f} min, {epoch} epochs, {rate:,.0f} tokens/s")
    if args.json is not None:
        figures = {"train_seconds": seconds, "epochs": epoch, "tokens_per_s": rate}
        args.json.write_text(json.dumps({**figures, "greedy": r.to_dict()}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
