"""Encoder-decoders: source<TAB>target pairs or CMUdict lines, read for a
:class:`~rnnkit.models.Seq2Seq`."""

from __future__ import annotations

import argparse
import time
from typing import Any

from rnnkit.cli.data_flags import (
    FORMAT_FLAGS,
    chosen_format,
    flag_value,
    refuse_format,
    refuse_format_flags,
    refuse_other_format_flags,
    report_skipped,
)
from rnnkit.cli.outputs import (
    draw_curves,
    use_checkpoints,
    use_grad_log,
    write_evaluation,
)
from rnnkit.cli.ranks import use_group, writes
from rnnkit.cli.tasks.finish import save_trained
from rnnkit.cli.train_flags import model_settings
from rnnkit.data import PairCorpus, formats_for, read_pair_file
from rnnkit.data.splits import split_indices
from rnnkit.errors import ConfigError
from rnnkit.metrics.sequences import SequenceReport
from rnnkit.models.seq2seq import Seq2Seq

__all__ = ["LEVEL_FLAGS", "check_beam", "read", "score", "train", "training_data"]

#: the format flags that split each side of a pair (a seq2seq model keeps its levels)
LEVEL_FLAGS = ("source_level", "target_level")
Levels = tuple[str | None, str | None]


def _levels(args: argparse.Namespace) -> Levels:
    """--source-level / --target-level, each defaulting to --level."""
    level = getattr(args, "level", None)
    return args.source_level or level, args.target_level or level


def read(path: str, args: argparse.Namespace, levels: Levels) -> PairCorpus:
    """Read pairs (pairs or cmudict) with each side split at `levels` (None: the format's)."""
    message = "--format {format} does not apply to --task seq2seq ({formats})"
    refuse_format(args, "seq2seq", PairCorpus, message)
    message = "{flag} does not apply to --task seq2seq"
    refuse_format_flags(args, formats_for("seq2seq"), tuple(FORMAT_FLAGS), message)
    fmt = chosen_format(args, path, "seq2seq", PairCorpus)
    if fmt is not None:
        refuse_other_format_flags(args, fmt, ("on_bad_lines",))
    pairs = read_pair_file(
        path,
        args.format,
        source_level=levels[0],
        target_level=levels[1],
        encoding=flag_value(args, "encoding"),
        on_bad_lines=args.on_bad_lines,
    )
    report_skipped(pairs, args)
    return pairs


def _model_levels(model: Seq2Seq, path: str, args: argparse.Namespace) -> Levels:
    """The model's levels, or None for a format whose levels are fixed (cmudict)."""
    fmt = chosen_format(args, path, "seq2seq")
    if fmt is not None and not set(LEVEL_FLAGS) <= set(fmt.flags):
        return None, None
    s = model.settings
    return s["source_level"], s["target_level"]


def _subset(c: PairCorpus, idx) -> PairCorpus:
    return PairCorpus(
        [c.sources[i] for i in idx],
        [c.targets[i] for i in idx],
        c.path,
        [c.lines[i] for i in idx],
        c.source_level,
        c.target_level,
    )


def train(args: argparse.Namespace) -> int:
    """``rnnkit train --task seq2seq``."""
    if args.model != "rnn":
        raise ConfigError(f"--model {args.model} does not apply to --task seq2seq")
    # --level splits both sides of the data (read_by); the model records each side's level
    settings = model_settings(args, "seq2seq")
    data = read(args.data, args, _levels(args))
    if args.valid:
        valid: PairCorpus | None = read(args.valid, args, _levels(args))
    elif args.valid_split > 0:
        keep, held = split_indices(len(data), args.valid_split, args.seed)
        data, valid = _subset(data, keep), _subset(data, held)
    else:
        valid = None
    test = read(args.test, args, _levels(args)) if args.test else None
    model = Seq2Seq(**settings)
    use_checkpoints(model, args)
    use_grad_log(model, args)
    use_group(model, args)
    print(f"{data.path}: {len(data):,} pairs for training")
    started = time.perf_counter()
    model.fit_corpus(data, valid)
    if not writes(args):  # another rank: rank 0 saves and reports
        return 0
    seconds = time.perf_counter() - started
    save_trained(args, model, seconds)
    draw_curves(args.out, model.history_.to_dict(), args.task)
    parts = []
    for name, part in (("validation", valid), ("test", test)):
        if part is not None:
            report = model.evaluate(part.sources, part.targets)
            parts.append((name, part.path, report))
            print(f"{name} ({part.path}): {report.format()}")
    write_evaluation(args.out, args.task, parts)
    return 0


def score(args: argparse.Namespace, model: Seq2Seq) -> SequenceReport:
    """Exact match and token error rate on the pairs of --data, split at the model's
    levels (--beam: the beam width, else the model's)."""
    data = read(args.data, args, _model_levels(model, args.data, args))
    return model.evaluate(data.sources, data.targets, beam=check_beam(args))


def training_data(model: Seq2Seq, path: str, args: argparse.Namespace) -> Any:
    """The pairs of `path`, encoded as `model` was trained on them."""
    pairs = read(path, args, _model_levels(model, path, args))
    return model.training_data(pairs.sources, pairs.targets)


def check_beam(args: argparse.Namespace) -> int | None:
    """--beam, at least 1, or None when not given."""
    beam = getattr(args, "beam", None)
    if beam is not None and beam < 1:
        raise ConfigError(f"--beam {beam}: the beam width must be at least 1")
    return beam
