"""The verbs of ``rnnkit`` for classification: train, evaluate, predict, summary."""

from __future__ import annotations

import argparse
import json
import shlex
import time
from pathlib import Path
from typing import Any

import numpy as np

from rnnkit.data import Table, check_labels, read_table
from rnnkit.errors import ConfigError, DataError
from rnnkit.metrics import ClassificationReport
from rnnkit.models import BagOfWordsClassifier, SequenceClassifier, load_model
from rnnkit.models.sequential import Sequential

__all__ = ["evaluate", "predict", "print_report", "summary", "train"]


def read_labelled(path: str, args: argparse.Namespace) -> Table:
    """Read a labelled table with the format flags of the command line."""
    return read_table(
        path,
        text_col=args.text_col,
        label_col=args.label_col,
        header=not args.no_header,
        delimiter=args.delimiter,
        encoding=args.encoding,
    )


def _split(table: Table, fraction: float, seed: int) -> tuple[Table, Table]:
    """Hold out a stratified-by-shuffle fraction of `table` for validation."""
    if not 0.0 < fraction < 1.0:
        raise ConfigError(f"--valid-split {fraction}: must lie in (0, 1), or 0 for none")
    order = np.random.default_rng([seed, 2]).permutation(len(table))
    n_valid = max(1, round(fraction * len(table)))
    parts = []
    for idx in (np.sort(order[n_valid:]), np.sort(order[:n_valid])):
        parts.append(
            Table(
                [table.texts[i] for i in idx],
                [table.labels[i] for i in idx],
                table.path,
                [table.lines[i] for i in idx],
            )
        )
    return parts[0], parts[1]


def _check_train_args(args: argparse.Namespace) -> None:
    positive = {
        "--hidden": args.hidden,
        "--embed": args.embed,
        "--epochs": args.epochs,
        "--batch-size": args.batch_size,
        "--lr": args.lr,
        "--min-freq": args.min_freq,
    }
    for flag, value in positive.items():
        if not value > 0:
            raise ConfigError(f"{flag} {value}: must be positive")
    for flag, value in {"--dropout": args.dropout, "--embed-dropout": args.embed_dropout}.items():
        if not 0.0 <= value < 1.0:
            raise ConfigError(f"{flag} {value}: must lie in [0, 1)")
    if args.clip < 0 or (args.max_minutes is not None and not args.max_minutes > 0):
        raise ConfigError("--clip must be >= 0 and --max-minutes > 0")
    if not 0.0 <= args.valid_split < 1.0:
        raise ConfigError(f"--valid-split {args.valid_split}: must lie in [0, 1)")
    if args.max_vocab is not None and args.max_vocab < 1:
        raise ConfigError(f"--max-vocab {args.max_vocab}: must be positive")
    if args.patience < 1:
        raise ConfigError(f"--patience {args.patience}: must be at least 1")


def train(args: argparse.Namespace) -> int:
    _check_train_args(args)
    data = read_labelled(args.data, args)
    check_labels(data.labels, data.path)
    if args.valid:
        valid: Table | None = read_labelled(args.valid, args)
    elif args.valid_split > 0:
        data, valid = _split(data, args.valid_split, args.seed)
    else:
        valid = None
    test = read_labelled(args.test, args) if args.test else None
    known = set(data.labels)
    for table in (valid, test):
        if table is not None:
            check_known_labels(table, known)
    started = time.perf_counter()
    model: Any
    if args.model == "bow-nb":
        model = BagOfWordsClassifier().fit(data.texts, data.labels)
    else:
        model = SequenceClassifier(
            level=args.level,
            embed_dim=args.embed,
            one_hot=args.one_hot,
            hidden=args.hidden,
            activation=args.activation,
            pooling=args.pooling,
            dropout=args.dropout,
            embed_dropout=args.embed_dropout,
            min_freq=args.min_freq,
            max_vocab=args.max_vocab,
            optimizer=args.optimizer,
            lr=args.lr,
            batch_size=args.batch_size,
            epochs=args.epochs,
            clip_norm=args.clip or None,
            patience=args.patience,
            max_minutes=args.max_minutes,
            seed=args.seed,
        )
        valid_pair = None if valid is None else (valid.texts, valid.labels)
        model.fit(data.texts, data.labels, valid=valid_pair)
    seconds = time.perf_counter() - started
    extra = {
        "seed": args.seed,
        "command": "rnnkit " + shlex.join(args.argv),
        "data": str(args.data),
        "train_seconds": round(seconds, 2),
    }
    model.save(args.out, extra=extra)
    print(f"trained in {seconds:.1f}s; model saved to {args.out}")
    held_out = "" if args.valid else f"{args.valid_split:.0%} held out of "
    for name, table, where in (("validation", valid, held_out), ("test", test, "")):
        if table is not None:
            report = model.evaluate(table.texts, table.labels)
            print(f"\n{name} ({where}{table.path}):")
            print_report(report, Path(args.out) / f"confusion_{name}.png" if args.plot else None)
    return 0


def print_report(report: ClassificationReport, png: Path | None = None) -> None:
    print(report.format())
    if png is not None:
        from rnnkit.viz import plot_confusion_matrix

        plot_confusion_matrix(report.cm, report.labels, png)
        print(f"confusion matrix plot: {png}")


def check_known_labels(table: Table, known: set[str] | list[str]) -> None:
    """Refuse a label the model was not trained on, naming its file and line."""
    for i, label in enumerate(table.labels):
        if label not in known:
            raise DataError(
                f"{table.where(i)}: label {label!r} was not seen in training "
                f"(known: {', '.join(sorted(known))})"
            )


def evaluate(args: argparse.Namespace) -> int:
    model = load_model(args.model_dir)
    data = read_labelled(args.data, args)
    check_known_labels(data, model.labels_)
    report = model.evaluate(data.texts, data.labels)
    if args.json:
        print(json.dumps(report.to_dict()))
        if args.plot:
            from rnnkit.viz import plot_confusion_matrix

            plot_confusion_matrix(report.cm, report.labels, args.plot)
    else:
        print_report(report, Path(args.plot) if args.plot else None)
    return 0


def predict(args: argparse.Namespace) -> int:
    model = load_model(args.model_dir)
    proba = model.predict_proba(args.texts)
    labels = model.labels_
    rows = []
    for text, p in zip(args.texts, proba, strict=False):
        k = int(np.argmax(p))
        rows.append(
            {
                "text": text,
                "label": labels[k],
                "probability": float(p[k]),
                "probabilities": {label: float(q) for label, q in zip(labels, p, strict=False)},
            }
        )
    if args.json:
        print(json.dumps(rows))
    else:
        width = max(len(r["label"]) for r in rows)
        for r in rows:
            print(f"{r['label']:<{width}}  {r['probability']:.3f}  {r['text']}")
    return 0


def summary(args: argparse.Namespace) -> int:
    model = load_model(args.model_dir)
    if isinstance(model, SequenceClassifier):
        net: Sequential = model.model_
        net.summary()
        print(f"labels: {', '.join(model.labels_)}; vocabulary: {len(model.vocab_):,} tokens")
        settings = {k: v for k, v in model.settings.items() if k != "verbose"}
        print("settings: " + ", ".join(f"{k}={v}" for k, v in settings.items()))
    else:
        nb = model.nb_
        print("bag-of-words + multinomial Naive Bayes (scikit-learn)")
        print(
            f"labels: {', '.join(model.labels_)}; "
            f"vocabulary: {len(nb.vectorizer_.get_feature_names_out()):,} n-grams; alpha={nb.alpha}"
        )
    return 0
