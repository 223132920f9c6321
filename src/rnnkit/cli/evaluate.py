"""``rnnkit evaluate DIR --data PATH [--json] [--plot PNG] [--beam K]``: score a saved
model on labelled data, read with the format flags of ``train`` for the model's task."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from rnnkit.cli.data_flags import add_format_flags, option
from rnnkit.cli.data_format import with_data_format
from rnnkit.cli.tasks import classify, frames, lm, seq2seq, tag
from rnnkit.cli.tasks.finish import print_report
from rnnkit.data import FrameSet, get_format
from rnnkit.errors import ConfigError
from rnnkit.models import FrameRegressor, LanguageModel, SequenceTagger, load_model
from rnnkit.models.frames import FrameModel
from rnnkit.models.seq2seq import Seq2Seq

__all__ = ["add_parser", "run", "score"]


def add_parser(sub: Any) -> argparse.ArgumentParser:
    """The ``evaluate`` verb, with the format flags of ``train``."""
    e = sub.add_parser("evaluate", help="score a saved model on labelled data")
    e.add_argument("model_dir", help="a model directory written by rnnkit train")
    e.add_argument("--data", required=True, help="labelled data, in a format of the model's task")
    e.add_argument("--json", action="store_true", help="print one JSON object")
    e.add_argument("--plot", metavar="PNG", help="write the confusion matrix as a PNG")
    e.add_argument("--beam", type=int, help="seq2seq: beam width (default: the model's)")
    add_format_flags(e)
    return e


def run(args: argparse.Namespace) -> int:
    """``rnnkit evaluate``: the flags that cannot apply are refused before reading."""
    for dest in seq2seq.LEVEL_FLAGS:
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
    _show(score(args, model), args)
    return 0


def score(args: argparse.Namespace, model: Any) -> Any:
    """The report of `model` on --data, read with the command line's format flags for
    the model's task (those left out: as recorded with the model, for a file of the kind
    it was trained on): what ``rnnkit evaluate`` prints and ``rnnkit report`` shows."""
    args = with_data_format(args, args.model_dir, args.data, model.task)
    if isinstance(model, FrameModel):
        return frames.score(args, model)
    if args.format is not None and get_format(args.format).returns is FrameSet:
        raise ConfigError(f"--format {args.format}: {args.model_dir} does not read frames")
    if isinstance(model, Seq2Seq):
        return seq2seq.score(args, model)
    if isinstance(model, SequenceTagger):
        return tag.score(args, model)
    if isinstance(model, LanguageModel):
        return lm.score(args, model)
    return classify.score(args, model)


def _show(report: Any, args: argparse.Namespace) -> None:
    """One JSON object with --json, else the tables; --plot PNG."""
    png = Path(args.plot) if args.plot else None
    if not args.json:
        print_report(report, png)
        return
    print(json.dumps(report.to_dict()))
    if png is not None:
        from rnnkit.viz import plot_confusion_matrix

        plot_confusion_matrix(report.cm, report.labels, png)
