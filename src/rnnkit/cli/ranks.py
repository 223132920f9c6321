"""``mpiexec -n N rnnkit train ...``: the roles of the ranks in one training job.

Every rank reads the data, builds the same model and trains its share of each batch
(:mod:`rnnkit.distributed`); rank 0 alone prints, writes the model directory, its
checkpoints, curves and reports, and the others write nothing. In a plain process
(no mpiexec, or one rank) the group is None and all of this is a no-op.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout
from typing import Any

from rnnkit.distributed import MPIGroup

__all__ = ["quiet_unless_writer", "use_group", "writes"]


def writes(args: argparse.Namespace) -> bool:
    """Whether this process writes files and prints: rank 0, or a plain process."""
    group: MPIGroup | None = getattr(args, "group", None)
    return group is None or group.rank == 0


def use_group(model: Any, args: argparse.Namespace) -> None:
    """Give a task model the ranks it trains with (None: this process alone)."""
    model.group = getattr(args, "group", None)


@contextmanager
def quiet_unless_writer(args: argparse.Namespace) -> Iterator[None]:
    """Rank 0 prints as one process does; the other ranks' standard output is dropped
    (their errors still reach stderr)."""
    if writes(args):
        yield
        return
    with open(os.devnull, "w", encoding="utf-8") as null, redirect_stdout(null):
        yield
