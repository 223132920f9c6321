"""The input side of a recurrent layer: x_t U for every step at once, and its gradients.

Ids are one-hot vectors that are never built: x_t U is row x_t of U, and dU a sparse
row update. Real vectors (B, T, n_in) go through one GEMM for all T steps, forward
(x_t U into a time-major buffer) and backward (dU = sum_t x_t^T dA_t, dx = dA U^T).
The gated cells keep one d-wide block per gate, gate-major, so each gate's projection
lands in its own contiguous (T, B, d) block. Their backward pass hands the gradient
back with the gates side by side, (T, B, g d) (the NumPy path only where it is small):
then dU, dx (and the LSTM's dW) are one GEMM each for all gates instead of one per gate.
"""

from __future__ import annotations

import numpy as np

from rnnkit.core.kernels import kernel_path
from rnnkit.core.layout import row_major, steps_2d
from rnnkit.layers.base import Layer

__all__ = [
    "SIDE_BY_SIDE",
    "gate_bias_gradient",
    "gate_major_input_gradients",
    "input_gradients",
    "project_gate_major",
    "project_inputs",
    "side_by_side",
]

Array = np.ndarray
#: the most entries (T B g d) of dL/d(x_t U) that the NumPy path copies side by side,
#: (T, B, g d), into a buffer of its own (the compiled path writes them there in the
#: first place, at any size). At B 32, d 128 dU and dx took 1.4 ms as one GEMM each
#: where one per gate took 1.8; above this, each gate's GEMM is large enough on its
#: own, and the copy would add to a step's memory.
SIDE_BY_SIDE = 2**21


def project_inputs(layer: Layer, x: Array, ids: bool, out: Array) -> Array:
    """``x_t U`` for every step into `out`, time-major (T, B, k); the bias is left out.

    Ids are one-hot vectors that are never built: x_t U is row x_t of U. Real vectors
    go through one GEMM for all steps.
    """
    U = layer.params["U"]
    if ids:
        return np.take(U, x.T, axis=0, out=out)  # (T, B, k): a row lookup per step
    xt, _ = steps_2d(x, time_major=True)  # (T*B, n), a view when x is time-major already
    np.matmul(xt, U, out=out.reshape(-1, U.shape[1]))  # one GEMM for every step
    return out


def project_gate_major(layer: Layer, x: Array, ids: bool, out: Array) -> Array:
    """``x_t U_k`` for every gate k and step into `out`, gate-major (g, T, B, d).

    One row lookup or one GEMM per gate, each straight into its contiguous (T, B, d)
    block; the bias is left out.
    """
    U = layer.params["U"]
    g, d = out.shape[0], out.shape[3]
    if ids:
        for k in range(g):
            np.take(U[:, k * d : (k + 1) * d], x.T, axis=0, out=out[k])
        return out
    xt, _ = steps_2d(x, time_major=True)  # (T*B, n)
    for k in range(g):
        np.matmul(xt, U[:, k * d : (k + 1) * d], out=out[k].reshape(-1, d))
    return out


def side_by_side(layer: Layer, dA_shape: tuple[int, ...]) -> Array | None:
    """The layer's buffer (T, B, g d) for a gate-major dL/d(x_t U) of `dA_shape`
    (g, T, B, d) with its gates side by side, or None on the NumPy path where it has
    more than SIDE_BY_SIDE entries."""
    g, T, B, d = dA_shape
    if g * T * B * d > SIDE_BY_SIDE and kernel_path() != "compiled":
        return None
    return layer.workspace.take("dA_rows", (T, B, g * d), layer.dtype)


def gate_bias_gradient(dA: Array) -> Array:
    """db (g d,): dL/d(x_t U + b) summed over steps and rows, from dA gate-major
    (g, T, B, d) or side by side (T, B, g d)."""
    if dA.ndim == 3:
        return dA.reshape(-1, dA.shape[2]).sum(axis=0)
    return dA.reshape(dA.shape[0], -1, dA.shape[3]).sum(axis=1).reshape(-1)


def gate_major_input_gradients(
    layer: Layer, x: Array, ids: bool, mask_t: Array | None, dA: Array
) -> Array | None:
    """:func:`input_gradients` for a gated cell's dL/d(x_t U): gate-major (g, T, B, d),
    one GEMM per gate, or with its gates side by side (T, B, g d), one GEMM."""
    if dA.ndim == 3:
        return input_gradients(layer, x, ids, mask_t, dA)
    if ids:  # the sparse row gradient reads (T, B, g d): the rare path, one copy
        return input_gradients(layer, x, ids, mask_t, row_major(dA))
    U = layer.params["U"]
    g, T, B, d = dA.shape
    n = U.shape[0]
    xt, _ = steps_2d(x, time_major=True)  # (T*B, n)
    dx = layer.workspace.take("dx", (T * B, n), layer.dtype)
    part = layer.workspace.take("dx_part", (T * B, n), layer.dtype)
    for k in range(g):
        dA_k = dA[k].reshape(T * B, d)
        layer.grads["U"][:, k * d : (k + 1) * d] += xt.T @ dA_k  # one GEMM per gate
        np.matmul(dA_k, U[:, k * d : (k + 1) * d].T, out=part if k else dx)
        if k:
            dx += part
    layer._mark_dense("U")
    return dx.reshape(T, B, n).swapaxes(0, 1)  # (B, T, n), time-major underneath


def input_gradients(
    layer: Layer, x: Array, ids: bool, mask_t: Array | None, dxw: Array
) -> Array | None:
    """Add dU from dL/d(x_t U) (T, B, k) and return dx (B, T, n_in), None for ids."""
    U = layer.params["U"]
    T, B, k = dxw.shape
    if ids:
        layer._add_rows("U", x.T, dxw, mask_t)
        return None
    n = U.shape[0]
    xt, _ = steps_2d(x, time_major=True)
    dxw2 = dxw.reshape(T * B, k)
    layer.grads["U"] += xt.T @ dxw2  # one GEMM for every step
    layer._mark_dense("U")
    dx = layer.workspace.take("dx", (T * B, n), layer.dtype)
    np.matmul(dxw2, U.T, out=dx)
    return dx.reshape(T, B, n).swapaxes(0, 1)  # (B, T, n), time-major underneath
