"""MR sentiment: rnnkit against the same network in PyTorch, side by side in one run.

The network: embedding 100 -> tanh RNN 128 -> (last real state, or the mean of the
states) -> dropout 0.5 -> one logit; Adam 1e-3, batch 32, gradient norm clipped at 5;
the same vocabulary (training words seen at least twice) for both. Each side trains
for the same number of epochs; the table gives test accuracy at the last epoch and at
the epoch with the lowest dev loss, and the training time.

    python benchmarks/mr_sentiment.py [--epochs 30] [--seed 0] [--json]

PyTorch is a benchmark dependency only (``pip install -e '.[test]'``).
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from rnnkit.data import load_mr
from rnnkit.models import SequenceClassifier
from rnnkit.text import Vocabulary, word_tokenize


def encode(texts, vocab):
    return [vocab.encode(word_tokenize(t)) for t in texts]


def torch_run(splits, vocab, epochs, seed, pooling):
    import torch
    from torch import nn
    from torch.nn.utils.rnn import pad_sequence

    torch.manual_seed(seed)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(len(vocab), 100, padding_idx=0)
            self.drop_in = nn.Dropout(0.3 if pooling == "mean" else 0.0)
            self.rnn = nn.RNN(100, 128, batch_first=True, nonlinearity="tanh")
            self.drop = nn.Dropout(0.5)
            self.out = nn.Linear(128, 1)

        def forward(self, x, lengths):
            h, _ = self.rnn(self.drop_in(self.emb(x)))  # (B, T, d)
            mask = (torch.arange(x.shape[1])[None, :] < lengths[:, None]).float()
            if pooling == "mean":
                z = (h * mask[..., None]).sum(1) / lengths[:, None].float()
            else:
                z = h[torch.arange(len(x)), lengths - 1]
            return self.out(self.drop(z)).squeeze(-1)

    def batches(x, y, shuffle, rng):
        order = rng.permutation(len(x)) if shuffle else np.arange(len(x))
        for i in range(0, len(x), 32):
            idx = order[i : i + 32]
            seqs = [torch.as_tensor(x[j]) for j in idx]
            lengths = torch.as_tensor([len(s) for s in seqs])
            yield pad_sequence(seqs, batch_first=True), lengths, torch.as_tensor(y[idx]).float()

    net = Net()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    loss_fn = nn.BCEWithLogitsLoss()
    rng = np.random.default_rng(seed)

    def score(x, y):
        net.eval()
        with torch.no_grad():
            total, correct = 0.0, 0
            for xb, lb, yb in batches(x, y, False, rng):
                z = net(xb, lb)
                total += float(loss_fn(z, yb)) * len(yb)
                correct += int(((z > 0).float() == yb).sum())
        net.train()
        return total / len(y), correct / len(y)

    (xtr, ytr), (xva, yva), (xte, yte) = splits
    start, best, history = time.perf_counter(), (np.inf, None), []
    for _ in range(epochs):
        for xb, lb, yb in batches(xtr, ytr, True, rng):
            opt.zero_grad()
            loss_fn(net(xb, lb), yb).backward()
            nn.utils.clip_grad_norm_(net.parameters(), 5.0)
            opt.step()
        val_loss, _ = score(xva, yva)
        test_acc = score(xte, yte)[1]
        history.append(test_acc)
        if val_loss < best[0]:
            best = (val_loss, test_acc)
    return {"last": history[-1], "best_dev_loss": best[1], "seconds": time.perf_counter() - start}


def rnnkit_run(splits_text, epochs, seed, pooling):
    (tr, va, te) = splits_text
    settings = dict(epochs=epochs, seed=seed, pooling=pooling, patience=epochs, verbose=0)
    if pooling == "last":
        settings["embed_dropout"] = 0.0  # the network as the PyTorch side has it
    start = time.perf_counter()
    clf = SequenceClassifier(**settings).fit(tr.texts, tr.labels, valid=(va.texts, va.labels))
    seconds = time.perf_counter() - start
    best = clf.evaluate(te.texts, te.labels).accuracy  # weights of the lowest dev loss
    return {"best_dev_loss": best, "seconds": seconds, "best_epoch": clf.history_.best_epoch}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    tr, va, te = (load_mr(s) for s in ("train", "dev", "test"))
    vocab = Vocabulary.build([word_tokenize(t) for t in tr.texts], min_freq=2)
    splits = [(encode(t.texts, vocab), np.array([int(l) for l in t.labels])) for t in (tr, va, te)]
    rows = []
    for pooling in ("last", "mean"):
        rows.append(
            {
                "framework": "pytorch",
                "pooling": pooling,
                **torch_run(splits, vocab, args.epochs, args.seed, pooling),
            }
        )
        rows.append(
            {
                "framework": "rnnkit",
                "pooling": pooling,
                **rnnkit_run((tr, va, te), args.epochs, args.seed, pooling),
            }
        )
    if args.json:
        print(json.dumps({"epochs": args.epochs, "seed": args.seed, "results": rows}))
        return
    print(f"MR test accuracy, {args.epochs} epochs, seed {args.seed}")
    print(f"{'framework':<10}{'pooling':<9}{'last epoch':>11}{'best dev loss':>15}{'seconds':>9}")
    for r in rows:
        last = f"{r['last']:.4f}" if "last" in r else "-"
        print(
            f"{r['framework']:<10}{r['pooling']:<9}{last:>11}"
            f"{r['best_dev_loss']:>15.4f}{r['seconds']:>9.1f}"
        )


if __name__ == "__main__":
    main()
