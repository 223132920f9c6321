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
``xw``, from which the caller gets dU, db and dx with one GEMM each. :func:`rnn_scan`
is the recurrence itself, in place in the state buffer: a layer writes the input
projection straight into ``H[1:]``, so no separate buffer is needed.

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
from rnnkit.core.workspace import Workspace, take

__all__ = [
    "cache_steps",
    "padded_steps",
    "record_state_gradient",
    "rnn_backward",
    "rnn_forward",
    "rnn_scan",
]

Array = np.ndarray


#: bytes of per-step arrays that a chunk of steps should fill: about a core's L2 cache
CHUNK_BYTES = 1 << 20


def cache_steps(bytes_per_step: int, T: int) -> int:
    """How many steps of element-wise work to do in one go so the arrays stay in cache.

    Fewer calls favour large chunks, cache hits small ones: a chunk fills about
    :data:`CHUNK_BYTES` (all T steps of a small layer, one step of a large one).
    """
    return int(min(T, max(1, CHUNK_BYTES // max(bytes_per_step, 1))))


def padded_steps(mask: Array | None) -> list[bool]:
    """For each step of a (T, B) mask, whether any sequence is padded there."""
    if mask is None:
        return []
    any_pad = np.logical_not(mask).any(axis=1)  # (T,)
    return [bool(p) for p in np.atleast_1d(any_pad)]


def record_state_gradient(dh_out: Array, t: int, dh: Array, mask: Array | None) -> None:
    """Write step t's total gradient of a state, dL/dh_t (B, d) (or an LSTM's dL/dc_t),
    into row t of `dh_out` (T, B, d), zero at pads.

    The backward passes call it when asked to record (``dh_out`` given), to diagnose
    how the gradient fades or grows with distance from the loss.
    """
    if mask is None:
        dh_out[t] = dh
    else:  # a pad's state is a copy of the previous one: it has no gradient of its own
        np.multiply(dh, mask[t, :, None], out=dh_out[t])


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
    T, B, d = xw.shape
    H = np.empty((T + 1, B, d), dtype=xw.dtype)  # (T+1, B, d)
    H[0], H[1:] = h0, xw
    return rnn_scan(H, W, mask, activation)


def rnn_scan(
    H: Array,
    W: Array,
    mask: Array | None = None,
    activation: str = "tanh",
    ws: Workspace | None = None,
) -> Array:
    """The recurrence in place: H[0] = h_0 and H[1:] = xw on entry, H[t] = h_t on return.

    `ws` supplies the (B, d) scratch row, so a repeated call allocates nothing.
    """
    f, _ = get_activation(activation)
    T, B, d = H.shape[0] - 1, H.shape[1], H.shape[2]
    hw = take(ws, "rnn_hw", (B, d), H.dtype)  # h_{t-1} W
    padded = padded_steps(mask)
    for t in range(T):
        h = H[t + 1]  # holds U x_t + b
        np.matmul(H[t], W, out=hw)  # W h_{t-1}
        h += hw
        f(h, out=h)  # h_t = f(U x_t + W h_{t-1} + b)
        if padded and padded[t]:
            assert mask is not None
            np.copyto(h, H[t], where=~mask[t, :, None])  # pad step: carry the previous state
    return H


def rnn_backward(
    dH: Array | None,
    dh_last: Array | None,
    H: Array,
    W: Array,
    mask: Array | None = None,
    activation: str = "tanh",
    ws: Workspace | None = None,
    dh_out: Array | None = None,
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
    ws : Workspace, optional; where the returned dxw and the scratch rows live.
    dh_out : (T, B, d) array, optional
        Filled with the total dL/dh_t of every step (zero at pads): the step's own
        output gradient plus everything flowing back from steps t + 1, ..., T, i.e.
        ``sum_k dL_k/dh_t`` over the losses k >= t. Nothing is recorded when omitted.

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
    T, B, d = H.shape[0] - 1, H.shape[1], H.shape[2]
    WT = np.ascontiguousarray(W.T)  # NOTE: a copy: the per-step GEMM runs 10-30% faster
    # NOTE: f'(a_t) depends on h_t alone, so it is computed for all steps at once; the
    # loop then turns it into dL/da_t in place, one product per step.
    dA = f_grad(H[1:], out=take(ws, "rnn_dA", (T, B, d), H.dtype))  # (T, B, d)
    if mask is not None:
        dA *= mask[:, :, None]  # a pad step computed nothing: no gradient into it
    dh = take(ws, "rnn_dh", (B, d), H.dtype)  # dL/dh_t, built up from the later steps
    dh_prev = take(ws, "rnn_dh_prev", (B, d), H.dtype)
    if dh_last is None:
        dh.fill(0.0)
    else:
        dh[...] = dh_last
    padded = padded_steps(mask)
    for t in range(T - 1, -1, -1):
        if dH is not None:
            dh += dH[t]  # the output of step t adds its own gradient
        if dh_out is not None:
            record_state_gradient(dh_out, t, dh, mask)
        da = dA[t]
        da *= dh  # backprop through f: dL/da_t = dL/dh_t * f'(a_t)
        np.matmul(da, WT, out=dh_prev)  # dL/dh_{t-1} through W
        if padded and padded[t]:
            assert mask is not None
            np.copyto(dh_prev, dh, where=~mask[t, :, None])  # pad: h_t = h_{t-1}, pass on
        dh, dh_prev = dh_prev, dh
    # dW = sum_t h_{t-1}^T dA_t: all steps in one GEMM
    dW = H[:-1].reshape(T * B, d).T @ dA.reshape(T * B, d)
    return dA, dW, dh
