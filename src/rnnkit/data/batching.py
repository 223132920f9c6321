"""Batches of example indices: in order, or shuffled with length buckets.

An RNN batch is padded to its longest sequence, so mixing a 5-word and a 50-word
review wastes 45 steps. Length bucketing keeps the randomness of shuffling but puts
sequences of similar length together:

>>> rng = np.random.default_rng(0)
>>> lengths = [5, 50, 6, 48, 7, 49]
>>> batches = bucket_batches(lengths, 2, rng)
>>> sorted(sorted(int(lengths[i]) for i in b) for b in batches)
[[5, 6], [7, 48], [49, 50]]
>>> sequential_batches(5, 2)
[array([0, 1]), array([2, 3]), array([4])]
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from rnnkit.errors import ConfigError, ShapeError

__all__ = ["bucket_batches", "sequential_batches"]


def bucket_batches(
    lengths: ArrayLike,
    batch_size: int,
    rng: np.random.Generator | None,
    *,
    shuffle: bool = True,
    bucket_size: int = 50,
) -> list[np.ndarray]:
    """Split example indices into batches of similar sequence lengths.

    Parameters
    ----------
    lengths : array_like of int, shape (N,)
        Sequence length of each example.
    batch_size : int
        Examples per batch (the last batch of each bucket may be smaller).
    rng : numpy.random.Generator or None
        Source of the shuffles; may be None only when ``shuffle=False``.
    shuffle : bool, default True
        Shuffle the examples and the batch order. With False, nothing random happens:
        the buckets follow the index order and the batches come out sorted by length
        within each bucket.
    bucket_size : int, default 50
        Batches per bucket: each bucket of ``bucket_size * batch_size`` examples is
        sorted by length before being cut into batches.

    Returns
    -------
    list of ndarray of int64
        Index arrays; together they hold every index ``0 .. N - 1`` exactly once.

    Notes
    -----
    The algorithm: shuffle the indices, cut them into buckets, sort each bucket by
    length (stable, so equal lengths keep their shuffled order), cut each bucket into
    batches, shuffle the order of all the batches. A larger ``bucket_size`` pads less
    and shuffles less. torchtext called this a ``BucketIterator``.

    Examples
    --------
    >>> bucket_batches([3, 1, 2, 1], 2, None, shuffle=False)
    [array([1, 3]), array([2, 0])]
    """
    lengths = np.asarray(lengths)
    if lengths.ndim != 1:
        raise ShapeError(f"lengths: expected shape (N,), got {lengths.shape}")
    _check_positive("batch_size", batch_size)
    _check_positive("bucket_size", bucket_size)
    if not shuffle:
        rng = None
    elif not isinstance(rng, np.random.Generator):
        raise ConfigError(f"rng: shuffling needs a numpy.random.Generator, got {rng!r}")
    order = np.arange(len(lengths), dtype=np.int64)
    if rng is not None:
        order = rng.permutation(order)
    chunk = bucket_size * batch_size
    batches: list[np.ndarray] = []
    for start in range(0, len(order), chunk):
        bucket = order[start : start + chunk]
        bucket = bucket[np.argsort(lengths[bucket], kind="stable")]
        batches.extend(bucket[i : i + batch_size] for i in range(0, len(bucket), batch_size))
    if rng is not None:
        batches = [batches[i] for i in rng.permutation(len(batches))]
    return batches


def sequential_batches(n: int, batch_size: int) -> list[np.ndarray]:
    """Indices ``0 .. n - 1`` in order, cut into batches of ``batch_size``.

    Parameters
    ----------
    n : int
        Number of examples (>= 0).
    batch_size : int
        Examples per batch; the last batch may be smaller.

    Returns
    -------
    list of ndarray of int64

    Examples
    --------
    >>> sequential_batches(4, 4)
    [array([0, 1, 2, 3])]
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ConfigError(f"n: expected an integer >= 0, got {n!r}")
    _check_positive("batch_size", batch_size)
    order = np.arange(n, dtype=np.int64)
    return [order[i : i + batch_size] for i in range(0, n, batch_size)]


def _check_positive(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ConfigError(f"{name}: expected an integer >= 1, got {value!r}")
