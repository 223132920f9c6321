"""The verbs of ``rnnkit`` for classification (train, evaluate, predict) and summary."""

from __future__ import annotations

import argparse
import json
import shlex
import time
from pathlib import Path
from typing import Any

import numpy as np

from rnnkit.cli.settings import model_settings, split_indices
from rnnkit.data import Table, check_labels, read_table
from rnnkit.errors import ConfigError, DataError
from rnnkit.metrics import ClassificationReport, LabellingReport
from rnnkit.models import (
    BagOfWordsClassifier,
    LanguageModel,
    SequenceClassifier,
    SequenceTagger,
    load_model,
)
from rnnkit.models.classifier import DEFAULTS as CLASSIFIER_DEFAULTS
from rnnkit.models.seq2seq import Seq2Seq
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


def _subset(table: Table, idx: np.ndarray) -> Table:
    return Table(
        [table.texts[i] for i in idx],
        [table.labels[i] for i in idx],
        table.path,
        [table.lines[i] for i in idx],
    )


def train(args: argparse.Namespace) -> int:
    """``rnnkit train``: dispatch on --task."""
    if not 0.0 <= args.valid_split < 1.0:
        raise ConfigError(f"--valid-split {args.valid_split}: must lie in [0, 1)")
    if args.task != "seq2seq":
        _refuse_pair_levels(args, "applies to --task seq2seq only")
    if args.task == "tag":
        from rnnkit.cli.tagging import train_tagger

        return train_tagger(args)
    if args.task == "lm":
        from rnnkit.cli.language import train_lm

        return train_lm(args)
    if args.task == "seq2seq":
        from rnnkit.cli.seq2seq import train_seq2seq

        return train_seq2seq(args)
    return train_classifier(args)


def _refuse_pair_levels(args: argparse.Namespace, why: str) -> None:
    for flag in ("source_level", "target_level"):
        if getattr(args, flag, None) is not None:
            raise ConfigError(f"--{flag.replace('_', '-')} {why}")


def train_classifier(args: argparse.Namespace) -> int:
    if args.tag_col is not None:
        raise ConfigError("--tag-col does not apply to --task classify")
    settings = model_settings(args, CLASSIFIER_DEFAULTS, "classify")
    data = read_labelled(args.data, args)
    check_labels(data.labels, data.path)
    if args.valid:
        valid: Table | None = read_labelled(args.valid, args)
    elif args.valid_split > 0:
        keep, held = split_indices(len(data), args.valid_split, args.seed)
        data, valid = _subset(data, keep), _subset(data, held)
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
        model = SequenceClassifier(**settings)
        valid_pair = None if valid is None else (valid.texts, valid.labels)
        model.fit(data.texts, data.labels, valid=valid_pair)
    seconds = time.perf_counter() - started
    model.save(args.out, extra=run_record(args, seconds))
    print(f"trained in {seconds:.1f}s; model saved to {args.out}")
    held_out = "" if args.valid else f"{args.valid_split:.0%} held out of "
    for name, table, where in (("validation", valid, held_out), ("test", test, "")):
        if table is not None:
            report = model.evaluate(table.texts, table.labels)
            print(f"\n{name} ({where}{table.path}):")
            print_report(report, Path(args.out) / f"confusion_{name}.png" if args.plot else None)
    return 0


def run_record(args: argparse.Namespace, seconds: float) -> dict[str, Any]:
    """What config.json keeps of a training run: seed, command line, data, time."""
    return {
        "seed": args.seed,
        "command": "rnnkit " + shlex.join(args.argv),
        "data": str(args.data),
        "train_seconds": round(seconds, 2),
    }


def print_report(report: ClassificationReport | LabellingReport, png: Path | None = None) -> None:
    """The report's tables, and its confusion matrix as a PNG when `png` is given."""
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
    _refuse_pair_levels(args, "is a training flag: a seq2seq model keeps its levels")
    model = load_model(args.model_dir)
    if isinstance(model, Seq2Seq):
        from rnnkit.cli.seq2seq import evaluate_seq2seq

        return evaluate_seq2seq(args, model)
    if args.beam is not None:
        raise ConfigError("--beam applies to seq2seq models only")
    if isinstance(model, SequenceTagger):
        from rnnkit.cli.tagging import evaluate_tagger

        return evaluate_tagger(args, model)
    if isinstance(model, LanguageModel):
        from rnnkit.cli.language import evaluate_lm

        return evaluate_lm(args, model)
    if args.format not in (None, "table"):
        raise ConfigError(f"--format {args.format} is for taggers; a classifier reads a table")
    data = read_labelled(args.data, args)
    check_known_labels(data, model.labels_)
    show_report(model.evaluate(data.texts, data.labels), args)
    return 0


def show_report(report: Any, args: argparse.Namespace) -> None:
    """``evaluate``'s output: one JSON object with --json, else the tables; --plot PNG."""
    png = Path(args.plot) if args.plot else None
    if not args.json:
        print_report(report, png)
        return
    print(json.dumps(report.to_dict()))
    if png is not None:
        from rnnkit.viz import plot_confusion_matrix

        plot_confusion_matrix(report.cm, report.labels, png)


def predict(args: argparse.Namespace) -> int:
    model = load_model(args.model_dir)
    if isinstance(model, SequenceTagger):
        raise ConfigError(f"{args.model_dir}: a tagger; use rnnkit tag to tag sentences")
    if isinstance(model, LanguageModel):
        raise ConfigError(f"{args.model_dir}: a language model; use rnnkit generate")
    if isinstance(model, Seq2Seq):
        raise ConfigError(f"{args.model_dir}: a seq2seq model; use rnnkit translate")
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
    if isinstance(model, Seq2Seq):
        model.model_.summary()
        print(
            f"source vocabulary: {len(model.source_vocab_):,} tokens; "
            f"target vocabulary: {len(model.vocab_):,} tokens"
        )
        settings = {k: v for k, v in model.settings.items() if k != "verbose"}
        print("settings: " + ", ".join(f"{k}={v}" for k, v in settings.items()))
    elif isinstance(model, LanguageModel):
        model.model_.summary()
        print(f"{model.settings['level']}-level language model; vocabulary: {len(model.vocab_):,}")
        settings = {k: v for k, v in model.settings.items() if k != "verbose"}
        print("settings: " + ", ".join(f"{k}={v}" for k, v in settings.items()))
    elif isinstance(model, SequenceClassifier | SequenceTagger):
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
