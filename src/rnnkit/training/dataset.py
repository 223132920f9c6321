"""Sequences and targets, cut into padded mini-batches with masks.

A :class:`SequenceDataset` holds variable-length sequences (a list of (T_i,) id arrays
or (T_i, F) frame arrays, or one padded array with lengths) and their targets. Each
mini-batch is padded only to its own longest sequence, and length bucketing puts
sequences of similar length together so little time is spent on padding.

>>> import numpy as np
>>> ds = SequenceDataset([np.array([4, 5, 6]), np.array([7])], np.array([1, 0]))
>>> b = ds.batch(np.array([0, 1]))
>>> b.x.tolist(), b.mask.tolist(), b.lengths.tolist()
([[4, 5, 6], [7, 0, 0]], [[True, True, True], [True, False, False]], [3, 1])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from rnnkit.data.batching import bucket_batches
from rnnkit.errors import DataError, ShapeError

__all__ = ["Batch", "SequenceDataset"]

Array = np.ndarray


@dataclass
class Batch:
    """One padded mini-batch: x (B, T) ids or (B, T, F) frames, mask (B, T), y targets.

    `carry` is True when every row continues the row of the previous batch (truncated
    BPTT over text streams): the model then starts from the state that batch ended in.
    """

    x: Array
    mask: Array
    lengths: Array
    y: Array | None
    index: Array
    carry: bool = False

    @property
    def n_tokens(self) -> int:
        return int(self.lengths.sum())


class SequenceDataset:
    """Variable-length sequences with their targets.

    Parameters
    ----------
    x : list of (T_i,) or (T_i, F) arrays, or a padded (N, T) / (N, T, F) array
    y : targets, optional (None when only predicting): per sequence (N,) or (N, k);
        per step a list of (T_i,) or (T_i, k) arrays, or a padded (N, T[, k]) array
    lengths : (N,) ints, required with a padded array unless every row is full length
    per_step : bool, optional
        Whether `y` holds a target for every step. Left out, a list of arrays or an
        array of 2 or 3 dimensions counts as per step; a model passes it, since its
        output knows.
    """

    def __init__(
        self,
        x: Sequence[Array] | Array,
        y: Any = None,
        lengths: Array | None = None,
        *,
        per_step: bool | None = None,
    ) -> None:
        if isinstance(x, np.ndarray) and x.dtype != object:
            if x.ndim < 2:
                raise ShapeError(f"inputs must be (N, T) ids or (N, T, F) frames, got {x.shape}")
            if lengths is None:
                lengths = np.full(len(x), x.shape[1])
            lengths = np.asarray(lengths, dtype=np.int64)
            if lengths.shape != (len(x),) or (lengths > x.shape[1]).any():
                raise ShapeError(f"lengths must be (N,) = ({len(x)},) and at most T = {x.shape[1]}")
            seqs = [x[i, : lengths[i]] for i in range(len(x))]
        else:
            seqs = [np.asarray(s) for s in x]
        if not seqs:
            raise DataError("no sequences: the dataset is empty")
        self.lengths = np.array([len(s) for s in seqs], dtype=np.int64)
        empty = np.flatnonzero(self.lengths == 0)
        if empty.size:
            raise DataError(f"sequence {empty[0]} is empty; every sequence needs a step")
        self.seqs = seqs
        self.features = None if seqs[0].ndim == 1 else seqs[0].shape[1]
        if y is not None:
            y = _as_targets(y, per_step)
            if len(y) != len(seqs):
                raise ShapeError(f"{len(seqs)} sequences but {len(y)} targets")
            if per_step is None:
                per_step = y.dtype == object or y.ndim >= 2
        self.y = y
        self.per_step = bool(per_step)

    def __len__(self) -> int:
        return len(self.seqs)

    def batch(self, index: Array) -> Batch:
        """Pad the sequences at `index` to their longest; pads are 0 and masked out."""
        lengths = self.lengths[index]
        T = int(lengths.max())
        first = self.seqs[index[0]]
        shape = (len(index), T, *first.shape[1:])
        if first.ndim == 2 and first.dtype.kind in "iu":  # ids per step (words and their
            # characters): each sentence as wide as its longest word, padded to the widest
            shape = (len(index), T, max(self.seqs[i].shape[1] for i in index))
        x = np.zeros(shape, dtype=first.dtype)
        for row, i in enumerate(index):
            seq = self.seqs[i]
            x[row, : lengths[row]][..., : seq.shape[-1]] = seq
        mask = np.arange(T)[None, :] < lengths[:, None]  # (B, T)
        y = None if self.y is None else self.y[index]
        if y is not None and y.dtype == object:  # per-step targets of varying length
            y = _pad_targets(y, T)
        elif y is not None and self.per_step:  # padded per-step targets: cut like x
            y = y[:, :T]
        return Batch(x, mask, lengths, y, np.asarray(index))

    def batches(
        self, batch_size: int, rng: np.random.Generator | None = None, bucket: bool = True
    ) -> list[Array]:
        """Index arrays of the mini-batches: shuffled with `rng`, length-bucketed.

        Without `rng` nothing is random (evaluation, prediction); without `bucket` the
        batches are cut from the shuffled order as it is.
        """
        return bucket_batches(
            self.lengths, batch_size, rng, shuffle=rng is not None, bucket_size=50 if bucket else 1
        )


def _as_targets(y: Any, per_step: bool | None) -> Array:
    """Targets as an array: (N,) or (N, k) per sequence, (N, T[, k]) padded per step, or
    (N,) of per-step arrays."""
    if isinstance(y, np.ndarray):
        return y
    items = list(y)
    ragged = len({np.shape(t) for t in items}) > 1
    if items and all(np.ndim(t) >= 1 for t in items) and (ragged or per_step):
        out = np.empty(len(items), dtype=object)  # per-step targets of different lengths
        out[:] = [np.asarray(t) for t in items]
        return out
    return np.asarray(items)


def _pad_targets(y: Array, T: int) -> Array:
    first = np.asarray(y[0])
    out = np.zeros((len(y), T, *first.shape[1:]), dtype=first.dtype)
    for row, t in enumerate(y):
        out[row, : len(t)] = t
    return out
