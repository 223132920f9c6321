"""Length buckets: every sequence in one bucket, buckets ordered by length."""

from __future__ import annotations

import itertools

import numpy as np

from rnnkit.core.buckets import length_buckets


def test_buckets_group_words_of_similar_length() -> None:
    n = np.array([1, 2, 3, 2, 1, 12, 3, 4, 1, 11])
    one = length_buckets(n, step_rows=10**9)
    assert [b.tolist() for b in one] == [list(range(10))]
    every = length_buckets(n, step_rows=0)
    assert [sorted(set(n[b].tolist())) for b in every] == [[v] for v in sorted(set(n.tolist()))]
    some = length_buckets(n, step_rows=2)
    assert sorted(np.concatenate(some).tolist()) == list(range(10))
    assert 1 < len(some) < len(every)
    assert all(n[a].max() < n[b].min() for a, b in itertools.pairwise(some))
