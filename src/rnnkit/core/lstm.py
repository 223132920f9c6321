"""The long short-term memory (LSTM) cell over a whole sequence, forward and BPTT backward.

With row vectors and the four gates side by side in one (B, 4d) pre-activation
``a_t = x_t U + h_{t-1} W + b`` (columns in Keras order i, f, c, o, each d wide):

    i_t = sigmoid(a_i)                      input gate
    f_t = sigmoid(a_f)                      forget gate
    g_t = tanh(a_c)                         candidate cell state
    o_t = sigmoid(a_o)                      output gate
    c_t = f_t * c_{t-1} + i_t * g_t         cell state
    h_t = o_t * tanh(c_t)                   hidden state

``sigmoid`` is the *recurrent activation* and ``tanh`` the *activation* (Keras's names;
both can be changed). U is (n_in, 4d), W (d, 4d) and b (4d,): Keras's ``kernel``,
``recurrent_kernel`` and ``bias``. PyTorch's ``nn.LSTM`` keeps the same gate order
(it calls the candidate g) in ``weight_ih_l0 = U.T`` and ``weight_hh_l0 = W.T``.

As in :mod:`rnnkit.core.rnn`, the input projection ``x_t U + b`` of every step is
computed beforehand and handed in as ``xw``; the backward pass returns its gradient.
:func:`lstm_scan` computes the gates in place of ``xw``, so the projection needs no
buffer of its own. The gates live gate-major, (4, T, B, d), as in
:mod:`rnnkit.core.gru`: every gate of every step is a contiguous (B, d) block. Where
``mask[t, i]`` is False (a pad), both h and c are carried unchanged.

With the default activations the gates take one ``tanh`` over all four blocks: since
``sigmoid(a) = (1 + tanh(a / 2)) / 2``, the sigmoid gates' columns of ``xw`` and W are
halved once, before the loop, and after the ``tanh`` one multiply-add per step maps
them to (0, 1). ``fused=False`` computes each activation on its own block instead (the
same numbers to within float rounding).

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> T, B, d = 4, 2, 3
>>> xw, W = rng.normal(size=(T, B, 4 * d)), rng.normal(size=(d, 4 * d)) * 0.5
>>> H, C, G, TC = lstm_forward(xw, W, np.zeros((B, d)), np.zeros((B, d)))
>>> H.shape, C.shape, G.shape    # states with h_0, c_0 in row 0; gates i, f, g, o
((5, 2, 3), (5, 2, 3), (4, 4, 2, 3))
>>> i, g, o = G[0, 0], G[2, 0], G[3, 0]      # step 0
>>> np.allclose(C[1], i * g), np.allclose(H[1], o * np.tanh(C[1]))
(True, True)
>>> np.allclose(TC, np.tanh(C[1:]))   # kept for the backward pass
True
"""

from __future__ import annotations

import numpy as np

from rnnkit.core.activations import get_activation
from rnnkit.core.layout import gate_major, per_gate, row_major
from rnnkit.core.rnn import cache_steps, padded_steps, record_state_gradient
from rnnkit.core.workspace import Workspace, take

__all__ = ["gate_affine", "lstm_backward", "lstm_forward", "lstm_scan", "lstm_weight_gradient"]

Array = np.ndarray


def gate_affine(blocks: str, d: int, dtype: np.dtype) -> tuple[Array, Array]:
    """Per-column (scale, shift) that turn tanh(scale * a) into each block's activation.

    `blocks` names the d-wide blocks: "s" a sigmoid gate (0.5 tanh(a / 2) + 0.5), "t" a
    tanh block (tanh(a) as it is). The same scale halves the pre-activation first.

    >>> m, k = gate_affine("st", 1, np.dtype("float64"))
    >>> m.tolist(), k.tolist()
    ([0.5, 1.0], [0.5, 0.0])
    """
    scale = np.repeat([0.5 if b == "s" else 1.0 for b in blocks], d).astype(dtype)
    shift = np.repeat([0.5 if b == "s" else 0.0 for b in blocks], d).astype(dtype)
    return scale, shift


