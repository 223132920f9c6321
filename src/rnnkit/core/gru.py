"""The gated recurrent unit (GRU) over a whole sequence, forward and BPTT backward.

Row vectors, gates side by side in Keras order z, r, h (each d wide); U is (n_in, 3d),
W (d, 3d), and ``xw = x_t U + b_x`` is computed beforehand for every step:

    z_t = sigmoid(xw_z + h_{t-1} W_z + b_hz)            update gate
    r_t = sigmoid(xw_r + h_{t-1} W_r + b_hr)            reset gate
    n_t = tanh(xw_h + r_t * (h_{t-1} W_h + b_hh))       candidate (reset_after=True)
    n_t = tanh(xw_h + (r_t * h_{t-1}) W_h)              candidate (reset_after=False)
    h_t = z_t * h_{t-1} + (1 - z_t) * n_t

``reset_after=True`` is Keras's default and PyTorch's only form: the recurrent
projection ``h_{t-1} W + b_h`` (with its own bias b_h, Keras's second bias row) is
computed first and the reset gate scales the candidate's part of it. With
``reset_after=False`` (the original GRU) the reset gate scales h_{t-1} before the
product, and there is one bias, folded into ``xw``. PyTorch orders the gates r, z, n
(see :mod:`rnnkit.io.interop`).

Where ``mask[t, i]`` is False (a pad), the state is carried unchanged.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> T, B, d = 4, 2, 3
>>> xw, W = rng.normal(size=(T, B, 3 * d)), rng.normal(size=(d, 3 * d)) * 0.5
>>> H, G, S = gru_forward(xw, W, np.zeros((B, d)))
>>> H.shape, G.shape, S.shape    # states with h_0 in row 0; gates z, r, n; h W_h + b_hh
((5, 2, 3), (4, 2, 9), (4, 2, 3))
>>> z, n = G[0, :, :d], G[0, :, 2 * d :]
>>> np.allclose(H[1], (1 - z) * n)    # from h_0 = 0
True
"""

from __future__ import annotations

import numpy as np

from rnnkit.core.activations import get_activation

__all__ = ["gru_backward", "gru_forward"]

Array = np.ndarray


