"""Each cell's scan and backward pass on the path :mod:`rnnkit.core.kernels` chooses.

The functions here have the signatures of the NumPy reference (:func:`rnn_scan` is
:func:`rnnkit.core.rnn.rnn_scan`'s, and so on) and fill the same buffers, in the same
layouts, with the same numbers to within float rounding. They run the compiled kernel
when the compiled path is chosen and the call is one it covers: the default
activations (tanh, and sigmoid for the gates), float32 or float64, C-contiguous
buffers. Anything else, and the NumPy path, runs the reference itself. The layers call
these; the reference stays the readable statement of the maths.

>>> import numpy as np
>>> from rnnkit.core.kernels import use_kernels
>>> rng = np.random.default_rng(0)
>>> H = rng.normal(size=(5, 2, 3)).astype(np.float32)   # h_0, then x_t U + b
>>> W = rng.normal(size=(3, 3)).astype(np.float32)
>>> with use_kernels("numpy"):
...     reference = rnn_scan(H.copy(), W)
>>> np.allclose(rnn_scan(H.copy(), W), reference, atol=1e-6)   # whichever path is chosen
True
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import TypeVar

import numpy as np

from rnnkit.core import gru, lstm, rnn
from rnnkit.core.kernels import blas_threads, compiled_function, pointer, team_threads
from rnnkit.core.layout import per_gate
from rnnkit.core.workspace import Workspace, take
from rnnkit.errors import ConfigError

__all__ = [
    "PRODUCTS",
    "gru_backward",
    "gru_scan",
    "kernel_parts",
    "lstm_backward",
    "lstm_scan",
    "rnn_backward",
    "rnn_scan",
    "use_products",
    "use_row_parts",
    "use_unit_parts",
]

Array = np.ndarray
T_ = TypeVar("T_")
#: how a gated cell's forward kernel multiplies by W at each step: "auto" (below), one
#: product with the gates side by side ("one"), or one product per gate ("per-gate")
PRODUCTS = ("auto", "one", "per-gate")
#: "auto" takes one product where BLAS has more than one thread and the product has
#: fewer multiply-adds than this (B g d^2): OpenBLAS splits one (32, 128) x (128, 512)
#: product over two threads (1.24 times faster than four per gate), and not the four
#: smaller ones; from B 64, d 256 with four gates the two ways run alike, and on one
#: thread the products per gate are up to 20% faster. The backward kernels multiply
#: per gate: one product there needs each row's gates side by side, a copy per step
#: that cost what the product gained (LSTM) or more (GRU)
ONE_PRODUCT_WORK = 16_000_000
#: the fewest batch rows a part of a split kernel is given: a thinner product gains
#: little from a thread of its own
MIN_ROWS = 8
#: the least work worth splitting (multiply-adds of the per-step products, T B g d^2):
#: half of it, about 80 us of products, well above the tens of microseconds it takes to
#: hand a part to a thread; generation (T 1) and the smallest models run in one loop
MIN_WORK = 8_000_000
#: added to a kernel's part count by use_row_parts: split even where the kernels skip
#: splits for a while (three in a row did not pay: other processes fill the cores);
#: PARTS_FORCED in csrc/team.h
FORCED = 0x10000
#: added to a kernel's part count: split the units of every row, not the rows
#: (PARTS_UNITS in csrc/team.h)
UNITS = 0x20000
#: the least B * d of a gated forward pass whose units are split rather than its rows:
#: each part then multiplies every row by its columns of W in one product, where half
#: the rows would take all of W. At B 128, d 1024 the forward kernels ran 4 to 16%
#: faster (a GRU's training step -1 to +5% in three runs, an LSTM's 1 to 3%); at B 64,
#: d 512 a GRU's step gained 0 to 1%, an LSTM's lost 3 to 5%, and at d 128 the units'
#: barrier at every step cost the forward kernel 20 to 45%. The backward kernels
#: changed by -0.2 to +4% at B 128, d 1024 and lost 5 to 10% at B 64, d 512: they split
#: rows (benchmarks/splits.py, benchmarks/switches.py units).
UNIT_AREA = 128 * 1024
#: the fewest units a unit part is given
UNIT_MIN = 256
_products: list[str] = []
#: the splits chosen by use_row_parts and use_unit_parts, innermost last
_parts: list[int] = []


@contextmanager
def _on_top(chosen: list[T_], value: T_) -> Iterator[T_]:
    """`value` on top of the `chosen` stack while a ``with`` block runs."""
    chosen.append(value)
    try:
        yield value
    finally:
        chosen.pop()


def use_products(mode: str) -> AbstractContextManager[str]:
    """Run a block with the gated kernels' per-step products taken as `mode` says."""
    if mode not in PRODUCTS:
        raise ConfigError(f"products={mode!r} is not one of {', '.join(PRODUCTS)}")
    return _on_top(_products, mode)


