"""Each cell's step in float64, one labelled vector at a time: what ``rnnkit trace`` shows.

The fast scans of :mod:`rnnkit.core.rnn`, :mod:`rnnkit.core.lstm` and
:mod:`rnnkit.core.gru` run every step of a batch at once, in place, in float32. The
steps here compute one step of one sequence in float64, in the same order and with
the same gates, and record every vector with the equation that gives it, for
:mod:`rnnkit.viz.trace` (which checks them against the layers). Each cell's
description (:mod:`rnnkit.core.cells`) names its step.

Every step takes ``add(key, label, value)``, which records a labelled vector and
returns it as float64; the layer (for its activations and options); its float64
parameters `p`; ``ux`` = U x_t; the state before the step; and the subscripts t and s
of the new and the previous state (s = t - 1, or t + 1 reading backward). It returns
the new state, a tuple of the cell's states.

>>> import numpy as np
>>> from rnnkit import SimpleRNN
>>> rows = []
>>> def add(key, label, value):
...     rows.append(label)
...     return np.asarray(value, dtype=np.float64)
>>> p = {"W": np.eye(2), "b": np.zeros(2)}
>>> (h_1,) = rnn_trace_step(add, SimpleRNN(2), p, np.array([0.5, -0.5]), (np.zeros(2),), "1", "0")
>>> rows[-1], h_1.round(4).tolist()
('h_1 = tanh(U x_1 + W h_0 + b)', [0.4621, -0.4621])
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from rnnkit.core.activations import activate

__all__ = ["gru_trace_step", "lstm_trace_step", "rnn_trace_step"]

Array = np.ndarray
#: ``add(key, label, value)``: records a labelled vector, returns it as float64
Add = Callable[[str, str, Any], Array]


def rnn_trace_step(add: Add, layer: Any, p: dict[str, Array], ux: Array, state, t: str, s: str):
    """h_t = f(U x_t + W h_s + b); the state is (h,)."""
    f = layer.activation
    wh = add("Wh", f"W h_{s}", state[0] @ p["W"])
    b = add("b", "b", p["b"])
    a = add("a", f"a_{t} = U x_{t} + W h_{s} + b", ux + wh + b)
    return (add("h", f"h_{t} = {f}(U x_{t} + W h_{s} + b)", activate(f, a)),)


def lstm_trace_step(add: Add, layer: Any, p: dict[str, Array], ux: Array, state, t: str, s: str):
    """The gates i, f, g, o from a_t = U x_t + W h_s + b, then c_t and h_t; state (h, c)."""
    (h, c), f, g = state, layer.activation, layer.recurrent_activation
    wh = add("Wh", f"W h_{s}", h @ p["W"])
    b = add("b", "b", p["b"])
    a_i, a_f, a_c, a_o = np.split(add("a", f"a_{t} = U x_{t} + W h_{s} + b", ux + wh + b), 4)
    i = add("i", f"i_{t} = {g}(U_i x_{t} + W_i h_{s} + b_i)", activate(g, a_i))
    fg = add("f", f"f_{t} = {g}(U_f x_{t} + W_f h_{s} + b_f)", activate(g, a_f))
    cand = add("g", f"g_{t} = {f}(U_c x_{t} + W_c h_{s} + b_c)", activate(f, a_c))
    o = add("o", f"o_{t} = {g}(U_o x_{t} + W_o h_{s} + b_o)", activate(g, a_o))
    c = add("c", f"c_{t} = f_{t} * c_{s} + i_{t} * g_{t}", fg * c + i * cand)
    return add("h", f"h_{t} = o_{t} * {f}(c_{t})", o * activate(f, c)), c


def gru_trace_step(add: Add, layer: Any, p: dict[str, Array], ux: Array, state, t: str, s: str):
    """The gates z, r, the candidate n and h_t = z h_s + (1 - z) n; the state is (h,).

    With ``reset_after`` (two biases b_x, b_h) r_t scales W_h h_s + b_hh; without it
    (one bias), r_t scales h_s before the product with W_h.
    """
    (h,), f, g, d = state, layer.activation, layer.recurrent_activation, layer.units
    W, b, zr = p["W"], p["b"], slice(0, 2 * d)
    if layer.reset_after:
        wh = add("Wh", f"W h_{s}", h @ W)
        b_x, b_h = add("b_x", "b_x", b[0]), add("b_h", "b_h", b[1])
        a_zr = ux[zr] + b_x[zr] + wh[zr] + b_h[zr]
        r = activate(g, a_zr[d:])
        reset = r * (wh[2 * d :] + b_h[2 * d :])
        a_n = ux[2 * d :] + b_x[2 * d :] + reset
        z_, r_ = "U_z x_{t} + b_xz + W_z h_{s} + b_hz", "U_r x_{t} + b_xr + W_r h_{s} + b_hr"
        reset_, n_ = "r_{t} * (W_h h_{s} + b_hh)", "U_h x_{t} + b_xh + r_{t} * (W_h h_{s} + b_hh)"
    else:
        wh = add("Wh", f"W_zr h_{s}", h @ W[:, zr])
        b = add("b", "b", b)
        a_zr = ux[zr] + wh + b[zr]
        r = activate(g, a_zr[d:])
        reset = (r * h) @ W[:, 2 * d :]
        a_n = ux[2 * d :] + reset + b[2 * d :]
        z_, r_ = "U_z x_{t} + W_z h_{s} + b_z", "U_r x_{t} + W_r h_{s} + b_r"
        reset_, n_ = "W_h (r_{t} * h_{s})", "U_h x_{t} + W_h (r_{t} * h_{s}) + b_h"
    sub = {"t": t, "s": s}
    add("a", f"a_{t}: the pre-activations of z_{t}, r_{t}, n_{t}", np.concatenate([a_zr, a_n]))
    z = add("z", f"z_{t} = {g}({z_.format(**sub)})", activate(g, a_zr[:d]))
    add("r", f"r_{t} = {g}({r_.format(**sub)})", r)
    add("rWh" if layer.reset_after else "Wrh", reset_.format(**sub), reset)
    n = add("n", f"n_{t} = {f}({n_.format(**sub)})", activate(f, a_n))
    return (add("h", f"h_{t} = z_{t} * h_{s} + (1 - z_{t}) * n_{t}", z * h + (1 - z) * n),)
