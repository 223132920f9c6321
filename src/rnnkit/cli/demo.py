"""``rnnkit demo``: the main job, a sentiment RNN trained on the bundled MR reviews.

Trains the lecture's many-to-one network (embedding -> SimpleRNN -> Dense sigmoid) on
the MR training split, keeps the epoch that scores best on the dev split, reports the
test split, shows predictions for the lecture's three reviews, compares with the
bag-of-words Naive Bayes baseline and saves the model directory.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from rnnkit.cli.outputs import draw_curves, write_evaluation
from rnnkit.cli.tasks.finish import print_report
from rnnkit.cli.train_flags import non_negative
from rnnkit.data import Table, load_mr
from rnnkit.errors import ConfigError
from rnnkit.models import BagOfWordsClassifier, SequenceClassifier

__all__ = ["add_parser", "run"]

#: MR's labels are 0 and 1; the demo names them
LABEL_NAMES = {"0": "negative", "1": "positive"}
REVIEWS = ["movie was good", "movie was bad", "movie was not good"]


def add_parser(sub: Any) -> argparse.ArgumentParser:
    """The ``demo`` verb."""
    d = sub.add_parser("demo", help="train a sentiment RNN on the bundled MR reviews")
    d.add_argument("--out", default="rnnkit-demo-model", help="model directory to write")
    d.add_argument("--epochs", type=int, default=30, help="training epochs, at most (%(default)s)")
    d.add_argument("--seed", type=int, default=0, help="seed of every random draw (%(default)s)")
    d.add_argument(
        "--max-minutes", type=float, default=4.0, help="training time budget, minutes (%(default)s)"
    )
    return d


def _named(table: Table) -> tuple[list[str], list[str]]:
    return table.texts, [LABEL_NAMES[label] for label in table.labels]


def run(args: argparse.Namespace) -> int:
    """Train, report, compare with the baseline and save (see the module docstring)."""
    started = time.perf_counter()
    if args.epochs < 1 or not args.max_minutes > 0:
        raise ConfigError("--epochs must be at least 1 and --max-minutes positive")
    non_negative("--seed", args.seed)
    train, dev, test = (_named(load_mr(split)) for split in ("train", "dev", "test"))
    print("rnnkit demo: sentence sentiment on MR (Pang & Lee 2005, bundled)")
    print(f"  {len(train[0]):,} training, {len(dev[0]):,} dev and {len(test[0]):,} test reviews")
    print(
        "  many-to-one RNN: embedding -> SimpleRNN(128, tanh) -> mean of its states -> "
        "Dense(1, sigmoid)\n"
        f"  the best dev epoch is kept; at most {args.epochs} epochs / "
        f"{args.max_minutes:g} minutes\n"
    )
    clf = SequenceClassifier(epochs=args.epochs, seed=args.seed, max_minutes=args.max_minutes)
    clf.fit(*train, valid=dev)
    h = clf.history_
    stopped = {
        "epochs": "after the last epoch",
        "early_stopping": "by early stopping",
        "time_budget": "by the time budget",
    }[h.stopped]
    print(
        f"\ntrained {len(h.epochs)} epochs in {h.seconds:.1f}s, stopped {stopped}; "
        f"kept epoch {h.best_epoch}, the lowest dev loss\n"
    )
    clf.model_.summary()

    report = clf.evaluate(*test)
    clf.save(
        args.out,
        extra={"seed": args.seed, "command": "rnnkit demo", "test_accuracy": report.accuracy},
    )
    print("\nMR test split:")
    print_report(report, Path(args.out) / "confusion_test.png" if _can_plot() else None)
    write_evaluation(args.out, "classify", [("test", "MR test split (bundled)", report)])
    draw_curves(args.out, h.to_dict(), "classify")

    try:
        baseline: BagOfWordsClassifier | None = BagOfWordsClassifier().fit(*train)
    except ConfigError as exc:  # scikit-learn not installed
        baseline = None
        print(f"\nbaseline skipped: {exc}")
    print("\nthe lecture's reviews, P(positive):")
    rnn_p = clf.predict_proba(REVIEWS)[:, clf.labels_.index("positive")]
    nb_p = None if baseline is None else baseline.predict_proba(REVIEWS)[:, 1]
    for i, text in enumerate(REVIEWS):
        label = "positive" if rnn_p[i] > 0.5 else "negative"
        line = f"  {text!r:<22} RNN {rnn_p[i]:.3f} ({label})"
        print(line if nb_p is None else f"{line}   bag of words {nb_p[i]:.3f}")
    print(
        "  (in MR, 'good' is as common in negative reviews as in positive ones, and "
        "'movie' and 'was' lean negative)"
    )
    if baseline is not None:
        acc = baseline.evaluate(*test).accuracy
        print(
            f"\nbaseline, bag of words + Naive Bayes: test accuracy {acc:.4f} "
            f"(RNN: {report.accuracy:.4f})"
        )
    print(f'\nmodel saved to {args.out}/  (try: rnnkit predict {args.out} "a gripping film",')
    print(f'  rnnkit trace {args.out} "movie was good", or rnnkit report {args.out})')
    print(f"total time {time.perf_counter() - started:.1f}s")
    return 0


def _can_plot() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True