def _one_product(B: int, d: int, gates: int, parts: int) -> bool:
    """Whether a gated forward kernel takes h_{t-1} W as one product."""
    mode = _products[-1] if _products else "auto"
    if mode != "auto":
        return mode == "one"
    split = parts % FORCED > 1
    return B * gates * d * d < ONE_PRODUCT_WORK and blas_threads() > 1 and not split


def _whole(n: int, what: str) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ConfigError(f"{what}={n!r} is not a whole number >= 1")
    return n


def use_row_parts(n: int) -> AbstractContextManager[int]:
    """Run a block with every compiled kernel splitting its batch into `n` parts (at least
    one row each), whatever the size and however the last splits went: for tests and
    benchmarks."""
    return _on_top(_parts, _whole(n, "row parts"))


def use_unit_parts(n: int) -> AbstractContextManager[int]:
    """Run a block with every compiled kernel splitting the units of each step over `n`
    threads (at most d), which meet once a step: for tests and benchmarks."""
    return _on_top(_parts, _whole(n, "unit parts") | UNITS)


def kernel_parts(T: int, B: int, d: int, gates: int, forward: bool = False) -> int:
    """How a kernel splits its work over the team's threads, each with one-thread
    products: 1 (one loop, BLAS's threads inside each product) unless the team runs and
    the work is enough; then parts of the batch's rows, or, for a gated cell's forward
    pass (`forward`) of at least UNIT_AREA rows times units, parts of its units (UNITS
    set), each at least UNIT_MIN wide. Inside :func:`use_row_parts` or
    :func:`use_unit_parts`, their count (at most B rows or d units) plus FORCED."""
    if _parts:
        n, units = _parts[-1] % UNITS, _parts[-1] & UNITS
        return min(n, d if units else B) | units | FORCED
    if T * B * gates * d * d < MIN_WORK:
        return 1
    split = _unit_parts(B, d, gates) if forward else None
    return split if split is not None else max(1, min(team_threads(), B // MIN_ROWS))


def _unit_parts(B: int, d: int, gates: int) -> int | None:
    """A gated forward pass's unit parts (with UNITS set) where they pay, else None."""
    n = min(team_threads(), d // UNIT_MIN)
    return n | UNITS if gates > 1 and B * d >= UNIT_AREA and n > 1 else None


def _kernel(name: str, activations: tuple[str, ...], *arrays: Array | None):
    """The compiled `name` for these arrays' dtype, or None where the reference must run."""
    if activations != ("tanh", "sigmoid")[: len(activations)]:
        return None
    present = [a for a in arrays if a is not None]
    dtype = present[0].dtype
    if any(a.dtype != dtype or not a.flags.c_contiguous for a in present):
        return None
    return compiled_function(name, dtype)


def _transposed(W: Array, ws: Workspace | None) -> Array:
    """W^T, contiguous, in `ws`: a compiled tiled copy (W is contiguous and of a kernel's
    dtype wherever a kernel runs)."""
    out = take(ws, "WT", W.shape[::-1], W.dtype)
    transpose = compiled_function("transpose", W.dtype)
    assert transpose is not None and W.flags.c_contiguous
    transpose(W.shape[0], W.shape[1], pointer(W), pointer(out))
    return out


def _mask_bytes(mask: Array | None) -> Array | None:
    """A (T, B) bool mask as contiguous bytes (None stays None: no pads).

    NOTE: a copy, at times: the caller keeps it in a variable while the kernel runs, as
    with every array whose address a kernel is given.
    """
    return None if mask is None else np.ascontiguousarray(mask, dtype=np.bool_).view(np.uint8)


def _contiguous(a: Array | None) -> Array | None:
    """`a` itself when C-contiguous (or None), else a contiguous buffer of its shape.

    Per-step gradients and recorded state gradients can be (T, B, d) views of (B, T, d)
    arrays; the kernels read and write contiguous rows. :func:`_write_back` copies a
    recorded buffer into the caller's array.
    """
    if a is None or a.flags.c_contiguous:
        return a
    return np.empty(a.shape, a.dtype)


def _write_back(out: Array | None, buf: Array | None) -> None:
    if out is not None and buf is not out:
        out[...] = buf


def _per_gate(W: Array, gates: int, rows: int, one: bool) -> tuple[Array, int, int]:
    """The gates' W_k for a forward kernel: (array, leading dimension, elements from one
    W_k to the next).

    A contiguous copy (g, d, d) when the scan has at least d rows of steps (T * B) and
    takes one product per gate (`one` False), which then runs up to 20% faster. Else W
    itself, which the kernel multiplies by in one product, the gates side by side: for
    a step or two (generation) a copy would cost more than it saves.
    """
    d = W.shape[0]
    if rows >= d and not one:
        return per_gate(W, gates), d, d * d
    return W, gates * d, d


def _forward_weights(W: Array, gates: int, T: int, B: int, parts: int, ws: Workspace | None):
    """A gated forward kernel's W_k (:func:`_per_gate`) and, for unit parts, room (d, g d)
    where each part lays its columns of them side by side (None for row parts)."""
    if parts & UNITS:
        return W, gates * W.shape[0], W.shape[0], take(ws, "W_units", W.shape, W.dtype)
    one = _one_product(B, W.shape[0], gates, parts)
    return (*_per_gate(W, gates, T * B, one), None)


def _start(ws: Workspace | None, name: str, shape: tuple[int, ...], dtype, last: Array | None):
    """A buffer holding `last` (dL/d of a final state), or zeros without one."""
    buf = take(ws, name, shape, dtype)
    if last is None:
        buf.fill(0.0)
    else:
        buf[...] = last
    return buf


def rnn_scan(H, W, mask=None, activation="tanh", ws=None) -> Array:
    """:func:`rnnkit.core.rnn.rnn_scan`, compiled for tanh."""
    kernel = _kernel("rnn_forward", (activation,), H, W)
    if kernel is None:
        return rnn.rnn_scan(H, W, mask, activation, ws)
    T, B, d = H.shape[0] - 1, H.shape[1], H.shape[2]
    hw = take(ws, "rnn_hw", (B, d), H.dtype)
    pads = _mask_bytes(mask)  # NOTE: held until the kernel returns
    parts = kernel_parts(T, B, d, 1)
    kernel(parts, T, B, d, pointer(H), pointer(W), pointer(pads), pointer(hw))
    return H


def rnn_backward(dH, dh_last, H, W, mask=None, activation="tanh", ws=None, dh_out=None):
    """:func:`rnnkit.core.rnn.rnn_backward`, compiled for tanh."""
    dH = None if dH is None else np.ascontiguousarray(dH)
    dh_rec = _contiguous(dh_out)
    kernel = _kernel("rnn_backward", (activation,), H, W, dH, dh_rec)
    if kernel is None:
        return rnn.rnn_backward(dH, dh_last, H, W, mask, activation, ws, dh_out)
    T, B, d = H.shape[0] - 1, H.shape[1], H.shape[2]
    dA = take(ws, "rnn_dA", (T, B, d), H.dtype)
    dh = _start(ws, "rnn_dh", (B, d), H.dtype, dh_last)
    scratch = take(ws, "rnn_dh_prev", (B, d), H.dtype)
    pads = _mask_bytes(mask)  # NOTE: held until the kernel returns
    WT = _transposed(W, ws)  # NOTE: a copy: the per-step GEMM runs 10-30% faster
    kernel(
        kernel_parts(T, B, d, 1), T, B, d, pointer(dH), pointer(dh), pointer(H), pointer(WT),
        pointer(pads), pointer(dA), pointer(scratch), pointer(dh_rec),
    )  # fmt: skip
    _write_back(dh_out, dh_rec)
    dW = H[:-1].reshape(T * B, d).T @ dA.reshape(T * B, d)  # all steps in one GEMM
    return dA, dW, dh


def lstm_scan(
    G, H, C, TC, W, mask=None, activation="tanh", recurrent_activation="sigmoid",
    fused=None, ws=None,
) -> None:  # fmt: skip
    """:func:`rnnkit.core.lstm.lstm_scan`, compiled for tanh and sigmoid (always fused)."""
    kernel = _kernel("lstm_forward", (activation, recurrent_activation), G, H, C, TC, W)
    if kernel is None:
        lstm.lstm_scan(G, H, C, TC, W, mask, activation, recurrent_activation, fused, ws)
        return
    _, T, B, d = G.shape
    hw = take(ws, "lstm_hw", (4, B, d), G.dtype)  # h_{t-1} W_k, gate-major
    pads = _mask_bytes(mask)  # NOTE: held until the kernel returns
    parts = kernel_parts(T, B, d, 4, forward=True)
    Wk, ldw, wgap, wp = _forward_weights(W, 4, T, B, parts, ws)
    kernel(
        parts, T, B, d, pointer(G), pointer(H), pointer(C), pointer(TC), pointer(Wk), ldw, wgap,
        pointer(pads), pointer(hw), pointer(wp),
    )  # fmt: skip


def lstm_backward(
    dH, dh_last, dc_last, H, C, G, TC, W, mask=None, activation="tanh",
    recurrent_activation="sigmoid", ws=None, dh_out=None, dc_out=None, rows=None,
):  # fmt: skip
    """:func:`rnnkit.core.lstm.lstm_backward`, compiled for tanh and sigmoid."""
    acts = (activation, recurrent_activation)
    dH = None if dH is None else np.ascontiguousarray(dH)
    dh_rec, dc_rec = _contiguous(dh_out), _contiguous(dc_out)
    kernel = _kernel("lstm_backward", acts, H, C, G, TC, W, dH, dh_rec, dc_rec)
    if kernel is None:
        return lstm.lstm_backward(
            dH, dh_last, dc_last, H, C, G, TC, W, mask, activation, recurrent_activation,
            ws, dh_out, dc_out, rows,
        )  # fmt: skip
    _, T, B, d = G.shape
    dA = take(ws, "lstm_dA", (4, T, B, d), G.dtype) if rows is None else rows  # (T, B, 4d)
    dh = _start(ws, "lstm_dh", (B, d), G.dtype, dh_last)
    dc = _start(ws, "lstm_dc", (B, d), G.dtype, dc_last)
    scratch = take(ws, "lstm_dh_prev", (B, d), G.dtype)
    pads = _mask_bytes(mask)  # NOTE: held until the kernel returns
    WT4 = _transposed(W, ws)  # (4d, d): W_k^T one after the other
    kernel(
        kernel_parts(T, B, d, 4), T, B, d, pointer(dH), pointer(dh), pointer(dc), pointer(C),
        pointer(G), pointer(TC), pointer(WT4), pointer(pads), pointer(dA),
        0 if rows is None else 1, pointer(scratch), pointer(dh_rec), pointer(dc_rec),
    )  # fmt: skip
    _write_back(dh_out, dh_rec)
    _write_back(dc_out, dc_rec)
    return dA, lstm.lstm_weight_gradient(H, dA, W), dh, dc


def gru_scan(
    G, H, S, W, mask=None, *, recurrent_bias=None, reset_after=True, activation="tanh",
    recurrent_activation="sigmoid", fused=None, ws=None,
) -> None:  # fmt: skip
    """:func:`rnnkit.core.gru.gru_scan`, compiled for tanh and sigmoid."""
    acts = (activation, recurrent_activation)
    kernel = _kernel("gru_forward", acts, G, H, S, W, recurrent_bias)
    if kernel is None:
        gru.gru_scan(
            G, H, S, W, mask, recurrent_bias=recurrent_bias, reset_after=reset_after,
            activation=activation, recurrent_activation=recurrent_activation, fused=fused,
            ws=ws,
        )  # fmt: skip
        return
    _, T, B, d = G.shape
    b_h = recurrent_bias if reset_after and recurrent_bias is not None else None
    if b_h is None:
        b_h = np.zeros(3 * d, G.dtype)
    hw = take(ws, "gru_hw", (3, B, d), G.dtype)  # h_{t-1} W_k, gate-major
    parts = kernel_parts(T, B, d, 3, forward=True)
    Wk, ldw, wgap, wp = _forward_weights(W, 3, T, B, parts, ws)
    rn = take(ws, "gru_rn", (B, d), G.dtype)
    pads = _mask_bytes(mask)  # NOTE: held until the kernel returns
    kernel(
        parts, T, B, d, pointer(G), pointer(H), pointer(S), pointer(Wk), ldw, wgap, pointer(b_h),
        pointer(pads), 1 if reset_after else 0, pointer(hw), pointer(rn), pointer(wp),
    )  # fmt: skip


def gru_backward(
    dH, dh_last, H, G, S, W, mask=None, *, reset_after=True, activation="tanh",
    recurrent_activation="sigmoid", ws=None, dh_out=None, rows=None,
):  # fmt: skip
    """:func:`rnnkit.core.gru.gru_backward`, compiled for tanh and sigmoid."""
    acts = (activation, recurrent_activation)
    dH = None if dH is None else np.ascontiguousarray(dH)
    dh_rec = _contiguous(dh_out)
    kernel = _kernel("gru_backward", acts, H, G, S, W, dH, dh_rec)
    if kernel is None:
        return gru.gru_backward(
            dH, dh_last, H, G, S, W, mask, reset_after=reset_after, activation=activation,
            recurrent_activation=recurrent_activation, ws=ws, dh_out=dh_out, rows=rows,
        )  # fmt: skip
    _, T, B, d = G.shape
    dA = take(ws, "gru_dA", (3, T, B, d), G.dtype) if rows is None else rows  # (T, B, 3d)
    dh = _start(ws, "gru_dh", (B, d), G.dtype, dh_last)
    scratch = take(ws, "gru_dh_prev", (2, B, d), G.dtype)  # dL/dh_{t-1}, dL/dS_t
    rdn = take(ws, "gru_tmp", (T, B, d), G.dtype)  # r_t dL/da_n of every step
    pads = _mask_bytes(mask)  # NOTE: held until the kernel returns
    WT3 = _transposed(W, ws)  # (3d, d): W_k^T one after the other
    kernel(
        kernel_parts(T, B, d, 3), T, B, d, pointer(dH), pointer(dh), pointer(H), pointer(G),
        pointer(S), pointer(WT3), pointer(pads), 1 if reset_after else 0, pointer(dA),
        0 if rows is None else 1, pointer(rdn), pointer(scratch[0]), pointer(scratch[1]),
        pointer(dh_rec),
    )  # fmt: skip
    _write_back(dh_out, dh_rec)
    dW, db_h = gru.gru_weight_gradients(H, S, dA, W, rdn if reset_after else None)
    return dA, dW, db_h, dh
