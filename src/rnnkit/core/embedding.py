"""Embedding lookup e_i = E o_i as a row gather, and its sparse gradient.

Multiplying the embedding matrix by a one-hot vector o_i selects row i, so a lookup
is ``E[ids]`` and the gradient touches only the rows that occurred:
:func:`sparse_rows_grad` sums the rows of equal ids, :func:`add_rows_grad` adds them
into a gradient array (compiled, in one pass over the tokens, where the kernels are
built), and :func:`sgd_rows` takes an SGD step on those rows alone.

>>> import numpy as np
>>> E = np.arange(6.0).reshape(3, 2)
>>> lookup(E, np.array([[2, 0]]))
array([[[4., 5.],
        [0., 1.]]])
>>> rows, g = sparse_rows_grad(np.array([[2, 0, 2]]), np.ones((1, 3, 2)))
>>> rows.tolist(), g.tolist()
([0, 2], [[1.0, 1.0], [2.0, 2.0]])
>>> G = np.zeros((3, 2))
>>> add_rows_grad(G, np.array([[2, 0, 2]]), np.ones((1, 3, 2))).tolist()
[0, 2]
>>> G.tolist()
[[1.0, 1.0], [0.0, 0.0], [2.0, 2.0]]
"""

from __future__ import annotations

import numpy as np

from rnnkit.core.kernels import compiled_function, pointer
from rnnkit.core.layout import steps_2d
from rnnkit.core.workspace import Workspace, take

__all__ = [
    "add_rows_grad",
    "add_scaled_rows",
    "distinct_rows",
    "lookup",
    "sgd_rows",
    "sparse_rows_grad",
    "zero_rows",
]

Array = np.ndarray


def lookup(E: Array, ids: Array) -> Array:
    """Rows of E for every id: (N, d) and ids (...) -> (..., d)."""
    return E[ids]


def sparse_rows_grad(
    ids: Array, dout: Array, mask: Array | None = None, ws: Workspace | None = None
) -> tuple[Array, Array]:
    """Sum the output gradients of equal ids.

    Parameters
    ----------
    ids : (...) int array
    dout : (..., d) array, dL/d(E[ids])
    mask : bool array shaped like `ids`, optional; pads contribute nothing.
    ws : Workspace, optional; where the scratch index and the returned `grad` live.

    Returns
    -------
    rows : (k,) sorted unique ids that occurred
    grad : (k, d) dL/dE[rows]
    """
    flat_ids, flat, keep = _tokens(ids, dout, mask)
    if keep is not None:
        flat_ids, flat = flat_ids[keep], flat[keep]
    if flat_ids.size == 0:
        return np.zeros(0, dtype=np.intp), np.zeros((0, flat.shape[1]), dtype=dout.dtype)
    rows, inverse, counts = np.unique(flat_ids, return_inverse=True, return_counts=True)
    k, e = len(rows), flat.shape[1]
    grad = take(ws, "sparse_grad", (k, e), dout.dtype)
    once = counts[inverse] == 1  # tokens whose id occurs once in the batch: a row copy
    if once.any():
        grad[inverse[once]] = flat[once]
        if once.all():
            return rows, grad
        many = ~once
        inverse, flat = inverse[many], flat[many]
        grad[counts > 1] = 0.0
    else:  # every id repeats (a small vocabulary)
        grad.fill(0.0)
    # NOTE: the repeated ids are summed with one unbuffered add over a flat index
    # (row * e + column), several times faster than np.add.reduceat or np.add.at over
    # rows, whose per-row overhead dominates.
    itype = np.int32 if k * e < 2**31 else np.intp
    index = take(ws, "sparse_index", (len(inverse), e), itype)  # (n repeated, e)
    np.multiply(inverse.astype(itype)[:, None], itype(e), out=index)
    index += np.arange(e, dtype=itype)
    np.add.at(grad.reshape(-1), index.reshape(-1), flat.reshape(-1))
    return rows, grad


def _tokens(ids: Array, dout: Array, mask: Array | None) -> tuple[Array, Array, Array | None]:
    """The tokens in their memory's order: ids (n,), dout's rows (n, d) and the mask
    (n,) or None; a (B, T, d) dout that is time-major underneath is not copied."""
    if dout.ndim == 3 and not dout.flags.c_contiguous:  # (B, T, d), in its memory's order
        flat, time_major = steps_2d(dout)
        if time_major:
            ids = ids.T
            mask = None if mask is None else mask.T
    else:
        flat = dout.reshape(ids.size, -1)
    return ids.reshape(-1), flat, None if mask is None else mask.reshape(-1)


