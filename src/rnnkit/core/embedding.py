"""Embedding lookup e_i = E o_i as a row gather, and its sparse gradient.

Multiplying the embedding matrix by a one-hot vector o_i selects row i, so a lookup
is ``E[ids]`` and the gradient touches only the rows that occurred.

>>> import numpy as np
>>> E = np.arange(6.0).reshape(3, 2)
>>> lookup(E, np.array([[2, 0]]))
array([[[4., 5.],
        [0., 1.]]])
>>> rows, g = sparse_rows_grad(np.array([[2, 0, 2]]), np.ones((1, 3, 2)))
>>> rows.tolist(), g.tolist()
([0, 2], [[1.0, 1.0], [2.0, 2.0]])
"""

from __future__ import annotations

import numpy as np

from rnnkit.core.layout import steps_2d
from rnnkit.core.workspace import Workspace, take

__all__ = ["lookup", "sparse_rows_grad"]

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
    if dout.ndim == 3 and not dout.flags.c_contiguous:  # (B, T, d), in its memory's order
        flat, time_major = steps_2d(dout)
        if time_major:
            ids = ids.T
            mask = None if mask is None else mask.T
    else:
        flat = dout.reshape(ids.size, -1)
    flat_ids = ids.reshape(-1)
    if mask is not None:
        keep = mask.reshape(-1)
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
