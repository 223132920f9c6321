"""Gradients written into one fixed-size record per rank and summed in rank order."""

from __future__ import annotations

import numpy as np

from rnnkit.distributed import Layout, header

Grads = list[tuple[np.ndarray, np.ndarray | None]]


def _records(parts: list[Grads], weights: list[float], layout: Layout | None = None):
    """Each rank's header and record (`layout`, else one fitting them); the layout."""
    heads = np.array(
        [header([w, 0, 0, 0, 0, 0], [r for _, r in p]) for p, w in zip(parts, weights, strict=True)]
    )
    first = parts[0]
    if layout is None:
        layout = Layout.fitting(heads, [g.shape for g, _ in first], [g.dtype for g, _ in first])
    records = [layout.views(np.zeros(layout.nbytes, np.uint8)) for _ in parts]
    for rec, head, grads in zip(records, heads, parts, strict=True):
        layout.pack(rec, head, grads)
    return records, layout


def _sum(parts: list[Grads], weights: list[float]):
    """Pack each rank's parts, sum them for slots of fresh arrays, return (the summed
    gradients sum_into gives the slots, their rows)."""
    records, layout = _records(parts, weights)
    out = [np.full_like(g, np.nan) for g, _ in parts[0]]
    slots = [(f"p{j}", g, g, None) for j, g in enumerate(out)]
    result = layout.sum_into(records, slots)
    return [g for _, _, g, _ in result], [rows for *_, rows in result]


def test_a_slot_in_the_block_gets_a_view_of_the_sum_and_keeps_its_own_gradient() -> None:
    rng = np.random.default_rng(7)
    parts = [[(rng.normal(size=(3, 2)).astype(np.float32), None)] for _ in range(2)]
    records, layout = _records(parts, [1.0, 1.0])
    own = parts[0][0][0].copy()
    ((_, _, summed, _),) = layout.sum_into(records, [("W", own, own, None)])
    assert summed is not own and not np.shares_memory(summed, own)  # no copy into it
    np.testing.assert_array_equal(own, parts[0][0][0])  # this rank's gradient, as it was
    half = np.float32(0.5)
    np.testing.assert_array_equal(summed, parts[0][0][0] * half + parts[1][0][0] * half)


def test_dense_gradients_sum_in_rank_order_with_each_ranks_weight() -> None:
    rng = np.random.default_rng(0)
    g = [[(rng.normal(size=(3, 2)).astype(np.float32), None)] for _ in range(3)]
    (out,), (rows,) = _sum(g, [2.0, 1.0, 1.0])
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
    (as_rows,), (rows,) = _sum(sparse, [3.0, 2.0])
    (as_dense,), (none,) = _sum(dense, [3.0, 2.0])
    assert rows.tolist() == [1, 4, 7, 9] and none is None
    np.testing.assert_array_equal(as_rows[rows], as_dense[rows])
    _, layout = _records(sparse, [3.0, 2.0])
    assert layout.caps == (4,)  # room for 3 rows and a quarter more, not all 10
    assert layout.nbytes == 8 * (6 + 1) + 4 * 8 + 4 * 3 * 4


def test_a_gradient_sparse_on_one_rank_and_dense_on_another_goes_dense() -> None:
    rng = np.random.default_rng(2)
    g0, g1 = _embedding_grad(rng, [2]), rng.normal(size=(10, 3)).astype(np.float32)
    (out,), (rows,) = _sum([[(g0, np.array([2]))], [(g1, None)]], [1.0, 1.0])
    assert rows is None
    np.testing.assert_array_equal(out, g0 * np.float32(0.5) + g1 * np.float32(0.5))


def test_an_empty_share_adds_nothing() -> None:
    g = np.ones((2, 2), np.float32)
    (out,), _ = _sum([[(g, None)], [(np.zeros_like(g), np.zeros(0, np.int64))]], [1.0, 0.0])
    np.testing.assert_array_equal(out, g)


def test_a_share_with_more_rows_than_room_makes_every_rank_grow_the_layout() -> None:
    rng = np.random.default_rng(3)
    small = [[(_embedding_grad(rng, [1]), np.array([1]))] for _ in range(2)]
    _, layout = _records(small, [1.0, 1.0])
    assert layout.caps == (2,)
    more = [small[0], [(_embedding_grad(rng, [0, 5, 8]), np.array([0, 5, 8]))]]
    records, _ = _records(more, [1.0, 1.0], layout)  # rank 1's rows left out
    heads = np.stack([rec.header for rec in records])
    assert not layout.holds(heads)
    grown = Layout.fitting(heads, [(10, 3)], [np.float32], layout)
    assert grown.caps == (4,) and grown.holds(heads)
    assert Layout.fitting(heads, [(10, 3)], [np.float32], grown) is grown  # kept
    dense = [[(g, None)] for g, _ in (more[0][0], more[1][0])]
    records, _ = _records(more, [1.0, 1.0], grown)
    out = np.zeros((10, 3), np.float32)  # zero outside its rows, as a gradient is
    ((_, _, _, rows),) = grown.sum_into(records, [("E", out, out, None)])
    (expected,), _ = _sum(dense, [1.0, 1.0])
    assert rows.tolist() == [0, 1, 5, 8]
    np.testing.assert_array_equal(out[rows], expected[rows])


