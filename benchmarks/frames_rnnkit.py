"""rnnkit's defaults on Japanese Vowels and on surnames by language, beside the PyTorch peer.

    python benchmarks/frames_rnnkit.py vowels [--seeds 0 1 2] [--setting key=value ...]
    python benchmarks/frames_rnnkit.py names [--minutes 3] [--setting key=value ...]
    (either with --json out.json)

``vowels``: :class:`rnnkit.models.FrameClassifier` with its defaults on the
standardised 12 LPC cepstra a frame, 10% of the training utterances held out for early
stopping (as ``rnnkit train`` does), the given test split scored once at the end.
``names``: :class:`rnnkit.models.SequenceClassifier` at character level on the same
splits as ``frames_torch.py names``: 10% of the distinct names held out for test,
10% of the rest for validation (``split_indices`` with the names as groups), a
wall-clock budget. Prints the test accuracy and the per-class table, and writes the
confusion matrix PNG with ``--plot``. Needs ../shared/data.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from rnnkit.data import read_frames, read_label_files, split_indices
from rnnkit.models import FrameClassifier, SequenceClassifier

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def _value(text: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def vowels(args, settings: dict) -> dict:
    root = DATA / "japanese_vowels"
    train, test = (read_frames(root / f"JapaneseVowels_{s}.csv") for s in ("TRAIN", "TEST"))
    runs = []
    for seed in args.seeds:
        keep, held = split_indices(len(train), 0.1, seed)
        fit, valid = train.subset(keep), train.subset(held)
        model = FrameClassifier(**{"seed": seed, "verbose": 0, **settings})
        t0 = time.perf_counter()
        model.fit(fit.sequences, fit.labels, (valid.sequences, valid.labels), train.features)
        seconds = time.perf_counter() - t0
        report = model.evaluate(test.sequences, test.labels)
        h = model.history_
        print(f"seed {seed}  test accuracy {report.accuracy:.4f}  ({seconds:.1f}s, "
              f"{len(h.epochs)} epochs, best {h.best_epoch})", flush=True)  # fmt: skip
        runs.append({"seed": seed, "accuracy": report.accuracy, "seconds": seconds,
                     "epochs": len(h.epochs), "report": report.to_dict()})  # fmt: skip
    accuracy = float(np.mean([r["accuracy"] for r in runs]))
    print(f"test accuracy mean {accuracy:.4f}  settings {model.settings}")
    if args.plot:
        from rnnkit.viz import plot_confusion_matrix

        plot_confusion_matrix(report.cm, report.labels, args.plot)
    return {"accuracy": accuracy, "runs": runs, "settings": model.settings}


def names(args, settings: dict) -> dict:
    corpus = read_label_files(DATA / "names_by_language")
    texts = corpus.texts
    keep, test = split_indices(len(texts), 0.1, args.split_seed, groups=texts)
    fit, valid = split_indices(len(keep), 0.1, args.split_seed, groups=[texts[i] for i in keep])
    train, valid = keep[fit], keep[valid]
    part = corpus.subset
    model = SequenceClassifier(**{"level": "char", "max_minutes": args.minutes, **settings})
    t0 = time.perf_counter()
    model.fit(part(train).texts, part(train).labels, (part(valid).texts, part(valid).labels))
    seconds = time.perf_counter() - t0
    report = model.evaluate(part(test).texts, part(test).labels)
    print(report.format())
    h = model.history_
    rate = np.mean([e["tokens_per_s"] for e in h.epochs])
    print(f"test accuracy {report.accuracy:.4f}  macro F1 {report.macro_f1:.4f}  "
          f"{len(train)} / {len(valid)} / {len(test)} names; {seconds:.1f}s, "
          f"{len(h.epochs)} epochs (best {h.best_epoch}), {rate:,.0f} chars/s")  # fmt: skip
    if args.plot:
        from rnnkit.viz import plot_confusion_matrix

        plot_confusion_matrix(report.cm, report.labels, args.plot)
        print(f"confusion matrix: {args.plot}")
    return {"accuracy": report.accuracy, "report": report.to_dict(), "seconds": seconds,
            "epochs": len(h.epochs), "best_epoch": h.best_epoch, "chars_per_s": float(rate),
            "settings": model.settings}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--setting", action="append", default=[], metavar="KEY=VALUE")
    common.add_argument("--json", type=Path, help="also write the figures here")
    common.add_argument("--plot", type=Path, help="write the test confusion matrix (PNG)")
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="task", required=True)
    vw = sub.add_parser("vowels", parents=[common], help="Japanese Vowels, speaker id")
    vw.add_argument("--seeds", type=int, nargs="+", default=[0])
    nm = sub.add_parser("names", parents=[common], help="surname -> language")
    nm.add_argument("--minutes", type=float, default=3.0, help="training time budget")
    nm.add_argument("--split-seed", type=int, default=0)
    args = p.parse_args(argv)
    where = DATA / ("japanese_vowels" if args.task == "vowels" else "names_by_language")
    if not where.is_dir():
        print(f"no data at {where}", file=sys.stderr)
        return 2
    settings = {k: _value(v) for k, v in (kv.split("=", 1) for kv in args.setting)}
    figures = (vowels if args.task == "vowels" else names)(args, settings)
    if args.json is not None:
        args.json.write_text(json.dumps({"task": args.task, **figures}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
