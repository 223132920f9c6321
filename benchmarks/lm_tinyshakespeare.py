"""Character language model on tinyshakespeare: rnnkit and PyTorch, same network, same time.

The network: embedding 64 -> one recurrent layer of 256 (tanh RNN, LSTM or GRU) ->
linear over the 65 characters; the text cut into 64 streams and windows of 64 steps
with the state carried from window to window (gradients stopped at the window
start), Adam 3e-3, gradient norm clipped at 1, float32. The last 10% of the text is
the validation set, read the same way (64 streams, state carried). Each run trains
for the time budget, validating after every pass over the text, and reports the
validation loss in nats per character after the budget, the best epoch's loss, the
training characters per second, and a 300-character sample (temperature 0.8).
rnnkit's default halves the learning rate after an epoch that does not lower the
validation loss; PyTorch's side keeps it constant unless ``--lr-decay`` is given
(which then applies the same rule to both).

    python benchmarks/lm_tinyshakespeare.py --framework rnnkit --cell rnn --minutes 5
    python benchmarks/lm_tinyshakespeare.py --framework torch --cell gru --minutes 5

One process per run, one run at a time, so the two never share the CPU. PyTorch is
a benchmark dependency only (``pip install -e '.[test]'``). The data is read from
../shared/data/tinyshakespeare/input.txt unless --data is given.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np

from rnnkit.core.cells import cell_names
from rnnkit.data.corpus import read_corpus
from rnnkit.models import LanguageModel
from rnnkit.training import TextStreams

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "tinyshakespeare" / "input.txt"
EMBED, HIDDEN, BATCH, BPTT, LR, CLIP = 64, 256, 64, 64, 3e-3, 1.0


def rnnkit_run(train, valid, cell, minutes, seed, threads, lr_decay=None) -> dict:
    options = {} if lr_decay is None else {"lr_decay": lr_decay or None}
    lm = LanguageModel(
        **options,
        cell=cell, embed_dim=EMBED, hidden=HIDDEN, batch_size=BATCH, bptt=BPTT, lr=LR,
        clip_norm=CLIP, epochs=1000, patience=None, max_minutes=minutes, seed=seed, verbose=1,
    )  # fmt: skip
    t0 = time.perf_counter()
    lm.fit_corpus(train, valid)
    seconds = time.perf_counter() - t0
    epochs = lm.history_.epochs
    final = lm.evaluate_ids(valid.ids).loss  # the best epoch's weights are restored
    sample = lm.generate("ROMEO:", 300, temperature=0.8, seed=seed)
    return {
        "framework": "rnnkit",
        "cell": cell,
        "valid_loss_last_epoch": epochs[-1]["val_loss"],
        "valid_loss_best": final,
        "best_epoch": lm.history_.best_epoch,
        "epochs": len(epochs),
        "chars_per_s": float(np.median([e["tokens_per_s"] for e in epochs])),
        "seconds": seconds,
        "curve": [
            (round(sum(x["seconds"] for x in epochs[: i + 1]), 1), round(e["val_loss"], 4))
            for i, e in enumerate(epochs)
        ],
        "sample": "ROMEO:" + sample,
        "threads": threads,
    }


def torch_run(train, valid, cell, minutes, seed, threads, lr_decay=None) -> dict:
    import torch
    from torch import nn

    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    V = len(train.vocab)
    rnn_class = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[cell]

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.emb = nn.Embedding(V, EMBED)
            self.rnn = rnn_class(EMBED, HIDDEN, batch_first=True)
            self.out = nn.Linear(HIDDEN, V)

        def forward(self, x, h):
            y, h = self.rnn(self.emb(x), h)
            return self.out(y), h

    def detach(h):  # the carried state, with no gradient back into the last window
        if h is None:
            return None
        return tuple(s.detach() for s in h) if isinstance(h, tuple) else h.detach()

    net = Net()
    opt = torch.optim.Adam(net.parameters(), lr=LR)
    loss_fn = nn.CrossEntropyLoss()
    streams = TextStreams(train.ids, BATCH, BPTT)
    held = TextStreams(valid.ids, BATCH, BPTT)

    def tensors(src, w):
        b = src.batch(w)
        return torch.from_numpy(b.x.astype(np.int64)), torch.from_numpy(b.y.astype(np.int64))

    def evaluate() -> float:
        net.eval()
        total, n, h = 0.0, 0, None
        with torch.no_grad():
            for w in held.batches():
                x, y = tensors(held, w)
                logits, h = net(x, h)
                total += float(loss_fn(logits.reshape(-1, V), y.reshape(-1))) * y.numel()
                n += y.numel()
        net.train()
        return total / n

    deadline = time.perf_counter() + 60 * minutes
    curve, rates, best, best_state = [], [], math.inf, None
    start = time.perf_counter()
    out_of_time = False
    while not out_of_time:
        t0, tokens, h = time.perf_counter(), 0, None
        for w in streams.batches():
            x, y = tensors(streams, w)
            logits, h = net(x, detach(h))
            loss = loss_fn(logits.reshape(-1, V), y.reshape(-1))
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(net.parameters(), CLIP)
            opt.step()
            tokens += y.numel()
            if time.perf_counter() > deadline:
                out_of_time = True
                break
        rates.append(tokens / (time.perf_counter() - t0))
        v = evaluate()
        curve.append((round(time.perf_counter() - start, 1), round(v, 4)))
        print(f"epoch {len(curve)}  val_loss {v:.4f}  {rates[-1]:,.0f} chars/s", flush=True)
        if v < best:
            best, best_state = v, {k: t.clone() for k, t in net.state_dict().items()}
        elif lr_decay:  # the same plateau rule as rnnkit's lr_decay
            for group in opt.param_groups:
                group["lr"] *= lr_decay
    last = curve[-1][1]
    net.load_state_dict(best_state)
    return {
        "framework": "torch",
        "cell": cell,
        "valid_loss_last_epoch": last,
        "valid_loss_best": best,
        "epochs": len(curve),
        "chars_per_s": float(np.median(rates)),
        "seconds": time.perf_counter() - start,
        "curve": curve,
        "threads": threads,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--framework", choices=["rnnkit", "torch"], default="rnnkit")
    p.add_argument("--cell", choices=cell_names(), default="rnn")
    p.add_argument("--minutes", type=float, default=5.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument(
        "--lr-decay",
        type=float,
        help="lr factor after an epoch with no better validation loss, 0 = off "
        "(default: each side's own, rnnkit 0.5, PyTorch constant)",
    )
    p.add_argument("--data", type=Path, default=DATA)
    p.add_argument("--json", type=Path, help="also write the result here")
    args = p.parse_args()
    from threadpoolctl import threadpool_limits

    corpus = read_corpus(args.data, "char")
    train, valid = corpus.split(0.1)
    run = rnnkit_run if args.framework == "rnnkit" else torch_run
    with threadpool_limits(args.threads):
        result = run(train, valid, args.cell, args.minutes, args.seed, args.threads, args.lr_decay)
    result["minutes"] = args.minutes
    result["lr_decay"] = args.lr_decay
    text = json.dumps(result, indent=1)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()
