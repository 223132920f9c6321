"""Real-valued sequences: the ``frames`` (long CSV) and ``npz`` formats.

Speech, video and sensor data: every step x_t is a vector of F real features, and
sequences differ in length. Both readers return a :class:`FrameSet`: one (T_i, F)
float array per sequence, and its label (one per sequence, or one per step). Every
problem is a :class:`~rnnkit.errors.DataError` naming the file and the line, or the
sequence and step.

- ``frames`` (:func:`read_frames`): a CSV with a header, one row per step: a sequence
  id column (``series_id`` or ``seq_id``), a time column ``t``, a ``label`` column,
  and every other column a feature. A sequence's rows may come in any order; ``t``
  orders them. A label that is the same at every step of a sequence is that
  sequence's label; otherwise the labels are per step.
- ``npz`` (:func:`read_npz`): ``X`` (N, T, F) floats, ``lengths`` (N,) and ``y``, (N,)
  per sequence or (N, T) per step. Loaded with ``allow_pickle=False``: a file cannot
  make the reader execute code.

:func:`rnnkit.data.formats.read_frame_file` picks the reader by ``format``, file name or
header.

>>> import tempfile, pathlib
>>> with tempfile.TemporaryDirectory() as d:
...     path = pathlib.Path(d) / "f.csv"
...     _ = path.write_text("series_id,label,t,x1,x2\\na,yes,1,0.5,1\\na,yes,0,0,2\\nb,no,0,3,4\\n")
...     frames = read_frames(path)
>>> frames.ids, frames.labels, frames.features, frames.sequences[0].tolist()
(['a', 'b'], ['yes', 'no'], ['x1', 'x2'], [[0.0, 2.0], [0.5, 1.0]])
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from rnnkit.data.npz_archive import NPZ_KEYS, npz_arrays
from rnnkit.data.table import csv_rows
from rnnkit.data.text_files import decode_bytes, read_bytes
from rnnkit.errors import DataError

__all__ = ["ID_COLUMNS", "FrameSet", "check_sequences", "read_frames", "read_npz"]

PathLike = str | os.PathLike[str]
Array = np.ndarray
#: the names a sequence id column may have
ID_COLUMNS = ("series_id", "seq_id")


@dataclass(frozen=True)
class FrameSet:
    """Real-valued sequences and their labels, read from one file.

    Attributes
    ----------
    sequences : list of (T_i, F) float64 arrays, T_i >= 1, every value finite
    labels : list of str (one per sequence) or list of list of str (one per step)
    ids : list of str, each sequence's id (its index for npz files)
    features : list of str, the feature names (``x1 ..`` for npz files)
    path : str, the file as given
    """

    sequences: list[Array]
    labels: list[Any]
    ids: list[str]
    features: list[str]
    path: str

    def __len__(self) -> int:
        return len(self.sequences)

    @property
    def per_step(self) -> bool:
        """Whether there is a label for every step rather than one per sequence."""
        return bool(self.labels) and isinstance(self.labels[0], list)

    def where(self, i: int) -> str:
        """``"path: sequence 'id'"`` of sequence `i`, for messages."""
        return f"{self.path}: sequence {self.ids[i]!r}"

    def subset(self, index: Sequence[int] | np.ndarray) -> FrameSet:
        """The sequences at `index`, in that order."""
        return replace(
            self,
            sequences=[self.sequences[i] for i in index],
            labels=[self.labels[i] for i in index],
            ids=[self.ids[i] for i in index],
        )

    def aligned(self, features: Sequence[str]) -> FrameSet:
        """The same sequences with their columns in the order of `features`.

        Columns are matched by name; files without names (npz, ``x1 .. xF``) match by
        position when the counts agree. DataError names the first missing feature.
        """
        features = list(features)
        if self.features == features:
            return self
        generic = [f"x{k + 1}" for k in range(len(features))]
        if len(self.features) == len(features) and generic in (self.features, features):
            return replace(self, features=features)
        missing = [f for f in features if f not in self.features]
        if missing:
            shown = ", ".join(features[:6]) + (", ..." if len(features) > 6 else "")
            raise DataError(
                f"{self.path}: no feature column {missing[0]!r}; the model reads {shown}"
            )
        order = [self.features.index(f) for f in features]
        return replace(self, sequences=[x[:, order] for x in self.sequences], features=features)


def read_frames(path: PathLike, *, encoding: str = "utf-8") -> FrameSet:
    """Read a long CSV of frames (see the module docstring).

    Raises
    ------
    DataError
        A missing column, a row with too few or too many fields, a feature that is not
        a number, or is NaN or infinite, a step ``t`` that is not an integer or comes
        twice in a sequence, or a file without rows.
    """
    source = str(path)
    text = decode_bytes(read_bytes(Path(path), source, "frames file"), encoding, source)
    rows = csv_rows(text, source, ",")
    first = next(rows, None)
    if first is None:
        raise DataError(f"{source}: empty file; expected a header row")
    header = [h.strip() for h in first[1]]
    ids = [c for c in ID_COLUMNS if c in header]
    for need, found in (("sequence id column (series_id or seq_id)", ids),
                        ("'t' column", ["t"] if "t" in header else []),
                        ("'label' column", ["label"] if "label" in header else [])):  # fmt: skip
        if not found:
            raise DataError(f"{source}:1: the header has no {need}")
    i_id, i_t, i_label = header.index(ids[0]), header.index("t"), header.index("label")
    feat = [i for i in range(len(header)) if i not in (i_id, i_t, i_label)]
    if not feat:
        raise DataError(f"{source}:1: no feature columns beside {ids[0]}, t and label")
    steps: dict[str, dict[int, tuple[list[float], str]]] = {}
    for n, row in rows:
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise DataError(f"{source}:{n}: {len(row)} fields, the header has {len(header)}")
        seq, label = row[i_id].strip(), row[i_label].strip()
        t = _integer(row[i_t], f"{source}:{n}: t")
        values = [_number(row[i], f"{source}:{n}: {header[i]}") for i in feat]
        by_t = steps.setdefault(seq, {})
        if t in by_t:
            raise DataError(f"{source}:{n}: sequence {seq!r} has step t={t} twice")
        by_t[t] = (values, label)
    if not steps:
        raise DataError(f"{source}: no rows after the header")
    sequences, step_labels = [], []
    for seq, by_t in steps.items():
        order = sorted(by_t)
        x = np.array([by_t[t][0] for t in order], dtype=np.float64)
        _check_finite(x, f"{source}: sequence {seq!r}", order)
        sequences.append(x)
        step_labels.append([by_t[t][1] for t in order])
    labels: list[Any] = step_labels
    if all(len(set(s)) == 1 for s in step_labels):  # one label per sequence
        labels = [s[0] for s in step_labels]
    return FrameSet(sequences, labels, list(steps), [header[i] for i in feat], source)


def read_npz(path: PathLike) -> FrameSet:
    """Read ``X``, ``lengths`` and ``y`` from an ``.npz`` file (see the module docstring).

    Raises
    ------
    DataError
        A missing or unreadable file, one that is not a zip archive of ``.npy`` arrays
        (a damaged one, a bare ``.npy``, a member whose header declares more data than
        it holds, a pickle), arrays of the wrong shape or type, no sequences or no
        features, a length outside 1 .. T, or a NaN or infinite feature at a real step.
    """
    source = str(path)
    arrays = npz_arrays(read_bytes(Path(path), source, "npz file"), source)
    for key in NPZ_KEYS:
        if key not in arrays:
            raise DataError(f"{source}: no array {key!r} (found: {', '.join(sorted(arrays))})")
    X, lengths, y = arrays["X"], arrays["lengths"], arrays["y"]
    if X.ndim != 3 or X.dtype.kind not in "fiu":
        raise DataError(f"{source}: X must be a (N, T, F) array of numbers, got {X.shape}")
    N, T, F = X.shape
    if N == 0 or F == 0:
        what = "no sequences" if N == 0 else "no features"
        raise DataError(f"{source}: X has {what} (shape {X.shape})")
    if lengths.shape != (N,) or lengths.dtype.kind not in "iu":
        raise DataError(f"{source}: lengths must be ({N},) integers, got {lengths.shape}")
    bad = np.flatnonzero((lengths < 1) | (lengths > T))
    if bad.size:
        i = int(bad[0])
        raise DataError(f"{source}: sequence {i} has length {int(lengths[i])}; use 1 to {T}")
    if y.shape not in ((N,), (N, T)):
        raise DataError(f"{source}: y must be ({N},) or ({N}, {T}), got {y.shape}")
    sequences, labels = [], []
    for i in range(N):
        x = X[i, : lengths[i]].astype(np.float64)
        _check_finite(x, f"{source}: sequence {i}", range(len(x)))
        sequences.append(x)
        labels.append(str(y[i]) if y.ndim == 1 else [str(v) for v in y[i, : lengths[i]]])
    features = [f"x{k + 1}" for k in range(F)]
    return FrameSet(sequences, labels, [str(i) for i in range(N)], features, source)


def check_sequences(sequences: Sequence[Any], n_features: int | None = None) -> list[Array]:
    """Real-valued sequences as (T_i, F) float64 arrays, every value checked.

    A (T_i,) array is one feature per step. DataError names the sequence (1-based) and
    step of an empty sequence, a wrong number of features, or a NaN or infinite value.
    """
    if isinstance(sequences, np.ndarray) and sequences.dtype != object and sequences.ndim < 2:
        raise DataError(
            f"expected a list of (T, F) arrays, got one array of shape {sequences.shape}"
        )
    out: list[Array] = []
    for i, seq in enumerate(sequences):
        try:
            x = np.asarray(seq, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise DataError(f"sequence {i + 1}: not an array of numbers ({exc})") from None
        if x.ndim == 1:
            x = x[:, None]
        if x.ndim != 2:
            raise DataError(f"sequence {i + 1}: expected (T, F) frames, got shape {x.shape}")
        if len(x) == 0:
            raise DataError(f"sequence {i + 1} has no steps; every sequence needs one")
        width = n_features if n_features is not None else (out[0].shape[1] if out else None)
        if width is not None and x.shape[1] != width:
            raise DataError(f"sequence {i + 1} has {x.shape[1]} features, expected {width}")
        _check_finite(x, f"sequence {i + 1}", range(len(x)))
        out.append(x)
    if not out:
        raise DataError("no sequences")
    return out


def _number(cell: str, where: str) -> float:
    try:
        return float(cell)
    except ValueError:
        raise DataError(f"{where}: {cell.strip()!r} is not a number") from None


def _integer(cell: str, where: str) -> int:
    try:
        return int(cell)
    except ValueError:
        raise DataError(f"{where}: {cell.strip()!r} is not an integer step") from None


def _check_finite(x: Array, where: str, steps) -> None:
    bad = np.argwhere(~np.isfinite(x))
    if bad.size:
        step, feature = (int(v) for v in bad[0])
        raise DataError(
            f"{where}, step t={list(steps)[step]}: feature {feature + 1} is {x[step, feature]}"
        )