def add_rows_grad(
    G: Array, ids: Array, dout: Array, mask: Array | None = None, ws: Workspace | None = None
) -> Array:
    """``G[ids] += dout``, the rows of equal ids summed and pads skipped: the gradient of
    a lookup of `ids` added into G (V, d). Returns the sorted distinct rows it touched.

    Where the kernels are built (:mod:`rnnkit.core.kernels`), one compiled pass over the
    tokens adds each token's row into its id's row, in the order of
    :func:`sparse_rows_grad`'s sums; else :func:`sparse_rows_grad`, then one add per row.
    """
    flat_ids, flat, keep = _tokens(ids, dout, mask)
    used = flat_ids if keep is None else flat_ids[keep]
    fn = _rows_kernel("rows_add", G, flat)
    if fn is None or (used.size and (used.min() < 0 or used.max() >= len(G))):
        rows, g = sparse_rows_grad(ids, dout, mask, ws)  # out of range: NumPy's error
        G[rows] += g  # distinct rows
        return rows
    rows = distinct_rows([used], len(G), ws)
    tokens = np.ascontiguousarray(flat_ids, dtype=np.int64)
    pads = None if keep is None else np.ascontiguousarray(keep, dtype=np.bool_).view(np.uint8)
    ld = flat.strides[0] // flat.itemsize
    fn(len(tokens), pointer(tokens), pointer(flat), ld, pointer(pads), pointer(G), G.shape[1], 1.0)
    return rows


def add_scaled_rows(G: Array, ids: Array, X: Array, s: float, tmp: Array) -> None:
    """``G[ids] += X * s`` for distinct `ids` (X (len(ids), d)): compiled in one pass
    where the kernels take these arrays, else through `tmp` (X's shape), with the same
    bits: the product rounded, then the sum."""
    fn = _rows_kernel("rows_add", G, X)
    if fn is None or (ids.size and (ids.min() < 0 or ids.max() >= len(G))):
        G[ids] += np.multiply(X, s, out=tmp)
        return
    ids = np.ascontiguousarray(ids, dtype=np.int64)
    ld = X.strides[0] // X.itemsize
    fn(len(ids), pointer(ids), pointer(X), ld, None, pointer(G), G.shape[1], s)


def distinct_rows(parts: list[Array], n: int, ws: Workspace | None = None) -> Array:
    """The sorted distinct values of the id arrays `parts`, every one in ``range(n)``:
    marked in a mask where n is small beside the ids (a few microseconds, a sixth of
    np.unique's for 1,280 ids of 10,000), else np.unique."""
    if n > 32 * sum(len(p) for p in parts):
        return np.unique(np.concatenate(parts))
    seen = take(ws, "rows_seen", (n,), np.bool_)
    seen.fill(False)
    for ids in parts:
        seen[ids] = True
    return np.flatnonzero(seen)


def zero_rows(G: Array, rows: Array) -> None:
    """``G[rows] = 0`` for a gradient that is zero outside `rows`: the whole array
    filled where the rows are a quarter of it or more (a character vocabulary's
    table, whose every row a batch touches: a fill costs a fraction of an indexed
    write), else the rows alone (a word vocabulary's, mostly untouched)."""
    if 4 * len(rows) >= len(G):
        G.fill(0.0)
    else:
        G[rows] = 0.0


def sgd_rows(P: Array, G: Array, rows: Array, lr: float) -> bool:
    """``P[rows] -= G[rows] * lr`` compiled, in place, where the kernels are built and
    take these arrays (True); False, doing nothing, where they do not."""
    fn = _rows_kernel("rows_sgd", P, G)
    if fn is None or not G.flags.c_contiguous or G.shape != P.shape or rows.ndim != 1:
        return False
    if rows.size and (rows.min() < 0 or rows.max() >= len(P)):
        return False  # NumPy's indexing then says what is wrong
    rows = np.ascontiguousarray(rows, dtype=np.int64)
    fn(len(rows), pointer(rows), pointer(G), pointer(P), P.shape[1], lr)
    return True


def _rows_kernel(name: str, G: Array, X: Array):
    """The compiled `name` for G (contiguous, 2-D) and X (rows of G's dtype and width,
    each row contiguous), or None."""
    if X.dtype != G.dtype or G.ndim != 2 or X.ndim != 2 or not G.flags.c_contiguous:
        return None
    if X.shape[1] != G.shape[1] or X.strides[1] != X.itemsize or X.strides[0] % X.itemsize:
        return None
    return compiled_function(name, G.dtype)
