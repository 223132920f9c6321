"""Buckets of sequences of similar length, so a padded batch wastes few steps on pads.

A recurrent layer runs as many steps as the longest sequence of its batch, over every
sequence. When most sequences are short and a few long (the characters of English
words: most have 1 to 4, a few 12), reading the batch as a few buckets, each up to its
own longest sequence, saves most of the steps spent on pads; each bucket's steps cost
their calls too, so more buckets are not always better.
"""

from __future__ import annotations

import numpy as np

__all__ = ["length_buckets"]

Array = np.ndarray


def length_buckets(n: Array, step_rows: float) -> list[Array]:
    """Groups of words of similar lengths that are cheapest to read bucket by bucket.

    Parameters
    ----------
    n : (N,) int array, > 0, the characters of each word
    step_rows : float
        The cost of a time step itself, counted in words: a step over k words costs
        about ``k + step_rows``.

    Returns
    -------
    list of (N_b,) int arrays, indices into `n`, shortest words first; together they
    hold every index once.

    Notes
    -----
    A batch read as one runs max(n) steps over all N words, about three times the
    characters there are for English words (most have 1 to 4, a few 12). A bucket of
    words of lengths up to l costs ``l (N_b + step_rows)``; the split into buckets at
    lengths that minimises the sum is found by dynamic programming over the distinct
    lengths (a few dozen at most).

    >>> [b.tolist() for b in length_buckets(np.array([1, 9, 2, 1, 8]), step_rows=0)]
    [[0, 3], [2], [4], [1]]
    >>> [b.tolist() for b in length_buckets(np.array([1, 9, 2, 1, 8]), step_rows=100)]
    [[0, 1, 2, 3, 4]]
    """
    values, counts = np.unique(n, return_counts=True)  # distinct lengths, ascending
    below = np.concatenate([[0], np.cumsum(counts)])  # words of the first j lengths
    m = len(values)
    best = np.zeros(m + 1)  # best[j]: cheapest plan for the j shortest lengths
    start = np.zeros(m + 1, dtype=int)  # where the last bucket of that plan starts
    for j in range(1, m + 1):
        costs = [best[i] + values[j - 1] * (below[j] - below[i] + step_rows) for i in range(j)]
        start[j] = int(np.argmin(costs))
        best[j] = costs[start[j]]
    bounds = []
    j = m
    while j > 0:
        bounds.append((values[start[j]], values[j - 1]))
        j = start[j]
    return [np.flatnonzero((n >= lo) & (n <= hi)) for lo, hi in reversed(bounds)]