def lstm_forward(
    xw: Array,
    W: Array,
    h0: Array,
    c0: Array,
    mask: Array | None = None,
    activation: str = "tanh",
    recurrent_activation: str = "sigmoid",
    fused: bool | None = None,
) -> tuple[Array, Array, Array, Array]:
    """Run the LSTM over all T steps.

    Parameters
    ----------
    xw : (T, B, 4d) array
        ``x_t U + b`` for every step, gate columns in the order i, f, c, o (not changed).
    W : (d, 4d) array
        Recurrent weights (Keras ``recurrent_kernel``).
    h0, c0 : (B, d) arrays
        Initial hidden and cell states.
    mask : (T, B) bool array, optional
        False at pad steps, where h and c are carried unchanged.
    activation, recurrent_activation : str
        The candidate's and the cell output's f (tanh), the gates' f (sigmoid).
    fused : bool, optional
        One tanh for all gates, or one activation call per block; by default fused
        with tanh and sigmoid, unless T * B < d (a single step: halving W costs more
        than it saves).

    Returns
    -------
    H : (T + 1, B, d) array
        ``H[0] = h0``, ``H[t] = h_t``.
    C : (T + 1, B, d) array
        ``C[0] = c0``, ``C[t] = c_t``.
    G : (4, T, B, d) array
        The gate values i, f, g, o of every step, gate-major (what backward needs).
    TC : (T, B, d) array
        f(c_t), the cell state through the activation, which h_t = o_t * f(c_t) used.
    """
    T, B, d4 = xw.shape
    d = d4 // 4
    H = np.empty((T + 1, B, d), dtype=xw.dtype)
    C = np.empty((T + 1, B, d), dtype=xw.dtype)
    TC = np.empty((T, B, d), dtype=xw.dtype)
    G = gate_major(xw, 4)
    H[0], C[0] = h0, c0
    lstm_scan(G, H, C, TC, W, mask, activation, recurrent_activation, fused)
    return H, C, G, TC


def lstm_scan(
    G: Array,
    H: Array,
    C: Array,
    TC: Array,
    W: Array,
    mask: Array | None = None,
    activation: str = "tanh",
    recurrent_activation: str = "sigmoid",
    fused: bool | None = None,
    ws: Workspace | None = None,
) -> None:
    """The recurrence in place: G (4, T, B, d) holds ``x_t U + b`` on entry and the gates
    on return; H[0], C[0] hold h_0, c_0 on entry and every H[t], C[t], TC[t-1] is
    filled in."""
    f_act, _ = get_activation(activation)
    f_rec, _ = get_activation(recurrent_activation)
    _, T, B, d = G.shape
    if fused is None:  # NOTE: not for a step or two, where halving W costs more than it saves
        fused = activation == "tanh" and recurrent_activation == "sigmoid" and T * B >= d
    W4 = per_gate(W, 4, copy=fused)  # (4, d, d): W_i, W_f, W_c, W_o; a copy to halve, or views
    hw = take(ws, "lstm_hw", (4, B, d), G.dtype)  # h_{t-1} W_k
    ig = take(ws, "lstm_ig", (B, d), G.dtype)
    if fused:
        scale, shift = (v.reshape(4, 1, 1) for v in gate_affine("ssts", 1, G.dtype))
        G *= scale[:, None]  # halve the sigmoid gates' pre-activations, once for all steps
        W4 *= scale
    padded = padded_steps(mask)
    for t in range(T):
        a = G[:, t]  # (4, B, d): x_t U + b, overwritten by the gates in place
        np.matmul(H[t], W4, out=hw)  # h_{t-1} W_k, one product per gate
        a += hw
        if fused:  # i, f, o = sigmoid, g = tanh, with one tanh
            np.tanh(a, out=a)
            a *= scale
            a += shift
        else:
            f_act(a[2], out=ig)  # g_t, before the gates overwrite a_c
            f_rec(a, out=a)
            a[2] = ig
        i, f, g, o = a
        c, h = C[t + 1], H[t + 1]
        np.multiply(f, C[t], out=c)  # c_t = f_t * c_{t-1}
        np.multiply(i, g, out=ig)
        c += ig  #        + i_t * g_t
        f_act(c, out=TC[t])  # h_t = o_t * tanh(c_t)
        np.multiply(o, TC[t], out=h)
        if padded and padded[t]:  # pad step: carry both states
            assert mask is not None
            pad = ~mask[t, :, None]
            np.copyto(c, C[t], where=pad)
            np.copyto(h, H[t], where=pad)


