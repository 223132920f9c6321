"""Japanese Vowels with few training recordings: rnnkit's defaults against the PyTorch peer.

    python benchmarks/small_data.py rnnkit --per-speaker 4 --draws 0 1 2
    python benchmarks/small_data.py torch --per-speaker 4 --draws 0 1 2 --lr 2e-3
    python benchmarks/small_data.py rnnkit --per-speaker 30        # the full 270

Each draw takes `--per-speaker` training recordings from each of the 9 speakers
(``numpy.random.default_rng(draw)``; 30 is all of them), writes them to a frames CSV
and trains on it: ``rnnkit train --task classify --format frames`` with its defaults and
``--test`` the full test split, or the PyTorch GRU of ``frames_torch.py`` on all the
drawn recordings (60 epochs, batches of 32). The figure is the test accuracy over the
370 test recordings. Needs ../shared/data (and PyTorch for ``torch``).
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "japanese_vowels"
TRAIN, TEST = DATA / "JapaneseVowels_TRAIN.csv", DATA / "JapaneseVowels_TEST.csv"


def draw_subset(per_speaker: int, draw: int, out: Path) -> int:
    """Write `per_speaker` recordings of each speaker to `out`: the number written."""
    with TRAIN.open(newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    by_speaker: dict[str, list[str]] = {}
    for series, label, *_ in body:
        ids = by_speaker.setdefault(label, [])
        if series not in ids:
            ids.append(series)
    rng = np.random.default_rng(draw)
    chosen = {s for ids in by_speaker.values() for s in rng.choice(ids, per_speaker, replace=False)}
    with out.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(r for r in body if r[0] in chosen)
    return len(chosen)


def rnnkit_accuracy(train_csv: Path, workdir: Path, extra: list[str]) -> float:
    out = workdir / "model"
    command = [sys.executable, "-m", "rnnkit.cli.main", "train", "--task", "classify",
               "--format", "frames", "--data", str(train_csv), "--test", str(TEST),
               "--out", str(out), *extra]  # fmt: skip
    run = subprocess.run(command, capture_output=True, text=True, check=True)
    for line in run.stdout.splitlines():
        if (
            "for training" in line
            or "training sequences" in line
            or line.startswith(("stopped", "trained"))
        ):
            print("   ", line)
    record = json.loads((out / "evaluation.json").read_text())
    return float(record["parts"]["test"]["report"]["accuracy"])


def torch_accuracy(train_csv: Path, args: argparse.Namespace, seed: int) -> float:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import torch
    from frames_torch import build, padded, predict, train_epoch

    from rnnkit.data import read_frames

    torch.set_num_threads(1)
    train, test = read_frames(train_csv), read_frames(TEST)
    classes = sorted(set(train.labels))
    frames = np.concatenate(train.sequences)
    mean, std = frames.mean(0), frames.std(0)

    def tensors(fs):
        x, lengths = padded(torch, [(s - mean) / std for s in fs.sequences], torch.float32)
        return x, lengths, torch.tensor([classes.index(c) for c in fs.labels])

    tr, te = tensors(train), tensors(test)
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    net = build(torch, args, len(train.features), len(classes))
    opt = torch.optim.Adam(net.parameters(), lr=args.lr)
    for _ in range(args.epochs):
        train_epoch(torch, net, opt, tr, args.batch_size, gen)
    return float((predict(torch, net, te) == te[2].numpy()).mean())


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("side", choices=["rnnkit", "torch"])
    p.add_argument("--per-speaker", type=int, default=4)
    p.add_argument("--draws", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--lr", type=float, default=2e-3, help="torch: Adam's learning rate")
    p.add_argument("--epochs", type=int, default=60, help="torch: epochs")
    p.add_argument("--batch-size", type=int, default=32, help="torch: batch size")
    p.add_argument("--rnnkit-args", default="", help="rnnkit: extra train flags")
    args = p.parse_args(argv)
    args.cell, args.hidden, args.dropout = "gru", 128, 0.0
    if not DATA.is_dir():
        print(f"no data at {DATA}", file=sys.stderr)
        return 2
    accs = []
    for draw in args.draws:
        with tempfile.TemporaryDirectory() as tmp:
            train_csv = Path(tmp) / "train.csv"
            n = draw_subset(args.per_speaker, draw, train_csv)
            if args.side == "rnnkit":
                acc = rnnkit_accuracy(train_csv, Path(tmp), args.rnnkit_args.split())
            else:
                acc = torch_accuracy(train_csv, args, seed=draw)
        accs.append(acc)
        print(f"draw {draw}: {n} training recordings, test accuracy {acc:.4f}", flush=True)
    print(f"{args.side}: mean test accuracy {np.mean(accs):.4f} "
          f"({' '.join(f'{a:.4f}' for a in accs)})")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
