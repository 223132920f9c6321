"""The verbs of ``rnnkit`` for classification (train, evaluate, predict) and summary."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from rnnkit.cli.data_flags import (
    chosen_format,
    either,
    format_options,
    option,
    refuse_format,
    refuse_format_flags,
)
from rnnkit.cli.outputs import (
    draw_curves,
    run_record,
    use_checkpoints,
    use_grad_log,
    write_evaluation,
)
from rnnkit.cli.seq2seq import LEVEL_FLAGS
from rnnkit.cli.train_flags import model_settings
from rnnkit.data import FrameSet, Table, check_labels, formats_for, get_format
from rnnkit.data.splits import split_indices
from rnnkit.errors import ConfigError, DataError
from rnnkit.metrics import ClassificationReport, LabellingReport
from rnnkit.models import (
    BagOfWordsClassifier,
    FrameRegressor,
    LanguageModel,
    SequenceClassifier,
    SequenceTagger,
    load_model,
)
from rnnkit.models.frames import FrameModel
from rnnkit.models.seq2seq import Seq2Seq

__all__ = [
    "evaluate",
    "finish_training",
    "predict",
    "print_report",
    "score",
    "summary",
    "train",
    "use_checkpoints",
]


def read_labelled(path: str, args: argparse.Namespace) -> Table:
    """Read labelled texts: a table, or a directory of <Label>.txt files (label-files)."""
    message = "--format {format} does not apply to text classification"
    refuse_format(args, "classify", Table, message)
    fmt = chosen_format(args, path, "classify", Table)
    assert fmt is not None  # a table is classify's default
    return fmt.read(path, **format_options(args, fmt))


def train(args: argparse.Namespace) -> int:
    """``rnnkit train``: dispatch on --task."""
    if not 0.0 <= args.valid_split < 1.0:
        raise ConfigError(f"--valid-split {args.valid_split}: must lie in [0, 1)")
    message = "{flag} applies to --task {tasks} only"
    refuse_format_flags(args, formats_for(args.task), LEVEL_FLAGS, message)
    fmt = chosen_format(args, args.data, args.task)
    if args.task == "regress" or (fmt is not None and fmt.returns is FrameSet):
        if fmt is not None and fmt.returns is FrameSet and args.task not in fmt.tasks:
            raise ConfigError(f"--format {fmt.name} is for --task {either(fmt.tasks)}")
        from rnnkit.cli.frames import train_frames

        return train_frames(args)
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


def _real_valued(name: str | None) -> bool:
    """Whether --format names a format of real-valued sequences (frames, npz)."""
    return name is not None and get_format(name).returns is FrameSet


def train_classifier(args: argparse.Namespace) -> int:
    texts = formats_for("classify", Table)
    refuse_format_flags(args, texts, ("tag_col",), "{flag} does not apply to --task classify")
    settings = model_settings(args, "classify")
    data = read_labelled(args.data, args)
    check_labels(data.labels, data.path)
    if args.valid:
        valid: Table | None = read_labelled(args.valid, args)
    elif args.valid_split > 0:
        # a text that occurs more than once is held out wholly or not at all
        keep, held = split_indices(len(data), args.valid_split, args.seed, groups=data.texts)
        data, valid = data.subset(keep), data.subset(held)
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
        if args.resume or args.checkpoint_every is not None or args.log_grad_norms:
            raise ConfigError(
                "--resume, --checkpoint-every and --log-grad-norms apply to the recurrent network"
            )
        model = BagOfWordsClassifier().fit(data.texts, data.labels)
    else:
        model = SequenceClassifier(**settings)
        use_checkpoints(model, args)
        use_grad_log(model, args)
        valid_pair = None if valid is None else (valid.texts, valid.labels)
        model.fit(data.texts, data.labels, valid=valid_pair)
    finish_training(args, model, started, valid, test, lambda t: model.evaluate(t.texts, t.labels))
    return 0


def finish_training(
    args: argparse.Namespace,
    model: Any,
    started: float,
    valid: Any,
    test: Any,
    evaluate: Callable[[Any], Any],
) -> None:
    """Save the model and draw its curves, then report on the validation part and the
    --test file (printed, and recorded in OUT/evaluation.json).

    `evaluate` scores one part (a table, corpus or frame set with a ``path``); with
    --plot, a report that has a confusion matrix is also drawn beside the model.
    """
    seconds = time.perf_counter() - started
    if getattr(model, "truncated_", 0):
        limit = model.settings["max_len"]
        print(
            f"warning: {model.truncated_:,} training sequences were longer than {limit} "
            f"steps and were cut to their first {limit} (--max-len)",
            file=sys.stderr,
        )
    model.save(args.out, extra=run_record(args, seconds))
    print(f"trained in {seconds:.1f}s; model saved to {args.out}")
    if hasattr(model, "history_"):  # not the bag-of-words baseline: it has no epochs
        draw_curves(args.out, model.history_.to_dict(), args.task)
    held_out = "" if args.valid else f"{args.valid_split:.0%} held out of "
    parts = []
    for name, part, where in (("validation", valid, held_out), ("test", test, "")):
        if part is not None:
            report = evaluate(part)
            parts.append((name, f"{where}{part.path}", report))
            print(f"\n{name} ({where}{part.path}):")
            plot = args.plot and hasattr(report, "cm")
            print_report(report, Path(args.out) / f"confusion_{name}.png" if plot else None)
    write_evaluation(args.out, args.task, parts)


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
    for dest in LEVEL_FLAGS:
        if getattr(args, dest, None) is not None:
            raise ConfigError(
                f"{option(dest)} is a training flag: a seq2seq model keeps its levels"
            )
    model = load_model(args.model_dir)
    if args.beam is not None and not isinstance(model, Seq2Seq):
        raise ConfigError("--beam applies to seq2seq models only")
    if args.plot:
        if isinstance(model, (LanguageModel, FrameRegressor)):
            kind = "language model" if isinstance(model, LanguageModel) else "regressor"
            raise ConfigError(f"--plot draws a confusion matrix: a {kind} has none")
        if isinstance(model, Seq2Seq):
            raise ConfigError("--plot draws a confusion matrix; use rnnkit translate --plot PNG")
    show_report(score(args, model), args)
    return 0


def score(args: argparse.Namespace, model: Any) -> Any:
    """The report of `model` on --data, read with the command line's format flags for
    the model's task: what ``rnnkit evaluate`` prints and ``rnnkit report`` shows."""
    if isinstance(model, FrameModel):
        from rnnkit.cli.frames import score_frames

        return score_frames(args, model)
    if _real_valued(args.format):
        raise ConfigError(f"--format {args.format}: {args.model_dir} does not read frames")
    if isinstance(model, Seq2Seq):
        from rnnkit.cli.seq2seq import score_seq2seq

        return score_seq2seq(args, model)
    if isinstance(model, SequenceTagger):
        from rnnkit.cli.tagging import score_tagger

        return score_tagger(args, model)
    if isinstance(model, LanguageModel):
        from rnnkit.cli.language import score_lm

        return score_lm(args, model)
    data = read_labelled(args.data, args)
    check_known_labels(data, model.labels_)
    return model.evaluate(data.texts, data.labels)


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
    if isinstance(model, FrameModel):
        from rnnkit.cli.frames import predict_frames

        return predict_frames(args, model)
    if args.data is not None:
        raise ConfigError(f"{args.model_dir} reads text: give the texts, not --data")
    if not args.texts:
        raise ConfigError("give at least one TEXT to classify")
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
    if isinstance(model, BagOfWordsClassifier):
        nb = model.nb_
        print("bag-of-words + multinomial Naive Bayes (scikit-learn)")
        print(
            f"labels: {', '.join(model.labels_)}; "
            f"vocabulary: {len(nb.vectorizer_.get_feature_names_out()):,} n-grams; alpha={nb.alpha}"
        )
        return 0
    model.model_.summary()
    if isinstance(model, Seq2Seq):
        print(
            f"source vocabulary: {len(model.source_vocab_):,} tokens; "
            f"target vocabulary: {len(model.vocab_):,} tokens"
        )
    elif isinstance(model, LanguageModel):
        print(f"{model.settings['level']}-level language model; vocabulary: {len(model.vocab_):,}")
    elif isinstance(model, FrameModel):
        names = model.features_
        shown = ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")
        scaling = "standardised" if model.scaler_ is not None else "not scaled"
        print(f"inputs: {len(names)} real-valued features ({shown}), {scaling}")
        if isinstance(model, FrameRegressor):
            kind = "per frame" if model.per_step_ else "per sequence"
            print(f"outputs: {len(model.outputs_)} values {kind}")
        else:
            print(f"labels: {', '.join(model.labels_)}")
    else:
        print(f"labels: {', '.join(model.labels_)}; vocabulary: {len(model.vocab_):,} tokens")
    settings = {k: v for k, v in model.settings.items() if k != "verbose"}
    print("settings: " + ", ".join(f"{k}={v}" for k, v in settings.items()))
    return 0
