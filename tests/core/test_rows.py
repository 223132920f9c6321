"""Row-sparse gradients and updates: the compiled pass against the NumPy reference.

Specified here: :func:`add_rows_grad` adds the gradient of a lookup into a gradient
array and returns the rows it touched, the same on both paths of
:mod:`rnnkit.core.kernels` (bit for bit where the array starts at zero, as after
``zero_grad``) for repeated ids, pads, batch-first and time-major gradients, float32
and float64; ids beyond the table raise NumPy's IndexError on both paths and write
nothing, and a negative id counts from the end on both, as NumPy's indexing does (the
Embedding layer refuses both before). :func:`sgd_rows` takes an SGD step on the given
rows with the reference's bits, and declines arrays it does not take; :func:`add_scaled_rows`
adds a scaled block of distinct rows with the reference's bits; :func:`zero_rows`
leaves a gradient that was zero outside its rows all zero.
"""

from __future__ import annotations

import numpy as np
import pytest

from rnnkit.core.embedding import (
    add_rows_grad,
    add_scaled_rows,
    sgd_rows,
    sparse_rows_grad,
    zero_rows,
)
from rnnkit.core.kernels import use_kernels

V, E, B, T = 50, 7, 6, 9


def _case(dtype, seed=0):
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, 12, size=(B, T))  # 12 of 50 rows: most ids repeat
    ids[0, :3] = 49  # the last row
    dout = rng.normal(size=(T, B, E)).astype(dtype).swapaxes(0, 1)  # time-major underneath
    mask = rng.random((B, T)) > 0.25
    return ids, dout, mask


def _on(path: str, G, ids, dout, mask):
    with use_kernels(path):
        out = G.copy()
        rows = add_rows_grad(out, ids, dout, mask)
    return out, rows


@pytest.mark.parametrize("masked", [False, True], ids=["full", "padded"])
@pytest.mark.parametrize("layout", ["time-major", "batch-first"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_compiled_rows_add_what_the_reference_adds(compiled, dtype, layout, masked):
    ids, dout, mask = _case(dtype)
    if layout == "batch-first":
        dout = np.ascontiguousarray(dout)
    mask = mask if masked else None
    zero = np.zeros((V, E), dtype)
    ours, rows = _on("compiled", zero, ids, dout, mask)
    want, want_rows = _on("numpy", zero, ids, dout, mask)
    assert ours.dtype == want.dtype and np.array_equal(rows, want_rows)
    assert np.array_equal(ours, want)  # the same additions in the same order
    kept = ids if mask is None else ids[mask]
    np.testing.assert_array_equal(rows, np.unique(kept))
    expect = np.zeros((V, E))
    np.add.at(expect, kept, (dout if mask is None else dout[mask]).astype(np.float64))
    np.testing.assert_allclose(ours, expect, rtol=1e-5, atol=1e-5)
    # into a gradient that holds something already: equal to rounding
    start = np.random.default_rng(1).normal(size=(V, E)).astype(dtype)
    ours, _ = _on("compiled", start, ids, dout, mask)
    want, _ = _on("numpy", start, ids, dout, mask)
    np.testing.assert_allclose(ours, want, rtol=1e-6, atol=1e-6)


def test_sparse_rows_grad_is_the_sum_per_row():
    ids, dout, mask = _case(np.float64)
    rows, g = sparse_rows_grad(ids, dout, mask)
    for r, row in zip(rows, g, strict=True):
        np.testing.assert_allclose(row, dout[(ids == r) & mask].sum(axis=0), atol=1e-12)


@pytest.mark.parametrize("bad", [V, -1])
def test_ids_out_of_range_behave_as_numpy_indexing(kernels, bad):
    ids, dout, _ = _case(np.float32)
    ids[2, 4] = bad
    G = np.zeros((V, E), np.float32)
    with use_kernels(kernels):
        if bad < 0:  # NumPy's indexing wraps a negative id: the reference's row V - 1
            rows = add_rows_grad(G, ids, dout)
            assert rows[0] == -1 and G.any()
            return
        with pytest.raises(IndexError):
            add_rows_grad(G, ids, dout)
    assert not G.any()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sgd_rows_takes_the_reference_step(compiled, dtype):
    rng = np.random.default_rng(3)
    P = rng.normal(size=(V, E)).astype(dtype)
    G = rng.normal(size=(V, E)).astype(dtype)
    rows = np.array([0, 3, 4, 17, 49])
    want = P.copy()
    gr = G[rows]
    gr *= 0.1
    want[rows] -= gr
    with use_kernels("compiled"):
        assert sgd_rows(P, G, rows.astype(np.int32), 0.1)
    assert np.array_equal(P, want)
    with use_kernels("compiled"):
        assert not sgd_rows(P, G[:, ::2], rows, 0.1)  # not contiguous: declined
        assert not sgd_rows(P, G, np.array([0, V]), 0.1)  # out of range: declined
        assert not sgd_rows(P.astype(np.float16), G.astype(np.float16), rows, 0.1)
    with use_kernels("numpy"):
        assert not sgd_rows(P, G, rows, 0.1)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_scaled_rows_add_the_references_bits(compiled, dtype):
    """add_scaled_rows, the sum of the ranks' sparse gradients: G[ids] += X * s."""
    rng = np.random.default_rng(4)
    ids = rng.permutation(V)[:20]  # distinct
    X = rng.normal(size=(20, E)).astype(dtype)
    start = rng.normal(size=(V, E)).astype(dtype)
    results = {}
    for path in ("numpy", "compiled"):
        G = start.copy()
        with use_kernels(path):
            add_scaled_rows(G, ids, X, 0.3, np.empty_like(X))
        results[path] = G
    assert np.array_equal(results["compiled"], results["numpy"])
    want = start.copy()
    want[ids] += X * dtype(0.3)
    assert np.array_equal(results["numpy"], want)


@pytest.mark.parametrize("touched", [3, 12, 13, 50])
def test_zero_rows_leaves_a_gradient_zero_outside_its_rows_all_zero(touched: int) -> None:
    # a quarter of the table or more is filled whole, fewer rows are written alone
    rng = np.random.default_rng(touched)
    rows = np.sort(rng.choice(V, size=touched, replace=False))
    G = np.zeros((V, E), np.float32)
    G[rows] = rng.normal(size=(touched, E))
    view = G[:]
    zero_rows(view, rows)
    assert view.base is G and not G.any()  # in place
