"""``rnnkit diagnose DIR [DIR ...] --data FILE``: gradients through time on real data.

Each model reads the first ``--batches`` batches of FILE (in file order, read as
``rnnkit evaluate`` reads it for the model's task) and its total dL/dh_t is measured at
every step with dropout off (:func:`rnnkit.viz.gradients.measure_gradients`). The
command prints one table per model, writes each model's numbers to
``DIR/gradients.json`` and one plot comparing the models (``--png``, by default
``gradients.png`` in the first DIR), and warns on stderr about exploding gradients::

    rnnkit diagnose runs/rnn runs/lstm runs/gru --data test.csv --png compare.png
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from rnnkit.cli.data_flags import add_format_flags
from rnnkit.cli.data_format import with_data_format
from rnnkit.cli.tasks import classify, frames, lm, seq2seq, tag
from rnnkit.data.batching import sequential_batches
from rnnkit.errors import ConfigError
from rnnkit.io import atomic_write_json
from rnnkit.models import (
    LanguageModel,
    Seq2Seq,
    SequenceClassifier,
    SequenceTagger,
    load_model,
)
from rnnkit.models.frames import FrameModel
from rnnkit.viz import GradientDiagnosis, measure_gradients, plot_gradients

__all__ = ["GRADIENTS_JSON", "GRADIENTS_PNG", "add_parser", "diagnose_path", "run"]

#: what the command writes into each model directory, and the plot's default name
GRADIENTS_JSON, GRADIENTS_PNG = "gradients.json", "gradients.png"


def add_parser(sub: Any) -> argparse.ArgumentParser:
    """The ``diagnose`` verb, with the data-format flags of ``train`` and ``evaluate``."""
    p = sub.add_parser("diagnose", help="measure how the loss gradient fades through time")
    p.add_argument("model_dirs", nargs="+", metavar="DIR", help="saved models to compare")
    p.add_argument("--data", required=True, metavar="FILE", help="labelled data, as evaluate")
    p.add_argument("--batches", type=int, default=8, help="batches to measure (8)")
    p.add_argument("--batch-size", type=int, help="sequences per batch (the model's)")
    p.add_argument("--png", metavar="PATH", help=f"the plot (default: DIR/{GRADIENTS_PNG})")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    add_format_flags(p)
    return p


def run(args: argparse.Namespace) -> int:
    """``rnnkit diagnose``: measure every DIR, print, write the JSON files and the plot."""
    for flag in ("batches", "batch_size"):
        value = getattr(args, flag)
        if value is not None and value < 1:
            raise ConfigError(f"--{flag.replace('_', '-')} {value}: must be at least 1")
    png = Path(args.png) if args.png else Path(args.model_dirs[0]) / GRADIENTS_PNG
    if args.png is not None and (png.suffix.lower() != ".png" or not png.parent.is_dir()):
        raise ConfigError(f"--png {png}: give a .png file name in an existing directory")
    labels = _labels(args.model_dirs)
    pairs = zip(args.model_dirs, labels, strict=True)
    diagnoses = [_diagnose(d, args, label) for d, label in pairs]
    for directory, diag in zip(args.model_dirs, diagnoses, strict=True):
        atomic_write_json(Path(directory) / GRADIENTS_JSON, diag.to_dict())
    drawn = _plot(diagnoses, png, explicit=args.png is not None)
    if args.json:
        shown = str(png) if drawn else None
        print(json.dumps({"png": shown, "models": [d.to_dict() for d in diagnoses]}))
    else:
        print("\n\n".join(d.format() for d in diagnoses))
        if drawn:
            print(f"\nplot: {png}")
    for diag in diagnoses:
        for note in diag.notes:
            if note.startswith(("exploding", "non-finite")):
                print(f"warning: {diag.label}: {note}", file=sys.stderr)
    return 0


def _diagnose(directory: str, args: argparse.Namespace, label: str) -> GradientDiagnosis:
    """:func:`diagnose_path` of the model in `directory`, --data read with the format
    flags given, else the ones recorded with that model."""
    model = load_model(directory)
    return diagnose_path(
        model, args.data, with_data_format(args, directory, args.data, model.task), label
    )


def diagnose_path(
    model: Any, data_path: str, args: argparse.Namespace, label: str
) -> GradientDiagnosis:
    """Measure `model`'s gradients through time on the file `data_path`.

    The file is read as ``rnnkit evaluate`` reads it for the model's task, with the
    format flags in `args`; ``args.batches`` batches of ``args.batch_size`` sequences
    (the model's batch size when None) are measured. ConfigError for a model without
    a recurrent network (the bag-of-words baseline).
    """
    if not hasattr(model, "model_"):
        raise ConfigError(f"{label}: a {type(model).__name__} has no gradients through time")
    size = getattr(args, "batch_size", None) or int(model.settings.get("batch_size", 32))
    count = getattr(args, "batches", None) or 8
    if isinstance(model, LanguageModel):
        batches: list[Any] = lm.batches(model, data_path, args, size)[:count]
    else:
        data = _dataset(model, data_path, args)
        batches = [data.batch(i) for i in sequential_batches(len(data), size)[:count]]
    return measure_gradients(model, batches, label=label)


def _dataset(model: Any, path: str, args: argparse.Namespace) -> Any:
    """The file's sequences and targets, encoded as the model was trained on them."""
    if isinstance(model, FrameModel):
        return frames.training_data(model, path, args)
    if isinstance(model, Seq2Seq):
        return seq2seq.training_data(model, path, args)
    if isinstance(model, SequenceTagger):
        return tag.training_data(model, path, args)
    if isinstance(model, SequenceClassifier):
        return classify.training_data(model, path, args)
    raise ConfigError(f"a {type(model).__name__} has no gradients through time")


def _plot(diagnoses: list[GradientDiagnosis], png: Path, explicit: bool) -> bool:
    """Draw the comparison; without matplotlib, say so (an error only if --png asked)."""
    try:
        plot_gradients(diagnoses, png)
    except ConfigError as exc:
        if explicit or not isinstance(exc.__cause__, ImportError):
            raise
        print(f"warning: no plot: {exc}", file=sys.stderr)
        return False
    return True


def _labels(dirs: list[str]) -> list[str]:
    """Each model's name: its directory's, or the path where two names are the same."""
    names = [Path(d).resolve().name for d in dirs]
    return [n if names.count(n) == 1 else str(d) for n, d in zip(names, dirs, strict=True)]
