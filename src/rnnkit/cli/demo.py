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

from rnnkit.cli.commands import print_report
from rnnkit.data import Table, load_mr
from rnnkit.errors import ConfigError
from rnnkit.models import BagOfWordsClassifier, SequenceClassifier

__all__ = ["run"]

#: MR's labels are 0 and 1; the demo names them
LABEL_NAMES = {"0": "negative", "1": "positive"}
REVIEWS = ["movie was good", "movie was bad", "movie was not good"]


def _named(table: Table) -> tuple[list[str], list[str]]:
    return table.texts, [LABEL_NAMES[label] for label in table.labels]


def run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    if args.epochs < 1 or not args.max_minutes > 0:
        raise ConfigError("--epochs must be at least 1 and --max-minutes positive")
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
    print(
        f"\ntrained {len(h.epochs)} epochs in {h.seconds:.1f}s "
        f"(best dev accuracy at epoch {h.best_epoch}; stopped by {h.stopped.replace('_', ' ')})"
    )

    print()
    clf.model_.summary()

    report = clf.evaluate(*test)
    print("\nMR test split:")
    png = None
    try:
        import matplotlib  # noqa: F401

        png = Path(args.out) / "confusion_test.png"
    except ImportError:
        pass
    clf.save(
        args.out,
        extra={"seed": args.seed, "command": "rnnkit demo", "test_accuracy": report.accuracy},
    )
    print_report(report, png)

    print("\nthe lecture's reviews:")
    for text, p in zip(REVIEWS, clf.predict_proba(REVIEWS), strict=False):
        label = clf.labels_[int(p.argmax())]
        print(
            f"  {text!r:<22} -> {label:<8} (P(positive) = {p[clf.labels_.index('positive')]:.3f})"
        )

    try:
        baseline = BagOfWordsClassifier().fit(*train).evaluate(*test)
        print(
            f"\nbaseline, bag of words + Naive Bayes: test accuracy {baseline.accuracy:.4f} "
            f"(RNN: {report.accuracy:.4f})"
        )
    except ConfigError as exc:  # scikit-learn not installed
        print(f"\nbaseline skipped: {exc}")
    print(f'\nmodel saved to {args.out}/  (try: rnnkit predict {args.out} "a gripping film")')
    print(f"total time {time.perf_counter() - started:.1f}s")
    return 0
