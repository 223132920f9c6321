"""Text classification: a table or a directory of label files, read for a
:class:`~rnnkit.models.SequenceClassifier` or the bag-of-words baseline."""

from __future__ import annotations

import argparse
import time
from typing import Any

from rnnkit.cli.data_flags import (
    chosen_format,
    format_options,
    refuse_format,
    refuse_format_flags,
    refuse_other_format_flags,
    report_skipped,
)
from rnnkit.cli.outputs import use_checkpoints, use_grad_log
from rnnkit.cli.ranks import use_group
from rnnkit.cli.tasks.finish import finish_training
from rnnkit.cli.train_flags import model_settings
from rnnkit.data import Table, check_labels, formats_for
from rnnkit.data.splits import split_indices
from rnnkit.errors import ConfigError, DataError
from rnnkit.models import BagOfWordsClassifier, SequenceClassifier

__all__ = ["check_known_labels", "read", "score", "train", "training_data"]


def read(path: str, args: argparse.Namespace) -> Table:
    """Read labelled texts: a table, or a directory of <Label>.txt files (label-files)."""
    refuse_format(
        args, "classify", Table, "--format {format} does not apply to text classification"
    )
    fmt = chosen_format(args, path, "classify", Table)
    assert fmt is not None  # a table is classify's default
    refuse_other_format_flags(args, fmt, ("on_bad_lines",))
    table = fmt.read(path, **format_options(args, fmt))
    report_skipped(table, args)
    return table


def check_known_labels(table: Table, known: set[str] | list[str]) -> None:
    """Refuse a label the model was not trained on, naming its file and line."""
    for i, label in enumerate(table.labels):
        if label not in known:
            raise DataError(
                f"{table.where(i)}: label {label!r} was not seen in training "
                f"(known: {', '.join(sorted(known))})"
            )


def train(args: argparse.Namespace) -> int:
    """``rnnkit train --task classify`` on texts."""
    texts = formats_for("classify", Table)
    refuse_format_flags(args, texts, ("tag_col",), "{flag} does not apply to --task classify")
    settings = model_settings(args, "classify")
    data = read(args.data, args)
    check_labels(data.labels, data.path)
    if args.valid:
        valid: Table | None = read(args.valid, args)
    elif args.valid_split > 0:
        # a text that occurs more than once is held out wholly or not at all
        keep, held = split_indices(len(data), args.valid_split, args.seed, groups=data.texts)
        data, valid = data.subset(keep), data.subset(held)
    else:
        valid = None
    test = read(args.test, args) if args.test else None
    known = set(data.labels)
    for table in (valid, test):
        if table is not None:
            check_known_labels(table, known)
    started = time.perf_counter()
    model: Any
    if args.model == "bow-nb":
        if (args.resume or args.checkpoint_every is not None or args.log_grad_norms
                or args.keep_checkpoint):  # fmt: skip
            raise ConfigError(
                "--resume, --checkpoint-every, --keep-checkpoint and --log-grad-norms apply "
                "to the recurrent network"
            )
        model = BagOfWordsClassifier().fit(data.texts, data.labels)
    else:
        model = SequenceClassifier(**settings)
        use_checkpoints(model, args)
        use_grad_log(model, args)
        use_group(model, args)
        valid_pair = None if valid is None else (valid.texts, valid.labels)
        model.fit(data.texts, data.labels, valid=valid_pair)
    finish_training(args, model, started, valid, test, lambda t: model.evaluate(t.texts, t.labels))
    return 0


def score(args: argparse.Namespace, model: Any) -> Any:
    """The classifier's report on the labelled texts of --data."""
    data = read(args.data, args)
    check_known_labels(data, model.labels_)
    return model.evaluate(data.texts, data.labels)


def training_data(model: Any, path: str, args: argparse.Namespace) -> Any:
    """The labelled texts of `path`, encoded as `model` was trained on them."""
    table = read(path, args)
    check_known_labels(table, model.labels_)
    return model.training_data(table.texts, table.labels)
