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

The gates live *gate-major*, in a (3, T, B, d) array: ``G[k, t]`` is gate k at step t,
a contiguous (B, d) block. Element-wise work then runs on contiguous memory (NumPy
walks a column slice of a (B, 3d) row one row at a time, several times slower), the
per-step product is one batched matmul h_{t-1} (d, d) per gate, and ``G[k]`` is a
(T*B, d) matrix for the large input and weight GEMMs. :mod:`rnnkit.core.layout`
converts from the (T, B, 3d) layout of ``x_t U`` and back. :func:`gru_scan` computes
the gates in place of ``x_t U + b_x``. With the default activations the two sigmoid
gates use tanh, as :mod:`rnnkit.core.lstm` explains (``fused``).

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> T, B, d = 4, 2, 3
>>> xw, W = rng.normal(size=(T, B, 3 * d)), rng.normal(size=(d, 3 * d)) * 0.5
>>> H, G, S = gru_forward(xw, W, np.zeros((B, d)))
>>> H.shape, G.shape, S.shape    # states with h_0 in row 0; gates z, r, n; h W_h + b_hh
((5, 2, 3), (3, 4, 2, 3), (4, 2, 3))
>>> z, n = G[0, 0], G[2, 0]      # step 0
>>> np.allclose(H[1], (1 - z) * n)    # from h_0 = 0
True
"""

from __future__ import annotations

import numpy as np

from rnnkit.core.activations import get_activation
from rnnkit.core.layout import gate_major, per_gate, row_major
from rnnkit.core.rnn import cache_steps, padded_steps, record_state_gradient
from rnnkit.core.workspace import Workspace, take

__all__ = ["gru_backward", "gru_forward", "gru_scan", "gru_weight_gradients"]

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
    fused: bool | None = None,
) -> tuple[Array, Array, Array]:
    """Run the GRU over all T steps.

    Parameters
    ----------
    xw : (T, B, 3d) array
        ``x_t U + b_x`` for every step, gate columns in the order z, r, h (not changed).
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
    fused : bool, optional
        The sigmoid gates through one tanh (the default with tanh and sigmoid, unless
        T * B < d), or through `recurrent_activation` as it is.

    Returns
    -------
    H : (T + 1, B, d) array
        ``H[0] = h0``, ``H[t] = h_t``.
    G : (3, T, B, d) array
        The gate values z, r, n of every step, gate-major.
    S : (T, B, d) array
        What the candidate's gradient needs: ``h_{t-1} W_h + b_hh`` (reset_after) or
        ``r_t * h_{t-1}``.
    """
    T, B, d3 = xw.shape
    H = np.empty((T + 1, B, d3 // 3), dtype=xw.dtype)
    S = np.empty((T, B, d3 // 3), dtype=xw.dtype)
    G = gate_major(xw, 3)
    H[0] = h0
    gru_scan(
        G, H, S, W, mask, recurrent_bias=recurrent_bias, reset_after=reset_after,
        activation=activation, recurrent_activation=recurrent_activation, fused=fused,
    )  # fmt: skip
    return H, G, S


def gru_scan(
    G: Array,
    H: Array,
    S: Array,
    W: Array,
    mask: Array | None = None,
    *,
    recurrent_bias: Array | None = None,
    reset_after: bool = True,
    activation: str = "tanh",
    recurrent_activation: str = "sigmoid",
    fused: bool | None = None,
    ws: Workspace | None = None,
) -> None:
    """The recurrence in place: G (3, T, B, d) holds ``x_t U + b_x`` on entry and the
    gates on return; H[0] holds h_0 on entry and every H[t], S[t-1] is filled in."""
    f_act, _ = get_activation(activation)
    f_rec, _ = get_activation(recurrent_activation)
    _, T, B, d = G.shape
    dtype = G.dtype
    if fused is None:
        fused = activation == "tanh" and recurrent_activation == "sigmoid" and T * B >= d
    W3 = per_gate(W, 3, copy=fused)  # (3, d, d): W_z, W_r, W_h; a copy to halve, or views
    b_hn = None
    if reset_after and recurrent_bias is not None:
        b_h = recurrent_bias.reshape(3, 1, 1, d)
        G[:2] += b_h[:2]  # b_hz, b_hr add like b_x: once, for all steps
        b_hn = recurrent_bias[2 * d :]  # b_hh is scaled by r_t: it stays in the loop
    if fused:  # halve the sigmoid gates' pre-activations once; see gate_affine in core.lstm
        G[:2] *= 0.5
        W3[:2] *= 0.5
    hw = take(ws, "gru_hw", (3 if reset_after else 2, B, d), dtype)  # h_{t-1} W_k
    rn = take(ws, "gru_rn", (B, d), dtype)
    padded = padded_steps(mask)
    for t in range(T):
        h_prev, zr, n = H[t], G[:2, t], G[2, t]  # zr: (2, B, d), overwritten by z_t, r_t
        np.matmul(h_prev, W3 if reset_after else W3[:2], out=hw)  # h_{t-1} W_k, per gate
        zr += hw[:2]
        if fused:
            np.tanh(zr, out=zr)
            zr *= 0.5
            zr += 0.5  # z_t, r_t = sigmoid(.)
        else:
            f_rec(zr, out=zr)
        z, r = G[0, t], G[1, t]
        if reset_after:  # n_t = f(xw_h + r_t * (h_{t-1} W_h + b_hh))
            if b_hn is None:
                S[t] = hw[2]
            else:
                np.add(hw[2], b_hn, out=S[t])
            np.multiply(r, S[t], out=rn)
        else:  # n_t = f(xw_h + (r_t * h_{t-1}) W_h)
            np.multiply(r, h_prev, out=S[t])
            np.matmul(S[t], W3[2], out=rn)
        n += rn
        f_act(n, out=n)  # n_t
        h = H[t + 1]
        np.subtract(h_prev, n, out=h)  # h_t = n_t + z_t * (h_{t-1} - n_t)
        h *= z
        h += n
        if padded and padded[t]:
            assert mask is not None
            np.copyto(h, h_prev, where=~mask[t, :, None])  # pad step: carry the state


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
    ws: Workspace | None = None,
    dh_out: Array | None = None,
    rows: Array | None = None,
) -> tuple[Array, Array, Array | None, Array]:
    """Backpropagation through time for :func:`gru_forward`.

    Parameters
    ----------
    dH : (T, B, d) array or None
        dL/dh_t arriving from the outputs of every step (None: no per-step outputs).
    dh_last : (B, d) array or None
        dL/dh_T arriving from the final state (None: not used).
    H, G, S : arrays from :func:`gru_forward` (left unchanged); G gate-major
    W : (d, 3d) array
    mask : (T, B) bool array, optional
    reset_after, activation, recurrent_activation : as in :func:`gru_forward`
    ws : Workspace, optional; where the returned dxw and the scratch arrays live.
    dh_out : (T, B, d) array, optional
        Filled with the total dL/dh_t of every step (zero at pads), as in
        :func:`rnnkit.core.rnn.rnn_backward`. Nothing is recorded when omitted.
    rows : (T, B, 3d) array, optional
        Where to return dxw with its gates side by side.

    Returns
    -------
    dxw : (3, T, B, d) array, or `rows`
        dL/d(x_t U + b_x) for every step, gate-major (zero at pad steps); in `rows`,
        (T, B, 3d), when given.
    dW : (d, 3d) array
        A GEMM over all steps per gate (W_z and W_r one, from `rows`): W_z, W_r see
        h_{t-1} and dL/da_z, dL/da_r; W_h sees h_{t-1} and r_t dL/da_n (reset_after),
        or r_t * h_{t-1} and dL/da_n.
    db_h : (3d,) array or None
        dL/d(recurrent bias) with reset_after, else None.
    dh0 : (B, d) array
        dL/dh_0.
    """
    _, act_grad = get_activation(activation)
    _, rec_grad = get_activation(recurrent_activation)
    _, T, B, d = G.shape
    dtype = G.dtype
    z, r, n = G
    H_prev = H[:-1]  # (T, B, d) h_{t-1} of every step
    dA = take(ws, "gru_dA", (3, T, B, d), dtype)  # dh_t -> da_z, da_r, da_n; then dL/da
    tmp = take(ws, "gru_tmp", (T, B, d), dtype)
    dh, dh_prev = take(ws, "gru_dh", (B, d), dtype), take(ws, "gru_dh_prev", (B, d), dtype)
    if dh_last is None:
        dh.fill(0.0)
    else:
        dh[...] = dh_last
    ds = take(ws, "gru_ds", (B, d), dtype)
    if reset_after:  # dL/d(h_{t-1} W + b_h), row-major (B, 3d): one GEMM with W.T per step
        dhw = take(ws, "gru_dhw", (B, 3, d), dtype)
        WT = np.ascontiguousarray(W.T)  # NOTE: a copy: the per-step GEMM runs faster
    else:  # W_z, W_r and W_h apart: dL/dS_t needs W_h alone
        prod = take(ws, "gru_prod", (2, B, d), dtype)
        WT3 = per_gate(W, 3, copy=False).transpose(0, 2, 1)  # (3, d, d): W_k^T (views)
    padded = padded_steps(mask)
    chunk = cache_steps(3 * B * d * dtype.itemsize, T)
    for hi in range(T, 0, -chunk):  # chunks of steps, last first
        lo = max(hi - chunk, 0)
        # NOTE: every factor that does not depend on the recurrence is computed for a
        # cache-sized chunk of steps at once, into the buffer that then becomes
        # dL/da_t in place.
        k, zc, nc, tc = dA[:, lo:hi], z[lo:hi], n[lo:hi], tmp[lo:hi]
        rec_grad(G[:2, lo:hi], out=k[:2])  # sigmoid'(a_z), sigmoid'(a_r)
        np.subtract(1.0, zc, out=tc)
        act_grad(nc, out=k[2])
        k[2] *= tc  # dh_t/dn_t = 1 - z_t, times tanh'(a_n)
        if reset_after:
            k[1] *= S[lo:hi]  # da_n/dr_t = S_t = h_{t-1} W_h + b_hh ...
            k[1] *= k[2]  # ... times dh_t/da_n
        else:
            k[1] *= H_prev[lo:hi]  # dS_t/dr_t = h_{t-1}; times dL/dS_t in the loop
        np.subtract(H_prev[lo:hi], nc, out=tc)
        k[0] *= tc  # dh_t/dz_t = h_{t-1} - n_t, times sigmoid'(a_z)
        if mask is not None:
            dA[:, lo:hi] *= mask[lo:hi, :, None]  # a pad step computed nothing
        for t in range(hi - 1, lo - 1, -1):
            if dH is not None:
                dh += dH[t]  # the output of step t adds its own gradient
            if dh_out is not None:
                record_state_gradient(dh_out, t, dh, mask)
            da = dA[:, t]  # (3, B, d)
            # backprop through h_t = z_t h_{t-1} + (1 - z_t) n_t and the gates' activations
            if reset_after:  # a_n = xw_h + r_t * S_t: all three gates at once
                da *= dh
                dhw[:, :2] = da[:2].transpose(1, 0, 2)  # h W_z, h W_r feed a_z, a_r ...
                np.multiply(da[2], r[t], out=dhw[:, 2])  # ... and h W_h through r_t
                np.matmul(dhw.reshape(B, 3 * d), WT, out=dh_prev)  # dL/dh_{t-1} through W
            else:  # a_n = xw_h + S_t W_h, S_t = r_t * h_{t-1}
                da[0] *= dh
                da[2] *= dh
                np.matmul(da[2], WT3[2], out=ds)  # dL/dS_t
                da[1] *= ds  # r
                np.matmul(da[:2], WT3[:2], out=prod)  # through W_z, W_r
                np.add(prod[0], prod[1], out=dh_prev)
                ds *= r[t]
                dh_prev += ds  # through S_t = r_t * h_{t-1}
            np.multiply(dh, z[t], out=ds)
            dh_prev += ds  # the direct path z_t * h_{t-1}
            if padded and padded[t]:
                assert mask is not None
                np.copyto(dh_prev, dh, where=~mask[t, :, None])  # pad: h_t = h_{t-1}
            dh, dh_prev = dh_prev, dh
    rdn = None
    if reset_after:  # dL/d(h_{t-1} W_h + b_hh) = r_t dL/da_n, in the step loop's scratch
        rdn = np.multiply(dA[2], r, out=tmp)
    if rows is not None:
        dA = row_major(dA, out=rows)
    dW, db_h = gru_weight_gradients(H, S, dA, W, rdn)
    return dA, dW, db_h, dh


def gru_weight_gradients(
    H: Array, S: Array, dA: Array, W: Array, rdn: Array | None
) -> tuple[Array, Array | None]:
    """dW (d, 3d) and, with reset_after, db_h (3d,), from dL/da_t, dA gate-major
    (3, T, B, d) or with its gates side by side (T, B, 3d).

    H, S are :func:`gru_forward`'s; `rdn` (T, B, d) is r_t dL/da_n of every step with
    reset_after (what h_{t-1} W_h + b_hh receives), None without.
    """
    T, B, d = S.shape
    H2T = H[:-1].reshape(T * B, d).T
    dW = np.empty_like(W)
    # NOTE: every GEMM writes straight into its columns of dW, no temporary
    if dA.ndim == 3:  # side by side: W_z and W_r in one GEMM
        rows = dA.reshape(T * B, 3 * d)
        zr, da_n = rows[:, : 2 * d], rows[:, 2 * d :]
        np.matmul(H2T, zr, out=dW[:, : 2 * d])
    else:
        zr, da_n = dA[:2].reshape(2, T * B, d), dA[2].reshape(T * B, d)
        for g in range(2):  # W_z, W_r: all steps in one GEMM each
            np.matmul(H2T, zr[g], out=dW[:, g * d : (g + 1) * d])
    if rdn is not None:
        rdn2 = rdn.reshape(T * B, d)
        np.matmul(H2T, rdn2, out=dW[:, 2 * d :])
        db_zr = zr.sum(axis=0) if dA.ndim == 3 else zr.sum(axis=1).ravel()
        return dW, np.concatenate([db_zr, rdn2.sum(axis=0)])
    np.matmul(S.reshape(T * B, d).T, da_n, out=dW[:, 2 * d :])  # W_h sees r_t * h_{t-1}
    return dW, None
