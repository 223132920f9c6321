"""Per-step gradient norms of a training run, streamed to a CSV file.

Exploding gradients show as a global norm that jumps by orders of magnitude from one
step to the next; vanishing ones as a recurrent ``W`` whose gradient shrinks towards
zero while the output layer's does not. :class:`GradNormLog` records, for every
optimizer step,

- the global norm ||g|| = sqrt(sum_k ||g_k||^2) over every parameter k, *before*
  clipping (the figure that global-norm clipping compares with its threshold),
- ``clipped``: 1 when clipping changed the gradients of that step, else 0,
- each parameter's own norm ||g_k||, in a column named as in ``param_slots()``
  (``"<layer>.<param>"``, e.g. ``simple_rnn.W``), also before clipping.

Each row is written and flushed as soon as its step is taken (a line-buffered file),
so a run that is killed keeps every step it logged. With ``append=True`` (a resumed
run) the rows of steps after the one the run resumes from are dropped first, since
those steps are taken again, and the new rows follow the old ones.

>>> import tempfile
>>> from pathlib import Path
>>> with tempfile.TemporaryDirectory() as tmp:
...     log = GradNormLog(Path(tmp) / "grad_norms.csv")
...     log.write(1, 1, 1, 5.0, True, {"dense.V": 3.0, "dense.c": 4.0})
...     log.close()
...     print((Path(tmp) / "grad_norms.csv").read_text(), end="")
step,epoch,batch,global_norm,clipped,dense.V,dense.c
1,1,1,5.0,1,3.0,4.0
"""

from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from rnnkit.errors import ConfigError, DataError
from rnnkit.io.atomic import atomic_write_text

__all__ = ["FIXED_COLUMNS", "GradNormLog", "GradNorms", "param_norms", "read_grad_norms"]

#: the columns every row starts with; one column per parameter follows
FIXED_COLUMNS = ("step", "epoch", "batch", "global_norm", "clipped")


def param_norms(slots: Sequence[tuple[str, Any, np.ndarray, Any]]) -> dict[str, float]:
    """||g_k|| of every parameter's gradient, by its ``param_slots()`` key.

    A sparse gradient (an embedding's, with the rows the batch touched) is read on
    those rows only, as :func:`rnnkit.core.clipping.global_norm` reads it.
    """
    out = {}
    for key, _, g, rows in slots:
        v = g if rows is None else g[rows]
        out[key] = math.sqrt(float(np.vdot(v, v)))
    return out


@dataclass
class GradNorms:
    """A ``grad_norms.csv`` read back: one (S,) array per column, S the steps logged."""

    step: np.ndarray
    epoch: np.ndarray
    batch: np.ndarray
    global_norm: np.ndarray  # before clipping
    clipped: np.ndarray  # bool
    params: dict[str, np.ndarray]  # each parameter's norm, by its param_slots() key


def read_grad_norms(path: str | os.PathLike[str]) -> GradNorms:
    """Read the log :class:`GradNormLog` wrote (DataError naming the file if malformed)."""
    where = Path(path)
    with where.open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    if not rows or tuple(rows[0][: len(FIXED_COLUMNS)]) != FIXED_COLUMNS:
        raise DataError(f"{where}: not a gradient-norm log (header {', '.join(FIXED_COLUMNS)})")
    header, body = rows[0], [row for row in rows[1:] if row]
    if not body:
        raise DataError(f"{where}: no steps logged")
    try:
        table = np.array([[float(v) for v in row] for row in body], dtype=np.float64)
    except ValueError as exc:
        raise DataError(f"{where}: {exc}") from None
    if table.ndim != 2 or table.shape[1] != len(header):
        raise DataError(f"{where}: every row needs {len(header)} values")
    step, epoch, batch, norm, clipped = table[:, : len(FIXED_COLUMNS)].T
    named = {name: table[:, j] for j, name in enumerate(header) if j >= len(FIXED_COLUMNS)}
    return GradNorms(step, epoch, batch, norm, clipped > 0, named)


class GradNormLog:
    """Where a run streams its per-step gradient norms (see the module docstring).

    Parameters
    ----------
    path : path
        The CSV file; its directory is created on the first row.
    append : bool
        Keep the rows of an earlier part of this run (``--resume``); otherwise the
        file is started afresh.
    """

    def __init__(self, path: str | os.PathLike[str], *, append: bool = False) -> None:
        self.path = Path(path)
        self.append = append
        self._file: TextIO | None = None
        self._writer: Any = None
        self._columns: list[str] = []

    def write(
        self, step: int, epoch: int, batch: int, norm: float, clipped: bool,
        norms: Mapping[str, float],
    ) -> None:  # fmt: skip
        """One row: the step's global norm before clipping, whether clipping changed
        the gradients, and each parameter's norm (the file opens on the first row)."""
        if self._writer is None:
            self._open(step, list(norms))
        values = [norms[name] for name in self._columns[len(FIXED_COLUMNS) :]]
        self._writer.writerow([step, epoch, batch, _number(norm), int(clipped)] +
                              [_number(v) for v in values])  # fmt: skip

    def close(self) -> None:
        """Close the file; a later :meth:`write` (another fit) appends to it."""
        if self._file is not None:
            self._file.close()
        self._file, self._writer = None, None
        self.append = True

    def _open(self, step: int, names: list[str]) -> None:
        self._columns = [*FIXED_COLUMNS, *names]
        self.path.parent.mkdir(parents=True, exist_ok=True)
        kept = self._earlier_rows(step) if self.append and self.path.is_file() else None
        if kept is not None:
            atomic_write_text(self.path, _csv_text([self._columns, *kept]))
        # NOTE: line buffering flushes every row as it is written: a killed run keeps it
        self._file = open(  # closed by close(), which fit() calls however the run ends
            self.path, "a" if kept is not None else "w", encoding="utf-8", newline="",
            buffering=1,
        )  # fmt: skip
        self._writer = csv.writer(self._file, lineterminator="\n")
        if kept is None:
            self._writer.writerow(self._columns)

    def _earlier_rows(self, step: int) -> list[list[str]]:
        """The rows of steps before `step` (a row cut short by a kill is dropped)."""
        with self.path.open(encoding="utf-8", newline="") as f:
            rows = list(csv.reader(f))
        if not rows or rows[0] != self._columns:
            raise ConfigError(
                f"{self.path}: its columns are not this run's parameters; "
                "move it away to log this run afresh"
            )
        width = len(self._columns)
        return [r for r in rows[1:] if len(r) == width and r[0].isdigit() and int(r[0]) < step]


def _number(x: float) -> str:
    """The shortest text that reads back as the same float (nan and inf as such)."""
    return repr(float(x))


def _csv_text(rows: list[list[Any]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()