def gru_forward(
    xw: Array,
    W: Array,
    h0: Array,
    mask: Array | None = None,
    *,
    recurrent_bias: Array | None = None,
    reset_after: bool = True,
    activation: str = "tanh",
    recurrent_activation: str = "sigmoid",
) -> tuple[Array, Array, Array]:
    """Run the GRU over all T steps.

    Parameters
    ----------
    xw : (T, B, 3d) array
        ``x_t U + b_x`` for every step, gate columns in the order z, r, h.
    W : (d, 3d) array
        Recurrent weights (Keras ``recurrent_kernel``).
    h0 : (B, d) array
        Initial state.
    mask : (T, B) bool array, optional
        False at pad steps, where the state is carried unchanged.
    recurrent_bias : (3d,) array, optional
        b_h, added to ``h_{t-1} W`` (reset_after=True only; zeros when omitted).
    reset_after : bool
        Where the reset gate acts: on ``h_{t-1} W_h + b_hh`` (True) or on h_{t-1} (False).
    activation, recurrent_activation : str
        The candidate's f (tanh) and the gates' f (sigmoid).

    Returns
    -------
    H : (T + 1, B, d) array
        ``H[0] = h0``, ``H[t] = h_t``.
    G : (T, B, 3d) array
        The gate values z, r, n of every step.
    S : (T, B, d) array
        What the candidate's gradient needs: ``h_{t-1} W_h + b_hh`` (reset_after) or
        ``r_t * h_{t-1}``.
    """
    f_act, _ = get_activation(activation)
    f_rec, _ = get_activation(recurrent_activation)
    T, B, d3 = xw.shape
    d = d3 // 3
    H = np.empty((T + 1, B, d), dtype=xw.dtype)  # (T+1, B, d)
    G = np.empty((T, B, d3), dtype=xw.dtype)  # (T, B, 3d): z, r, n
    S = np.empty((T, B, d), dtype=xw.dtype)  # (T, B, d)
    H[0] = h0
    hw = np.empty((B, d3), dtype=xw.dtype)
    pad = None if mask is None else ~mask[:, :, None]  # (T, B, 1) True at pad steps
    for t in range(T):
        a, h_prev = G[t], H[t]  # a: (B, 3d), overwritten by the gates in place
        zr, n = a[:, : 2 * d], a[:, 2 * d :]
        if reset_after:
            np.matmul(h_prev, W, out=hw)  # h_{t-1} W
            if recurrent_bias is not None:
                hw += recurrent_bias  # + b_h
            np.add(xw[t, :, : 2 * d], hw[:, : 2 * d], out=zr)
            f_rec(zr, out=zr)  # z_t, r_t
            S[t] = hw[:, 2 * d :]  # h_{t-1} W_h + b_hh
            np.multiply(a[:, d : 2 * d], S[t], out=n)  # r_t * (h_{t-1} W_h + b_hh)
        else:
            np.matmul(h_prev, W[:, : 2 * d], out=zr)  # h_{t-1} W_zr
            zr += xw[t, :, : 2 * d]
            f_rec(zr, out=zr)  # z_t, r_t
            np.multiply(a[:, d : 2 * d], h_prev, out=S[t])  # r_t * h_{t-1}
            np.matmul(S[t], W[:, 2 * d :], out=n)  # (r_t * h_{t-1}) W_h
        n += xw[t, :, 2 * d :]
        f_act(n, out=n)  # n_t
        h, z = H[t + 1], a[:, :d]
        np.subtract(h_prev, n, out=h)  # h_t = n_t + z_t * (h_{t-1} - n_t)
        h *= z
        h += n
        if pad is not None:
            np.copyto(h, h_prev, where=pad[t])  # pad step: carry the previous state
    return H, G, S


