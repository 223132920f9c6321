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
Where ``mask[t, i]`` is False (a pad), both h and c are carried unchanged.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> T, B, d = 4, 2, 3
>>> xw, W = rng.normal(size=(T, B, 4 * d)), rng.normal(size=(d, 4 * d)) * 0.5
>>> H, C, G = lstm_forward(xw, W, np.zeros((B, d)), np.zeros((B, d)))
>>> H.shape, C.shape, G.shape    # states with h_0, c_0 in row 0; gates i, f, g, o
((5, 2, 3), (5, 2, 3), (4, 2, 12))
>>> i, g, o = G[0, :, :d], G[0, :, 2 * d : 3 * d], G[0, :, 3 * d :]
>>> np.allclose(C[1], i * g), np.allclose(H[1], o * np.tanh(C[1]))
(True, True)
"""

from __future__ import annotations

import numpy as np

from rnnkit.core.activations import get_activation

__all__ = ["lstm_backward", "lstm_forward"]

Array = np.ndarray


def lstm_forward(
    xw: Array,
    W: Array,
    h0: Array,
    c0: Array,
    mask: Array | None = None,
    activation: str = "tanh",
    recurrent_activation: str = "sigmoid",
) -> tuple[Array, Array, Array]:
    """Run the LSTM over all T steps.

    Parameters
    ----------
    xw : (T, B, 4d) array
        ``x_t U + b`` for every step, gate columns in the order i, f, c, o.
    W : (d, 4d) array
        Recurrent weights (Keras ``recurrent_kernel``).
    h0, c0 : (B, d) arrays
        Initial hidden and cell states.
    mask : (T, B) bool array, optional
        False at pad steps, where h and c are carried unchanged.
    activation, recurrent_activation : str
        The candidate's and the cell output's f (tanh), the gates' f (sigmoid).

    Returns
    -------
    H : (T + 1, B, d) array
        ``H[0] = h0``, ``H[t] = h_t``.
    C : (T + 1, B, d) array
        ``C[0] = c0``, ``C[t] = c_t``.
    G : (T, B, 4d) array
        The gate values i, f, g, o of every step (what the backward pass needs).
    """
    f_act, _ = get_activation(activation)
    f_rec, _ = get_activation(recurrent_activation)
    T, B, d4 = xw.shape
    d = d4 // 4
    H = np.empty((T + 1, B, d), dtype=xw.dtype)  # (T+1, B, d)
    C = np.empty((T + 1, B, d), dtype=xw.dtype)  # (T+1, B, d)
    G = np.empty((T, B, d4), dtype=xw.dtype)  # (T, B, 4d): i, f, g, o
    H[0], C[0] = h0, c0
    ig, g_t = np.empty((B, d), dtype=xw.dtype), np.empty((B, d), dtype=xw.dtype)
    pad = None if mask is None else ~mask[:, :, None]  # (T, B, 1) True at pad steps
    for t in range(T):
        a = G[t]  # (B, 4d), overwritten by the gates in place
        np.matmul(H[t], W, out=a)  # h_{t-1} W
        a += xw[t]  # + x_t U + b
        f_act(a[:, 2 * d : 3 * d], out=g_t)  # g_t, before the gates overwrite a_c
        # NOTE: one call of the gates' activation over the whole block is cheaper than
        # one per gate; the candidate's column block is then put back.
        f_rec(a, out=a)  # i_t, f_t, o_t
        a[:, 2 * d : 3 * d] = g_t
        i, f, g, o = a[:, :d], a[:, d : 2 * d], a[:, 2 * d : 3 * d], a[:, 3 * d :]
        c, h = C[t + 1], H[t + 1]
        np.multiply(f, C[t], out=c)  # c_t = f_t * c_{t-1}
        np.multiply(i, g, out=ig)
        c += ig  #        + i_t * g_t
        f_act(c, out=h)  # h_t = o_t * tanh(c_t)
        h *= o
        if pad is not None:  # pad step: carry both states
            np.copyto(c, C[t], where=pad[t])
            np.copyto(h, H[t], where=pad[t])
    return H, C, G


def lstm_backward(
    dH: Array | None,
    dh_last: Array | None,
    dc_last: Array | None,
    H: Array,
    C: Array,
    G: Array,
    W: Array,
    mask: Array | None = None,
    activation: str = "tanh",
    recurrent_activation: str = "sigmoid",
) -> tuple[Array, Array, Array, Array]:
    """Backpropagation through time for :func:`lstm_forward`.

    Parameters
    ----------
    dH : (T, B, d) array or None
        dL/dh_t arriving from the outputs of every step (None: no per-step outputs).
    dh_last, dc_last : (B, d) arrays or None
        dL/dh_T and dL/dc_T arriving from the final states (None: not used).
    H, C, G : arrays from :func:`lstm_forward`
    W : (d, 4d) array
    mask : (T, B) bool array, optional
    activation, recurrent_activation : str

    Returns
    -------
    dxw : (T, B, 4d) array
        dL/d(x_t U + b) for every step (zero at pad steps).
    dW : (d, 4d) array
        Sum over steps of h_{t-1}^T dxw_t, computed as one GEMM.
    dh0, dc0 : (B, d) arrays
        dL/dh_0 and dL/dc_0.
    """
    f_act, act_grad = get_activation(activation)
    _, rec_grad = get_activation(recurrent_activation)
    T, B, d4 = G.shape
    d = d4 // 4
    G4 = G.reshape(T, B, 4, d)  # (T, B, 4, d) view: gate k is G4[:, :, k]
    i, f, g, o = (G4[:, :, k] for k in range(4))
    # NOTE: every factor that does not depend on the recurrence is computed for all
    # steps at once, before the loop; the loop is left with a handful of products.
    keep = np.ones((T, B, 1), H.dtype) if mask is None else mask[:, :, None].astype(H.dtype)
    tc = f_act(C[1:])  # (T, B, d) tanh(c_t)
    Kc = act_grad(tc) * o  # dh_t -> dc_t:  o_t tanh'(c_t)
    Ko = rec_grad(o) * tc * keep  # dh_t -> da_o: tanh(c_t) sigmoid'(a_o)
    Kifg = np.empty((T, B, 3, d), dtype=H.dtype)  # dc_t -> da_i, da_f, da_c
    rec_grad(G4[:, :, :2], out=Kifg[:, :, :2])  # sigmoid'(a_i), sigmoid'(a_f)
    Kifg[:, :, 0] *= g  # d(i_t g_t)/di_t = g_t
    Kifg[:, :, 1] *= C[:-1]  # d(f_t c_{t-1})/df_t = c_{t-1}
    act_grad(g, out=Kifg[:, :, 2])  # tanh'(a_c)
    Kifg[:, :, 2] *= i  # d(i_t g_t)/dg_t = i_t
    Kifg *= keep[:, :, :, None]  # a pad step computed nothing: no gradient into it
    dA4 = np.empty((T, B, 4, d), dtype=H.dtype)  # dL/da_t, a_t the pre-activations
    dh = np.zeros((B, d), dtype=H.dtype)  # dL/dh_t, built up from the later steps
    dc = np.zeros((B, d), dtype=H.dtype)  # dL/dc_t from step t + 1 alone
    if dh_last is not None:
        dh += dh_last
    if dc_last is not None:
        dc += dc_last
    dh_prev, dc_prev = np.empty_like(dh), np.empty_like(dc)
    dct = np.empty((B, d), dtype=H.dtype)  # dL/dc_t, both paths
    WT = W.T
    pad = None if mask is None else ~mask[:, :, None]  # (T, B, 1) True at pad steps
    for t in range(T - 1, -1, -1):
        if dH is not None:
            dh += dH[t]  # the output of step t adds its own gradient
        da = dA4[t]  # (B, 4, d)
        # backprop through h_t = o_t * tanh(c_t)
        np.multiply(dh, Kc[t], out=dct)
        dct += dc  # dL/dc_t = dh_t o_t tanh'(c_t) + dL/dc_t from step t + 1
        np.multiply(dh, Ko[t], out=da[:, 3])  # through the output gate's sigmoid
        # backprop through c_t = f_t * c_{t-1} + i_t * g_t, then the gates' activations
        np.multiply(dct[:, None, :], Kifg[t], out=da[:, :3])
        np.multiply(dct, f[t], out=dc_prev)  # dL/dc_{t-1} through the forget gate
        np.matmul(da.reshape(B, d4), WT, out=dh_prev)  # dL/dh_{t-1} through W
        if pad is not None:  # pad step: h_t = h_{t-1}, c_t = c_{t-1}, pass straight on
            np.copyto(dh_prev, dh, where=pad[t])
            np.copyto(dc_prev, dc, where=pad[t])
        dh, dh_prev = dh_prev, dh
        dc, dc_prev = dc_prev, dc
    dA = dA4.reshape(T, B, d4)
    # dW = sum_t h_{t-1}^T dA_t: all steps in one GEMM
    dW = H[:-1].reshape(T * B, d).T @ dA.reshape(T * B, d4)
    return dA, dW, dh, dc
