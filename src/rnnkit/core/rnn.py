"""The simple (Elman) recurrent cell over a whole sequence, forward and BPTT backward.

The cell is the lecture's

    h_t = f(U x_t + W h_{t-1} + b)

with U of shape (n_in, d), W (d, d) and b (d,) in the Keras layout (row vectors:
``h_t = f(x_t @ U + h_prev @ W + b)``). Keras calls them ``kernel``,
``recurrent_kernel`` and ``bias``; PyTorch's ``nn.RNN`` stores ``weight_ih_l0 = U.T``,
``weight_hh_l0 = W.T`` and splits b into ``bias_ih_l0 + bias_hh_l0``.

These functions work on time-major buffers and know nothing of layers: the input
projection ``U x_t + b`` of every step is computed beforehand in one GEMM (or one row
lookup for ids) and handed in as ``xw``; the backward pass returns the gradient of
``xw``, from which the caller gets dU, db and dx with one GEMM each.

Masking: where ``mask[t, i]`` is False (a pad), the state is carried unchanged,
``h_t = h_{t-1}``, so the last buffer row holds every sequence's last real state and
no gradient flows into a pad step.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> T, B, d = 4, 2, 3
>>> xw, W = rng.normal(size=(T, B, d)), rng.normal(size=(d, d)) * 0.5
>>> H = rnn_forward(xw, W, np.zeros((B, d)))
>>> H.shape                      # (T + 1, B, d): H[0] is h_0
(5, 2, 3)
>>> np.allclose(H[1], np.tanh(xw[0]))
True
"""

from __future__ import annotations

import numpy as np

from rnnkit.core.activations import get_activation

__all__ = ["rnn_backward", "rnn_forward"]

Array = np.ndarray


def rnn_forward(
    xw: Array,
    W: Array,
    h0: Array,
    mask: Array | None = None,
    activation: str = "tanh",
) -> Array:
    """Run the recurrence over all T steps.

    Parameters
    ----------
    xw : (T, B, d) array
        The input projection ``U x_t + b`` of every step.
    W : (d, d) array
        Recurrent weights (Keras ``recurrent_kernel``).
    h0 : (B, d) array
        Initial state.
    mask : (T, B) bool array, optional
        False at pad steps, where the state is carried unchanged.
    activation : {"tanh", "relu", "sigmoid", "linear"}

    Returns
    -------
    H : (T + 1, B, d) array
        ``H[0] = h0`` and ``H[t] = h_t``.
    """
    f, _ = get_activation(activation)
    T, B, d = xw.shape
    H = np.empty((T + 1, B, d), dtype=xw.dtype)  # (T+1, B, d)
    H[0] = h0
    pad = None if mask is None else ~mask[:, :, None]  # (T, B, 1) True at pad steps
    for t in range(T):
        h = H[t + 1]
        np.matmul(H[t], W, out=h)  # W h_{t-1}
        h += xw[t]  # + U x_t + b
        f(h, out=h)  # h_t = f(.)
        if pad is not None:
            np.copyto(h, H[t], where=pad[t])  # pad step: carry the previous state
    return H


def rnn_backward(
    dH: Array | None,
    dh_last: Array | None,
    H: Array,
    W: Array,
    mask: Array | None = None,
    activation: str = "tanh",
) -> tuple[Array, Array, Array]:
    """Backpropagation through time for :func:`rnn_forward`.

    Parameters
    ----------
    dH : (T, B, d) array or None
        dL/dh_t arriving from the outputs of every step (None: no per-step outputs).
    dh_last : (B, d) array or None
        dL/dh_T arriving from the final state (None: not used).
    H : (T + 1, B, d) array
        States from :func:`rnn_forward`.
    W : (d, d) array
    mask : (T, B) bool array, optional
    activation : str

    Returns
    -------
    dxw : (T, B, d) array
        dL/d(U x_t + b) for every step (zero at pad steps).
    dW : (d, d) array
        Sum over steps of h_{t-1}^T dA_t, computed as one GEMM.
    dh0 : (B, d) array
        dL/dh_0.
    """
    _, f_grad = get_activation(activation)
    T1, B, d = H.shape
    T = T1 - 1
    WT = W.T
    dA = np.empty((T, B, d), dtype=H.dtype)  # (T, B, d) dL/da_t, a_t the pre-activation
    dh = np.zeros((B, d), dtype=H.dtype)  # dL/dh_t, built up from the later steps
    if dh_last is not None:
        dh += dh_last
    dh_prev = np.empty((B, d), dtype=H.dtype)
    deriv = np.empty((B, d), dtype=H.dtype)
    keep = None if mask is None else mask[:, :, None].astype(H.dtype)  # (T, B, 1)
    pad = None if mask is None else ~mask[:, :, None]
    for t in range(T - 1, -1, -1):
        if dH is not None:
            dh += dH[t]  # the output of step t adds its own gradient
        da = dA[t]
        f_grad(H[t + 1], out=deriv)  # backprop through f: f'(a_t) from h_t
        np.multiply(dh, deriv, out=da)
        if keep is not None:
            da *= keep[t]  # a pad step computed nothing
        np.matmul(da, WT, out=dh_prev)  # dL/dh_{t-1} through W
        if pad is not None:
            np.copyto(dh_prev, dh, where=pad[t])  # pad step: h_t = h_{t-1}, pass straight on
        dh, dh_prev = dh_prev, dh
    # dW = sum_t h_{t-1}^T dA_t: all steps in one GEMM
    dW = H[:-1].reshape(T * B, d).T @ dA.reshape(T * B, d)
    return dA, dW, dh
