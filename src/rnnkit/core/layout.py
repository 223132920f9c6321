"""Per-step arrays as 2-D rows, in whatever order their memory already has.

rnnkit's arrays are batch-first, (B, T, n), but the recurrent layers keep them
time-major underneath: a per-step output is a (B, T, n) view of a (T, B, n) buffer.
Work that treats every step alike (a Dense layer, a loss, an embedding gradient) runs
on a (B*T, n) matrix, and the rows can come in either order. :func:`steps_2d` gives
that matrix without copying whenever the memory allows, and says which order it is;
:func:`from_steps_2d` turns rows back into a (B, T, k) array (a view).

>>> import numpy as np
>>> x = np.arange(12.0).reshape(3, 2, 2).swapaxes(0, 1)   # (B, T, n) = (2, 3, 2), time-major memory
>>> rows, time_major = steps_2d(x)
>>> rows.shape, time_major, np.shares_memory(rows, x)
((6, 2), True, True)
>>> np.array_equal(from_steps_2d(rows, 2, 3, time_major), x)
True
"""

from __future__ import annotations

import numpy as np

__all__ = ["from_steps_2d", "gate_major", "per_gate", "row_major", "steps_2d"]

Array = np.ndarray


def steps_2d(x: Array, time_major: bool | None = None) -> tuple[Array, bool]:
    """(B, T, n) -> ((B*T, n) rows, whether the rows are time-major).

    Time-major rows are ordered t * B + i, batch-major ones i * T + t. With
    ``time_major=None`` the order is the one the memory has (no copy for a C-contiguous
    array or for a batch-first view of a time-major one); True or False forces it.
    """
    n = x.shape[2]
    if time_major is None:
        if x.flags.c_contiguous:
            return x.reshape(-1, n), False
        time_major = True
    if time_major:
        return np.ascontiguousarray(x.swapaxes(0, 1)).reshape(-1, n), True
    return np.ascontiguousarray(x).reshape(-1, n), False


def from_steps_2d(rows: Array, B: int, T: int, time_major: bool) -> Array:
    """(B*T, k) rows in the given order -> (B, T, k), a view of `rows`."""
    k = rows.shape[1]
    if time_major:
        return rows.reshape(T, B, k).swapaxes(0, 1)
    return rows.reshape(B, T, k)


def gate_major(xw: Array, gates: int) -> Array:
    """(T, B, g d) -> a gate-major copy (g, T, B, d)."""
    T, B, gd = xw.shape
    return np.ascontiguousarray(xw.reshape(T, B, gates, gd // gates).transpose(2, 0, 1, 3))


def row_major(a: Array, out: Array | None = None) -> Array:
    """Gate-major (g, T, B, d) -> (T, B, g d), a copy (into `out` when given)."""
    g, T, B, d = a.shape
    if out is None:
        return np.ascontiguousarray(a.transpose(1, 2, 0, 3)).reshape(T, B, g * d)
    np.copyto(out.reshape(T, B, g, d), a.transpose(1, 2, 0, 3))
    return out


def per_gate(W: Array, gates: int, copy: bool = True) -> Array:
    """(d, g d) weights -> (g, d, d), W_k = W[:, k d : (k + 1) d].

    A contiguous copy, or with ``copy=False`` a view of W (each W_k a column slice,
    which BLAS reads in place: no copy of W per call, which matters for one step).
    """
    d = W.shape[0]
    view = W.reshape(d, gates, W.shape[1] // gates).transpose(1, 0, 2)
    return np.ascontiguousarray(view) if copy else view
