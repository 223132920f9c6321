"""What ``rnnkit train`` leaves beside the model it saves, for a person and for the report.

::

    OUT/
      checkpoint/       the run's latest state, for --resume (--checkpoint-every N);
                        removed when the run ends normally, unless --keep-checkpoint
                        is given or the time budget ended it
      curves.png        loss (and accuracy) by epoch, training and validation
      evaluation.json   the reports of the validation part and of --test, as
                        ``rnnkit evaluate --json`` prints them, by part
      grad_norms.csv    with --log-grad-norms: every step's gradient norms

None of them is part of the model: ``config.json``'s list of files does not name
them, so loading ignores them, and deleting them loses nothing the model needs.
``config.json`` records the run itself (:func:`run_record`). ``rnnkit report OUT``
reads all of it back into one HTML page.
"""

from __future__ import annotations

import argparse
import shlex
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rnnkit.cli.ranks import writes
from rnnkit.errors import ConfigError, RnnkitError
from rnnkit.io import CONFIG_FILE, atomic_write_json, json_safe, read_config, read_json
from rnnkit.training import Checkpoints, GradNormLog
from rnnkit.viz.curves import plot_history

__all__ = [
    "CURVES_FILE",
    "EVALUATION_FILE",
    "GRAD_NORMS_FILE",
    "draw_curves",
    "run_record",
    "use_checkpoints",
    "use_grad_log",
    "write_evaluation",
]

CURVES_FILE = "curves.png"
EVALUATION_FILE = "evaluation.json"
GRAD_NORMS_FILE = "grad_norms.csv"
#: the line printed when matplotlib is missing
NO_CURVES = "training curves not drawn: matplotlib is missing (pip install 'rnnkit[plot]')"


def use_checkpoints(model: Any, args: argparse.Namespace) -> None:
    """Give a task model its run's checkpoints, OUT/checkpoint (``--checkpoint-every``,
    ``--resume``): always at epoch ends, and a resume only of this same run."""
    every, resume = args.checkpoint_every, args.resume
    if every is not None and every < 1:
        raise ConfigError(f"--checkpoint-every {every}: must be a positive number of steps")
    skip = ("epochs", "max_minutes", "verbose", "patience")
    identity = {
        "task": args.task,
        "settings": {k: v for k, v in model.settings.items() if k not in skip},
        "data": str(args.data),
        "valid": None if args.valid is None else str(args.valid),
        "valid_split": args.valid_split,
    }
    ck = Checkpoints(Path(args.out) / "checkpoint", every=every, resume=resume, identity=identity)
    latest = ck.directory / "latest.json"
    saved = _saved_checkpoint_step(Path(args.out)) if resume else None
    if resume and not latest.is_file():
        if saved is not None:
            raise ConfigError(
                f"--resume: {args.out} holds a finished model and no checkpoint (removed "
                "when its training ended; --keep-checkpoint keeps it): nothing to resume; "
                "train without --resume to start afresh"
            )
        print(f"no checkpoint in {ck.directory}: training from the start")
    elif not resume and latest.is_file():
        print(f"{ck.directory} holds an earlier run; starting afresh (--resume continues it)")
    if resume and latest.is_file() and saved is not None:
        try:
            ck.model_saved = read_json(latest).get("step") == saved
        except (RnnkitError, AttributeError):  # a damaged pointer: loading names it
            pass
    model.checkpoints = ck


def _saved_checkpoint_step(out: Path) -> int | None:
    """The checkpoint step of the model saved in `out` (-1 when its checkpoint was
    removed), or None when `out` holds no readable model."""
    if not (out / CONFIG_FILE).is_file():
        return None
    try:
        training = read_config(out).get("training")
    except RnnkitError:
        return None
    step = training.get("checkpoint_step") if isinstance(training, dict) else None
    return step if isinstance(step, int) else -1


def run_record(args: argparse.Namespace, seconds: float) -> dict[str, Any]:
    """What config.json keeps of a training run: seed, command line, data, time, and
    the name of its gradient-norm log when it kept one."""
    record = {
        "seed": args.seed,
        "command": "rnnkit " + shlex.join(args.argv),
        "data": str(args.data),
        "train_seconds": round(seconds, 2),
    }
    if getattr(args, "log_grad_norms", False):
        record["grad_norms"] = GRAD_NORMS_FILE  # beside the model, not one of its files
    return record


def use_grad_log(model: Any, args: argparse.Namespace) -> None:
    """``--log-grad-norms``: the model's fit streams OUT/grad_norms.csv (appended to
    with ``--resume``). Without the flag nothing is logged and nothing costs."""
    if getattr(args, "log_grad_norms", False) and writes(args):
        model.grad_log = GradNormLog(Path(args.out) / GRAD_NORMS_FILE, append=args.resume)


def draw_curves(out: str | Path, history: dict[str, Any], task: str) -> Path | None:
    """OUT/curves.png from the run's history; prints its path, or one line saying why
    it was not drawn (matplotlib missing: training has succeeded all the same)."""
    png = Path(out) / CURVES_FILE
    try:
        plot_history(history, png, title=f"rnnkit train --task {task}", perplexity=task == "lm")
    except ConfigError as exc:
        if not isinstance(exc.__cause__, ImportError):
            raise
        print(NO_CURVES)
        return None
    print(f"training curves: {png}")
    return png


def write_evaluation(out: str | Path, task: str, parts: Sequence[tuple[str, Any, Any]]) -> Path:
    """OUT/evaluation.json: ``{"task": ..., "parts": {name: {"data", "report"}}}``.

    `parts` holds (name, data, report) for each part evaluated after training
    ("validation", "test"): the data's path (or "10% held out of PATH"), and the
    report, stored as its ``to_dict()`` with a non-finite number as null. Written
    even with no parts, so no earlier run's file remains.
    """
    record = {
        "task": task,
        "parts": {
            name: {"data": str(path), "report": json_safe(report.to_dict())}
            for name, path, report in parts
        },
    }
    path = Path(out) / EVALUATION_FILE
    atomic_write_json(path, record)
    return path
