"""``rnnkit train --task T --data PATH --out DIR``: train a model and save its directory.

The task and the data's format (``--format``, else inferred from the file) choose
the model: texts for classify and tag train the text models, a frames CSV or an npz
file their models of real-valued sequences (see :mod:`rnnkit.cli.tasks`).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rnnkit.cli.data_flags import add_format_flags, chosen_format, either, refuse_format_flags
from rnnkit.cli.data_format import record_data_format
from rnnkit.cli.ranks import quiet_unless_writer, writes
from rnnkit.cli.tasks import classify, frames, lm, seq2seq, tag
from rnnkit.cli.tasks.seq2seq import LEVEL_FLAGS
from rnnkit.cli.tasks.small_data import MIN_SPLIT
from rnnkit.cli.train_flags import add_train_flags
from rnnkit.core.kernels import blas_threads
from rnnkit.data import FrameSet, formats_for
from rnnkit.data.formats import TASKS
from rnnkit.distributed import abort_on_error, world
from rnnkit.errors import ConfigError, RnnkitError
from rnnkit.io import CONFIG_FILE, read_config

__all__ = ["add_parser", "run"]

#: without --valid, the share of --data held out for validation
VALID_SPLIT = 0.1
#: --task -> how it trains on texts (each task of real-valued frames: tasks.frames)
TEXT_TRAINERS = {
    "classify": classify.train,
    "tag": tag.train,
    "lm": lm.train,
    "seq2seq": seq2seq.train,
}


def add_parser(sub: Any) -> argparse.ArgumentParser:
    """The ``train`` verb: the data, the model and training flags, the format flags."""
    t = sub.add_parser("train", help="train a model and save its directory")
    t.add_argument(
        "--task",
        required=True,
        choices=list(TASKS),
        help="what to learn: classify texts or sequences, tag every token or frame, a "
        "language model, a sequence-to-sequence model, regress numbers",
    )
    t.add_argument("--data", required=True, help="training file")
    t.add_argument("--valid", help="validation file (early stopping, best epoch)")
    t.add_argument(
        "--valid-split",
        type=float,
        default=None,
        help=f"without --valid, hold out this fraction of --data (default {VALID_SPLIT}; "
        f"frames: only from {MIN_SPLIT} sequences on; lm: its last part; 0 = none)",
    )
    t.add_argument("--test", help="also evaluate on this file after training")
    t.add_argument(
        "--out",
        required=True,
        help="model directory to write (created; a model of the same task there is replaced)",
    )
    t.add_argument(
        "--overwrite",
        action="store_true",
        help="replace the model of another task that --out holds (refused without it)",
    )
    t.add_argument(
        "--model",
        choices=["rnn", "bow-nb"],
        default="rnn",
        help="the recurrent network, or the bag-of-words Naive Bayes baseline",
    )
    add_train_flags(t)
    t.add_argument("--plot", action="store_true", help="write confusion-matrix PNGs (matplotlib)")
    add_format_flags(t)
    return t


def run(args: argparse.Namespace) -> int:
    """``rnnkit train``: dispatch on --task and on the data being texts or frames; the
    format --data was read in is recorded with the model (config.json ``data``).

    Under ``mpiexec -n N`` every rank trains its share of each batch and rank 0 alone
    prints and writes (:mod:`rnnkit.cli.ranks`); a rank that fails ends the job.
    """
    args.group = world(args.seed)
    with abort_on_error(args.group), quiet_unless_writer(args):
        if args.group is not None:
            n = blas_threads()
            print(f"{args.group.describe()}, {n} BLAS thread{'s' * (n != 1)} each", flush=True)
        code = _train(args)
        if writes(args):
            record_data_format(args, args.task)
    return code


def _train(args: argparse.Namespace) -> int:
    # NOTE: whether --valid-split was given matters: frames below MIN_SPLIT sequences
    # are not split by default, but are when asked to
    args.valid_split_given = args.valid_split is not None
    if args.valid_split is None:
        args.valid_split = VALID_SPLIT
    if not 0.0 <= args.valid_split < 1.0:
        raise ConfigError(f"--valid-split {args.valid_split}: must lie in [0, 1)")
    check_out(args)
    message = "{flag} applies to --task {tasks} only"
    refuse_format_flags(args, formats_for(args.task), LEVEL_FLAGS, message)
    fmt = chosen_format(args, args.data, args.task)
    if fmt is not None and fmt.returns is FrameSet:
        if args.task not in fmt.tasks:
            raise ConfigError(f"--format {fmt.name} is for --task {either(fmt.tasks)}")
        return frames.train(args)
    if args.task not in TEXT_TRAINERS:  # regress: its reader says what it cannot read
        return frames.train(args)
    return TEXT_TRAINERS[args.task](args)


def check_out(args: argparse.Namespace) -> None:
    """Refuse, before anything is read or written, an --out that is a file, and one that
    holds a model of another task unless --overwrite is given (a model of the same task
    is retrained in place, as before)."""
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out}: names a file, not a directory")
    if args.overwrite or not (out / CONFIG_FILE).is_file():
        return
    try:
        task = read_config(out)["task"]
    except RnnkitError:  # not a readable model: nothing this run could lose by mistake
        return
    if task != args.task:
        raise ConfigError(
            f"--out {out}: holds a --task {task} model; give --overwrite to replace it "
            f"with a --task {args.task} one, or choose another --out"
        )