def gru_backward(
    dH: Array | None,
    dh_last: Array | None,
    H: Array,
    G: Array,
    S: Array,
    W: Array,
    mask: Array | None = None,
    *,
    reset_after: bool = True,
    activation: str = "tanh",
    recurrent_activation: str = "sigmoid",
) -> tuple[Array, Array, Array | None, Array]:
    """Backpropagation through time for :func:`gru_forward`.

    Parameters
    ----------
    dH : (T, B, d) array or None
        dL/dh_t arriving from the outputs of every step (None: no per-step outputs).
    dh_last : (B, d) array or None
        dL/dh_T arriving from the final state (None: not used).
    H, G, S : arrays from :func:`gru_forward`
    W : (d, 3d) array
    mask : (T, B) bool array, optional
    reset_after, activation, recurrent_activation : as in :func:`gru_forward`

    Returns
    -------
    dxw : (T, B, 3d) array
        dL/d(x_t U + b_x) for every step (zero at pad steps).
    dW : (d, 3d) array
        One GEMM over all steps with reset_after; two without (W_zr sees h_{t-1},
        W_h sees r_t * h_{t-1}).
    db_h : (3d,) array or None
        dL/d(recurrent bias) with reset_after, else None.
    dh0 : (B, d) array
        dL/dh_0.
    """
    _, act_grad = get_activation(activation)
    _, rec_grad = get_activation(recurrent_activation)
    T, B, d3 = G.shape
    d = d3 // 3
    G3 = G.reshape(T, B, 3, d)  # (T, B, 3, d) view: gate k is G3[:, :, k]
    z, r, n = (G3[:, :, k] for k in range(3))
    H_prev = H[:-1]  # (T, B, d) h_{t-1} of every step
    # NOTE: every factor that does not depend on the recurrence is computed for all
    # steps at once, before the loop; the loop is left with a handful of products.
    keep = np.ones((T, B, 1), H.dtype) if mask is None else mask[:, :, None].astype(H.dtype)
    K = np.empty((T, B, 3, d), dtype=H.dtype)  # dh_t -> da_z, da_r, da_n
    rec_grad(G3[:, :, :2], out=K[:, :, :2])  # sigmoid'(a_z), sigmoid'(a_r)
    K[:, :, 0] *= H_prev - n  # dh_t/dz_t = h_{t-1} - n_t
    act_grad(n, out=K[:, :, 2])  # tanh'(a_n)
    K[:, :, 2] *= 1.0 - z  # dh_t/dn_t = 1 - z_t
    if reset_after:
        K[:, :, 1] *= S * K[:, :, 2]  # da_n/dr_t = S_t = h_{t-1} W_h + b_hh
    else:
        K[:, :, 1] *= H_prev  # dS_t/dr_t = h_{t-1}, S_t = r_t * h_{t-1}; times dL/dS_t below
    K *= keep[:, :, :, None]  # a pad step computed nothing: no gradient into it
    dA3 = np.empty((T, B, 3, d), dtype=H.dtype)  # dL/dxw_t
    if reset_after:  # dL/d(h_{t-1} W + b_h): as dA, but the candidate's block times r_t
        Khw = K.copy()
        Khw[:, :, 2] *= r
        dHW3 = np.empty((T, B, 3, d), dtype=H.dtype)
    dh = np.zeros((B, d), dtype=H.dtype)  # dL/dh_t, built up from the later steps
    if dh_last is not None:
        dh += dh_last
    dh_prev, dh_direct = np.empty_like(dh), np.empty_like(dh)
    ds = np.empty((B, d), dtype=H.dtype)  # dL/dS_t (reset_after=False)
    WT, Wn_T = W.T, W[:, 2 * d :].T
    pad = None if mask is None else ~mask[:, :, None]  # (T, B, 1) True at pad steps
    for t in range(T - 1, -1, -1):
        if dH is not None:
            dh += dH[t]  # the output of step t adds its own gradient
        da = dA3[t]  # (B, 3, d)
        # backprop through h_t = z_t * h_{t-1} + (1 - z_t) * n_t and the gates' activations
        if reset_after:  # a_n = xw_h + r_t * S_t: all three blocks at once
            np.multiply(dh[:, None, :], K[t], out=da)
            dhw = dHW3[t]
            np.multiply(dh[:, None, :], Khw[t], out=dhw)
            np.matmul(dhw.reshape(B, d3), WT, out=dh_prev)  # dL/dh_{t-1} through W
        else:  # a_n = xw_h + S_t W_h, S_t = r_t * h_{t-1}
            np.multiply(dh[:, None, :], K[t, :, ::2], out=da[:, ::2])  # z and n
            np.matmul(da[:, 2], Wn_T, out=ds)  # dL/dS_t
            np.multiply(ds, K[t, :, 1], out=da[:, 1])  # r
            np.matmul(da[:, :2].reshape(B, 2 * d), WT[: 2 * d], out=dh_prev)  # through W_zr
            ds *= r[t]
            dh_prev += ds  # through S_t = r_t * h_{t-1}
        np.multiply(dh, z[t], out=dh_direct)
        dh_prev += dh_direct  # the direct path z_t * h_{t-1}
        if pad is not None:
            np.copyto(dh_prev, dh, where=pad[t])  # pad step: h_t = h_{t-1}, pass straight on
        dh, dh_prev = dh_prev, dh
    dA_flat = dA3.reshape(T * B, d3)
    if reset_after:
        dHW_flat = dHW3.reshape(T * B, d3)
        dW = H_prev.reshape(T * B, d).T @ dHW_flat  # all steps in one GEMM
        return dA3.reshape(T, B, d3), dW, dHW_flat.sum(axis=0), dh
    dW = np.empty_like(W)
    np.matmul(H_prev.reshape(T * B, d).T, dA_flat[:, : 2 * d], out=dW[:, : 2 * d])  # W_zr
    np.matmul(S.reshape(T * B, d).T, dA_flat[:, 2 * d :], out=dW[:, 2 * d :])  # W_h: r * h
    return dA3.reshape(T, B, d3), dW, None, dh