def lstm_backward(
    dH: Array | None,
    dh_last: Array | None,
    dc_last: Array | None,
    H: Array,
    C: Array,
    G: Array,
    TC: Array,
    W: Array,
    mask: Array | None = None,
    activation: str = "tanh",
    recurrent_activation: str = "sigmoid",
    ws: Workspace | None = None,
    dh_out: Array | None = None,
    dc_out: Array | None = None,
    rows: Array | None = None,
) -> tuple[Array, Array, Array, Array]:
    """Backpropagation through time for :func:`lstm_forward`.

    Parameters
    ----------
    dH : (T, B, d) array or None
        dL/dh_t arriving from the outputs of every step (None: no per-step outputs).
    dh_last, dc_last : (B, d) arrays or None
        dL/dh_T and dL/dc_T arriving from the final states (None: not used).
    H, C, G, TC : arrays from :func:`lstm_forward` (left unchanged); G gate-major
    W : (d, 4d) array
    mask : (T, B) bool array, optional
    activation, recurrent_activation : str
    ws : Workspace, optional; where the returned dxw and the scratch arrays live.
    dh_out : (T, B, d) array, optional
        Filled with the total dL/dh_t of every step (zero at pads), as in
        :func:`rnnkit.core.rnn.rnn_backward`. Nothing is recorded when omitted.
    dc_out : (T, B, d) array, optional
        Filled likewise with the total dL/dc_t of every step: what reaches c_t through
        h_t = o_t * tanh(c_t) plus what flows back from c_{t+1} through f_{t+1}, the
        cell state's own path (zero at pads).
    rows : (T, B, 4d) array, optional
        Where to return dxw with its gates side by side (then dW is one GEMM).

    Returns
    -------
    dxw : (4, T, B, d) array, or `rows`
        dL/d(x_t U + b) for every step, gate-major (zero at pad steps); in `rows`,
        (T, B, 4d), when given.
    dW : (d, 4d) array
        Sum over steps of h_{t-1}^T dxw_t, one GEMM per gate over all steps (one in
        all, from `rows`).
    dh0, dc0 : (B, d) arrays
        dL/dh_0 and dL/dc_0.
    """
    _, act_grad = get_activation(activation)
    _, rec_grad = get_activation(recurrent_activation)
    _, T, B, d = G.shape
    dtype = G.dtype
    f = G[1]
    dA = take(ws, "lstm_dA", (4, T, B, d), dtype)  # factors, then dL/da_t in place
    chunk = cache_steps(4 * B * d * dtype.itemsize, T)
    Kc_chunk = take(ws, "lstm_Kc", (chunk, B, d), dtype)  # dh_t -> dc_t: o_t tanh'(c_t)
    dh, dh_prev = take(ws, "lstm_dh", (B, d), dtype), take(ws, "lstm_dh_prev", (B, d), dtype)
    dc, dc_prev = take(ws, "lstm_dc", (B, d), dtype), take(ws, "lstm_dc_prev", (B, d), dtype)
    dct = take(ws, "lstm_dct", (B, d), dtype)  # dL/dc_t, both paths
    dhw = take(ws, "lstm_dhw", (B, 4, d), dtype)  # dL/da_t row-major, for one GEMM with W.T
    for buf, last in ((dh, dh_last), (dc, dc_last)):
        if last is None:
            buf.fill(0.0)
        else:
            buf[...] = last
    WT = np.ascontiguousarray(W.T)  # NOTE: a copy: the per-step GEMM runs 10-30% faster
    padded = padded_steps(mask)
    recording = dh_out is not None or dc_out is not None
    for hi in range(T, 0, -chunk):  # chunks of steps, last first
        lo = max(hi - chunk, 0)
        # NOTE: every factor that does not depend on the recurrence is computed for a
        # cache-sized chunk of steps at once, into the buffer that then becomes
        # dL/da_t in place; the loop is left with a handful of products per step.
        Kc = Kc_chunk[: hi - lo]
        i, g, o = G[0, lo:hi], G[2, lo:hi], G[3, lo:hi]
        k = dA[:, lo:hi]  # (4, steps, B, d)
        rec_grad(G[:, lo:hi], out=k)  # sigmoid'(a_i), sigmoid'(a_f), -, sigmoid'(a_o)
        act_grad(g, out=k[2])  # tanh'(a_c)
        k[0] *= g  # d(i_t g_t)/di_t = g_t
        k[1] *= C[lo:hi]  # d(f_t c_{t-1})/df_t = c_{t-1}
        k[2] *= i  # d(i_t g_t)/dg_t = i_t
        k[3] *= TC[lo:hi]  # dh_t/do_t = tanh(c_t)
        if mask is not None:
            k *= mask[lo:hi, :, None]  # a pad step computed nothing: no gradient
        act_grad(TC[lo:hi], out=Kc)
        Kc *= o
        for t in range(hi - 1, lo - 1, -1):
            if dH is not None:
                dh += dH[t]  # the output of step t adds its own gradient
            da = dA[:, t]  # (4, B, d)
            # backprop through h_t = o_t * tanh(c_t)
            np.multiply(dh, Kc[t - lo], out=dct)
            dct += dc  # dL/dc_t = dh_t o_t tanh'(c_t) + dL/dc_t from step t + 1
            if recording:  # dh and dct are now both totals for step t
                _record_step(dh_out, dc_out, t, dh, dct, mask)
            da[3] *= dh  # through the output gate's sigmoid
            # backprop through c_t = f_t * c_{t-1} + i_t * g_t, then the gates' activations
            da[:3] *= dct
            np.multiply(dct, f[t], out=dc_prev)  # dL/dc_{t-1} through the forget gate
            dhw[...] = da.transpose(1, 0, 2)
            np.matmul(dhw.reshape(B, 4 * d), WT, out=dh_prev)  # dL/dh_{t-1} through W
            if padded and padded[t]:  # pad step: h_t = h_{t-1}, c_t = c_{t-1}, pass on
                assert mask is not None
                pad = ~mask[t, :, None]
                np.copyto(dh_prev, dh, where=pad)
                np.copyto(dc_prev, dc, where=pad)
            dh, dh_prev = dh_prev, dh
            dc, dc_prev = dc_prev, dc
    if rows is not None:
        dA = row_major(dA, out=rows)
    return dA, lstm_weight_gradient(H, dA, W), dh, dc


def lstm_weight_gradient(H: Array, dA: Array, W: Array) -> Array:
    """dW (d, 4d) from the states H (T + 1, B, d) and dL/da_t, dA gate-major
    (4, T, B, d) or with its gates side by side (T, B, 4d)."""
    if dA.ndim == 3:  # one GEMM for all gates and steps
        T, B, k = dA.shape
        return H[:-1].reshape(T * B, -1).T @ dA.reshape(T * B, k)
    _, T, B, d = dA.shape
    H2 = H[:-1].reshape(T * B, d)
    dW = np.empty_like(W)
    for gate in range(4):  # dW_k = sum_t h_{t-1}^T dA_k,t: all steps in one GEMM per gate
        dW[:, gate * d : (gate + 1) * d] = H2.T @ dA[gate].reshape(T * B, d)
    return dW


def _record_step(
    dh_out: Array | None, dc_out: Array | None, t: int, dh: Array, dc: Array, mask: Array | None
) -> None:
    """Row t of whichever of `dh_out`, `dc_out` (T, B, d) is given: dL/dh_t, dL/dc_t."""
    if dh_out is not None:
        record_state_gradient(dh_out, t, dh, mask)
    if dc_out is not None:
        record_state_gradient(dc_out, t, dc, mask)
