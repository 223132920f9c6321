"""Gradients packed into one buffer per rank and summed in rank order."""

from __future__ import annotations

import numpy as np

from rnnkit.distributed import combine, pack


def _sum(parts: list[list[tuple[np.ndarray, np.ndarray | None]]], scales: list[float]):
    """Pack each rank's parts, combine them into fresh arrays, return (arrays, rows)."""
    sparse = [all(p[j][1] is not None for p in parts) for j in range(len(parts[0]))]
    packed = [pack(p, sparse, s) for p, s in zip(parts, scales, strict=True)]
    counts = np.array(
        [[len(rows) if sp else 0 for (_, rows), sp in zip(p, sparse, strict=True)] for p in parts]
    )
    out = [np.full_like(g, np.nan) for g, _ in parts[0]]
    slots = [(f"p{j}", g, g, None) for j, g in enumerate(out)]
    result = combine([v for v, _ in packed], [r for _, r in packed], counts, slots, sparse)
    return out, [rows for *_, rows in result]


def test_dense_gradients_sum_in_rank_order_with_each_ranks_weight() -> None:
    rng = np.random.default_rng(0)
    g = [[(rng.normal(size=(3, 2)).astype(np.float32), None)] for _ in range(3)]
    (out,), (rows,) = _sum(g, [0.5, 0.25, 0.25])
    a, b, c = (share[0][0] for share in g)
    expected = (a * np.float32(0.5) + b * np.float32(0.25)) + c * np.float32(0.25)
    assert rows is None and out.dtype == np.float32
    np.testing.assert_array_equal(out, expected)  # the same association: the same bits


def _embedding_grad(rng: np.random.Generator, rows: list[int]) -> np.ndarray:
    g = np.zeros((10, 3), np.float32)
    g[rows] = rng.normal(size=(len(rows), 3))
    return g


def test_sparse_rows_travel_alone_and_sum_as_the_dense_gradients_would() -> None:
    rng = np.random.default_rng(1)
    touched = [[1, 4, 7], [4, 9]]
    grads = [_embedding_grad(rng, rows) for rows in touched]
    sparse = [[(g, np.array(rows))] for g, rows in zip(grads, touched, strict=True)]
    dense = [[(g, None)] for g in grads]
    (as_rows,), (rows,) = _sum(sparse, [0.6, 0.4])
    (as_dense,), (none,) = _sum(dense, [0.6, 0.4])
    assert rows.tolist() == [1, 4, 7, 9] and none is None
    np.testing.assert_array_equal(as_rows[rows], as_dense[rows])
    values, sent = pack(sparse[0], [True], 0.6)
    assert values.size == 3 * 3 and sent.tolist() == [1, 4, 7]  # 3 rows, not 10


def test_a_gradient_sparse_on_one_rank_and_dense_on_another_goes_dense() -> None:
    rng = np.random.default_rng(2)
    g0, g1 = _embedding_grad(rng, [2]), rng.normal(size=(10, 3)).astype(np.float32)
    (out,), (rows,) = _sum([[(g0, np.array([2]))], [(g1, None)]], [0.5, 0.5])
    assert rows is None
    np.testing.assert_array_equal(out, g0 * np.float32(0.5) + g1 * np.float32(0.5))


def test_an_empty_share_adds_nothing() -> None:
    g = np.ones((2, 2), np.float32)
    (out,), _ = _sum([[(g, None)], [(np.zeros_like(g), None)]], [1.0, 0.0])
    np.testing.assert_array_equal(out, g)
