"""The PyTorch reference for two real-data tasks: Japanese Vowels and surnames by language.

    python benchmarks/frames_torch.py vowels --cell gru --seeds 0 1 2 [--json out.json]
    python benchmarks/frames_torch.py names --cell gru --minutes 3 [--json out.json]

The data goes through rnnkit's readers and split, so that rnnkit and PyTorch see the
same sequences on the same side of the cut. ``vowels``: speaker identification (9
classes) from frames of 12 LPC cepstra, each feature standardised with the mean and
standard deviation of all training frames; the given train/test split; a fixed number
of epochs; the test accuracy after the last one. ``names``: surname -> language (18
classes), one token per character (case kept), the vocabulary from the training names
plus an unknown and a padding index; 10% of the distinct names held out for test and
10% of the rest for validation (``split_indices`` with the names as groups); a
wall-clock budget checked after every batch, validation at every epoch end (and where
the budget stops an epoch), and the best validation epoch's weights restored before
the test. Both: one recurrent layer (tanh RNN, GRU or LSTM) on packed batches, its
last real state (or, for vowels, ``--pooling mean``, the mean over the real steps) ->
dropout -> linear; cross-entropy (mean over the batch), Adam, global-norm clipping at
5, shuffled batches, float32. Needs PyTorch and ../shared/data.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from rnnkit.data import read_frames, read_label_files
from rnnkit.data.splits import split_indices

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
CLIP = 5.0
PAD, UNK = 0, 1  # the character indices of padding and of a character unseen in training


def build(torch, args, n_in: int, n_out: int, vocab: int | None = None, pooling: str = "last"):
    """The classifier: [embedding ->] recurrent layer -> pooled state -> dropout -> linear."""
    nn = torch.nn

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.emb = None if vocab is None else nn.Embedding(vocab, n_in, padding_idx=PAD)
            cell = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}[args.cell]
            self.rnn = cell(n_in, args.hidden, batch_first=True)
            self.drop = nn.Dropout(args.dropout)
            self.out = nn.Linear(args.hidden, n_out)

        def forward(self, x, lengths):
            if self.emb is not None:
                x = self.emb(x)
            packed = nn.utils.rnn.pack_padded_sequence(
                x, lengths, batch_first=True, enforce_sorted=False
            )
            states, h = self.rnn(packed)
            if pooling == "mean":  # the padded steps come back as zeros
                states, _ = nn.utils.rnn.pad_packed_sequence(states, batch_first=True)
                z = states.sum(1) / lengths[:, None].to(states.dtype)
            else:  # h_T, in the batch's order
                z = (h[0] if isinstance(h, tuple) else h)[-1]
            return self.out(self.drop(z))

    return Net()


def padded(torch, seqs: list[np.ndarray], dtype, value=0) -> tuple:
    """(x, lengths): the sequences padded to the longest into one tensor."""
    lengths = torch.tensor([len(s) for s in seqs], dtype=torch.int64)
    x = torch.full((len(seqs), int(lengths.max()), *seqs[0].shape[1:]), value, dtype=dtype)
    for i, s in enumerate(seqs):
        x[i, : len(s)] = torch.from_numpy(s)
    return x, lengths


def batch(data: tuple, idx) -> tuple:
    x, lengths = data[0], data[1]
    n = lengths[idx]
    return x[idx, : int(n.max())], n


def train_epoch(torch, net, opt, data: tuple, batch_size: int, gen, deadline=float("inf")):
    """One shuffled pass over data = (x, lengths, y), cut short after the batch that passes
    `deadline`: (time steps trained, sequences trained, whether the pass was cut short)."""
    net.train()
    tokens, seen, order = 0, 0, torch.randperm(len(data[2]), generator=gen)
    for k, idx in enumerate(order.split(batch_size)):
        xb, nb = batch(data, idx)
        loss = torch.nn.functional.cross_entropy(net(xb, nb), data[2][idx])
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), CLIP)
        opt.step()
        tokens, seen = tokens + int(nb.sum()), seen + len(idx)
        if time.perf_counter() > deadline and (k + 1) * batch_size < len(order):
            return tokens, seen, True
    return tokens, seen, False


def predict(torch, net, data: tuple, batch_size: int = 512) -> np.ndarray:
    net.eval()
    with torch.no_grad():
        batches = torch.arange(len(data[2])).split(batch_size)
        return torch.cat([net(*batch(data, idx)).argmax(-1) for idx in batches]).numpy()


def per_class(y: np.ndarray, pred: np.ndarray, classes: list[str]) -> dict[str, dict]:
    return {
        c: {"n": int((y == k).sum()), "accuracy": float((pred[y == k] == k).mean())}
        for k, c in enumerate(classes)
        if (y == k).any()
    }


def vowels(torch, args) -> dict:
    root = DATA / "japanese_vowels"
    train, test = (read_frames(root / f"JapaneseVowels_{s}.csv") for s in ("TRAIN", "TEST"))
    classes = sorted(set(train.labels))
    frames = np.concatenate(train.sequences)
    mean, std = frames.mean(0), frames.std(0)

    def tensors(fs):
        x, lengths = padded(torch, [(s - mean) / std for s in fs.sequences], torch.float32)
        return x, lengths, torch.tensor([classes.index(c) for c in fs.labels])

    tr, te = tensors(train), tensors(test)
    y_test = te[2].numpy()
    runs = []
    for seed in args.seeds:
        torch.manual_seed(seed)
        gen = torch.Generator().manual_seed(seed)
        net = build(torch, args, len(train.features), len(classes), pooling=args.pooling)
        opt = torch.optim.Adam(net.parameters(), lr=args.lr)
        seconds = 0.0
        for epoch in range(1, args.epochs + 1):
            t0 = time.perf_counter()
            train_epoch(torch, net, opt, tr, args.batch_size, gen)
            seconds += time.perf_counter() - t0
            if args.verbose:
                acc = float((predict(torch, net, te) == y_test).mean())
                print(f"seed {seed}  epoch {epoch}  test_acc {acc:.4f}", flush=True)
        pred = predict(torch, net, te)
        acc = float((pred == y_test).mean())
        print(f"seed {seed}  test accuracy {acc:.4f}  ({seconds:.1f}s training)", flush=True)
        runs.append({"seed": seed, "accuracy": acc, "seconds": seconds,
                     "per_class_accuracy": per_class(y_test, pred, classes)})  # fmt: skip
    accuracy = float(np.mean([r["accuracy"] for r in runs]))
    accs = " ".join(f"{r['accuracy']:.4f}" for r in runs)
    print(f"{args.cell} pooling={args.pooling}: test accuracy mean {accuracy:.4f}  ({accs})")
    mean_per_class = {}  # over the seeds
    for c, r in runs[0]["per_class_accuracy"].items():
        by_seed = [x["per_class_accuracy"][c]["accuracy"] for x in runs]
        mean_per_class[c] = {"n": r["n"], "accuracy": float(np.mean(by_seed))}
    return {"accuracy": accuracy, "per_class_accuracy": mean_per_class, "epochs": args.epochs,
            "seconds": float(np.mean([r["seconds"] for r in runs])), "runs": runs}  # fmt: skip


def names(torch, args) -> dict:
    corpus = read_label_files(DATA / "names_by_language")
    texts, classes = corpus.texts, sorted(set(corpus.labels))
    keep, test = split_indices(len(texts), 0.1, args.split_seed, groups=texts)
    fit, valid = split_indices(len(keep), 0.1, args.split_seed, groups=[texts[i] for i in keep])
    train, valid = keep[fit], keep[valid]
    alphabet = sorted({c for i in train for c in texts[i]})
    index = {c: k for k, c in enumerate(alphabet, start=2)}  # 0 and 1: PAD and UNK

    def tensors(rows):
        ids = [np.array([index.get(c, UNK) for c in texts[i]], dtype=np.int64) for i in rows]
        x, lengths = padded(torch, ids, torch.int64, PAD)
        return x, lengths, torch.tensor([classes.index(corpus.labels[i]) for i in rows])

    tr, va, te = tensors(train), tensors(valid), tensors(test)
    print(f"{len(train)} train, {len(valid)} validation, {len(test)} test names; "
          f"{len(index) + 2} characters", flush=True)  # fmt: skip
    torch.manual_seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed)
    net = build(torch, args, args.embed, len(classes), vocab=len(index) + 2)
    opt = torch.optim.Adam(net.parameters(), lr=args.lr)
    start = time.perf_counter()
    deadline = start + 60.0 * args.minutes
    best, best_state, epoch, best_epoch, chars, seen, busy = -1.0, None, 0, 0, 0, 0, 0.0
    while True:
        epoch += 1
        t0 = time.perf_counter()
        n, m, cut = train_epoch(torch, net, opt, tr, args.batch_size, gen, deadline)
        dt = time.perf_counter() - t0
        busy, chars, seen = busy + dt, chars + n, seen + m
        acc = float((predict(torch, net, va) == va[2].numpy()).mean())
        print(f"epoch {epoch}{' (cut)' if cut else ''}  val_acc {acc:.4f}  "
              f"{n / dt:,.0f} chars/s", flush=True)  # fmt: skip
        if acc > best:
            best, best_epoch = acc, epoch
            best_state = {k: v.clone() for k, v in net.state_dict().items()}
        if cut or time.perf_counter() > deadline:
            break
    seconds = time.perf_counter() - start
    net.load_state_dict(best_state)
    y_test, pred = te[2].numpy(), predict(torch, net, te)
    accuracy, table = float((pred == y_test).mean()), per_class(y_test, pred, classes)
    print(f"{'language':<12} {'n':>5}  accuracy")
    for c, r in table.items():
        print(f"{c:<12} {r['n']:>5}  {r['accuracy']:.4f}")
    rate = chars / busy  # characters per second of training steps, validation excluded
    print(f"test accuracy {accuracy:.4f} (best validation {best:.4f}, epoch {best_epoch}); "
          f"{epoch} epochs ({seen / len(train):.2f} passes) in {seconds:.1f}s, "
          f"{rate:,.0f} chars/s")  # fmt: skip
    return {"accuracy": accuracy, "per_class_accuracy": table, "seconds": seconds,
            "epochs": epoch, "passes": seen / len(train), "best_epoch": best_epoch,
            "valid_accuracy": best, "chars_per_s": rate,
            "sizes": {"train": len(train), "valid": len(valid), "test": len(test)}}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--cell", choices=["rnn", "gru", "lstm"], default="gru")
    common.add_argument("--hidden", type=int, default=128)
    common.add_argument("--dropout", type=float, default=0.0)
    common.add_argument("--lr", type=float, default=1e-3)
    common.add_argument("--batch-size", type=int, default=32)
    common.add_argument("--threads", type=int, default=2)
    common.add_argument("--json", type=Path, help="also write the figures here")
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="task", required=True)
    vw = sub.add_parser("vowels", parents=[common], help="Japanese Vowels, speaker id")
    vw.add_argument("--pooling", choices=["last", "mean"], default="last")
    vw.add_argument("--epochs", type=int, default=60)
    vw.add_argument("--seeds", type=int, nargs="+", default=[0])
    vw.add_argument("--verbose", action="store_true", help="test accuracy after every epoch")
    nm = sub.add_parser("names", parents=[common], help="surname -> language")
    nm.add_argument("--embed", type=int, default=64)
    nm.add_argument("--minutes", type=float, default=3.0)
    nm.add_argument("--seed", type=int, default=0)
    nm.add_argument("--split-seed", type=int, default=0)
    args = p.parse_args(argv)
    where = DATA / ("japanese_vowels" if args.task == "vowels" else "names_by_language")
    if not where.is_dir():
        print(f"no data at {where}", file=sys.stderr)
        return 2
    import torch

    torch.set_num_threads(args.threads)
    figures = (vowels if args.task == "vowels" else names)(torch, args)
    if args.json is not None:
        settings = {k: v for k, v in vars(args).items() if k not in ("task", "json")}
        result = {"task": args.task, "settings": settings, **figures,
                  "torch": torch.__version__, "threads": args.threads}  # fmt: skip
        args.json.write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