def test_a_scalar_parameter_travels_whole() -> None:
    g0, g1 = np.array(2.0, np.float32), np.array(4.0, np.float32)
    (out,), (rows,) = _sum([[(g0, None)], [(g1, None)]], [1.0, 3.0])
    assert rows is None and out.shape == () and float(out) == 3.5


def test_a_table_whose_every_row_may_be_touched_travels_whole_with_its_rows() -> None:
    rng = np.random.default_rng(4)
    touched = [[0, 1, 2, 3, 5, 6, 8, 9], [1, 2, 3, 4, 6, 7, 8]]  # 8 of 10: room for all
    grads = [_embedding_grad(rng, rows) for rows in touched]
    W = [rng.normal(size=(3, 5)).astype(np.float32) for _ in touched]
    sparse = [[(g, np.array(r)), (w, None)] for g, r, w in zip(grads, touched, W, strict=True)]
    dense = [[(g, None), (w, None)] for g, w in zip(grads, W, strict=True)]
    (E, dW), (rows, none) = _sum(sparse, [3.0, 2.0])
    (E_dense, dW_dense), _ = _sum(dense, [3.0, 2.0])
    _, layout = _records(sparse, [3.0, 2.0])
    assert layout.caps == (10, -1) and layout.whole(0)  # the whole table: no rows picked
    assert rows.tolist() == list(range(10)) and none is None  # the union, for lazy Adam
    np.testing.assert_array_equal(E, E_dense)  # summed with the dense slots, one block
    np.testing.assert_array_equal(dW, dW_dense)


def test_slots_of_two_dtypes_sum_slot_by_slot() -> None:
    rng = np.random.default_rng(5)
    parts = [
        [(rng.normal(size=(2, 3)).astype(np.float32), None), (rng.normal(size=4), None)]
        for _ in range(2)
    ]
    (a, b), _ = _sum(parts, [1.0, 3.0])
    assert a.dtype == np.float32 and b.dtype == np.float64
    quarter, three = np.float32(0.25), np.float32(0.75)
    np.testing.assert_array_equal(a, parts[0][0][0] * quarter + parts[1][0][0] * three)
    np.testing.assert_array_equal(b, parts[0][1][0] * 0.25 + parts[1][1][0] * 0.75)


def test_the_block_summed_in_pieces_gives_the_bits_of_the_whole() -> None:
    # the scatter exchange: rank k sums piece k of every rank's block; the pieces,
    # put together, are the block sum_into makes, and nothing before the block is needed
    from rnnkit.distributed.reduction import sum_piece

    rng = np.random.default_rng(6)
    touched = [[1, 4], [4, 9, 2], [0]]
    parts = [
        [(_embedding_grad(rng, rows), np.array(rows)), (rng.normal(size=(7, 5)), None)]
        for rows in touched
    ]
    parts = [[(g.astype(np.float32), r) for g, r in p] for p in parts]
    weights = [3.0, 2.0, 2.0]
    (_, whole), _ = _sum(parts, weights)
    records, layout = _records(parts, weights)
    headers = np.stack([rec.header for rec in records])
    block = records[0].block
    assert block is not None and layout.caps == (4, -1)  # room for 4 rows; W dense
    assert 0 <= layout.nbytes - (layout.prefix + block.nbytes) < 8  # the block: last
    for n in (1, 2, 3, 8, 40):  # more pieces than entries: some pieces are empty
        pieces = layout.block_pieces(n)
        assert [a for a, _ in pieces] == [int(sum(k for _, k in pieces[:i])) for i in range(n)]
        assert sum(k for _, k in pieces) == block.size
        summed = np.full(block.size, np.nan, np.float32)
        for first, size in pieces:
            tmp = np.empty(size, np.float32)
            parts_k = [rec.block[first : first + size] for rec in records]
            sum_piece(parts_k, headers, summed[first : first + size], tmp)
        out = [np.full_like(g, np.nan) for g, _ in parts[0]]
        slots = [(f"p{j}", g, g, None) for j, g in enumerate(out)]
        for rec in records:  # the blocks are not read once their sum is given
            assert rec.block is not None
            rec.block[...] = np.nan
        result = layout.sum_into(records, slots, summed=summed)
        np.testing.assert_array_equal(result[1][2], whole)
        assert result[0][3].tolist() == [0, 1, 2, 4, 9]  # the rows, from the prefix
        records, _ = _records(parts, weights, layout)  # fresh blocks for the next n


def test_a_layout_without_one_block_has_no_pieces() -> None:
    layout = Layout(((2, 3), (4,)), ("<f4", "<f8"), (-1, -1))  # two dtypes: no block
    assert layout.block_pieces(2) == [] and layout.prefix == layout.nbytes
