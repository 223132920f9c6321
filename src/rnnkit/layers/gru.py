"""GRU: the gated recurrent unit, a recurrent layer with an update and a reset gate.

Parameters, in Keras ``get_weights()`` order, the three blocks side by side in Keras's
column order z, r, h (PyTorch's order is r, z, n):

====  ==========  ====================  ===================================================
name  shape       Keras                 PyTorch ``nn.GRU`` (blocks reordered to r, z, n)
====  ==========  ====================  ===================================================
U     (n_in, 3d)  ``kernel``            ``weight_ih_l0`` = U.T
W     (d, 3d)     ``recurrent_kernel``  ``weight_hh_l0`` = W.T
b     (2, 3d)     ``bias``              ``bias_ih_l0`` = b[0], ``bias_hh_l0`` = b[1]
====  ==========  ====================  ===================================================

With ``reset_after=False`` b is (3d,) and PyTorch has no equivalent.
:mod:`rnnkit.io.interop` converts to and from PyTorch's names and order.

GRU(3) on 5 inputs has 3 * 3 * (5 + 3 + 2) = 90 parameters, as in Keras (81 without
reset_after):

>>> import numpy as np
>>> from rnnkit.layers import Spec
>>> gru = GRU(3)
>>> gru.build(Spec("features", 5), np.random.default_rng(0))
Spec(kind='features', size=3, time=False)
>>> [w.shape for w in gru.get_weights()], gru.count_params()
([(5, 9), (3, 9), (2, 9)], 90)
>>> classic = GRU(3, reset_after=False)
>>> _ = classic.build(Spec("features", 5), np.random.default_rng(0))
>>> classic.params["b"].shape, classic.count_params()
((9,), 81)
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from rnnkit.core.cells import get_cell
from rnnkit.core.recurrences import gru_backward, gru_scan
from rnnkit.layers.base import Spec
from rnnkit.layers.projection import (
    gate_bias_gradient,
    gate_major_input_gradients,
    project_gate_major,
    side_by_side,
)
from rnnkit.layers.recurrent import GatedRecurrentLayer

__all__ = ["GRU", "GRUSaved"]

Array = np.ndarray


class GRUSaved(NamedTuple):
    """What the GRU's BPTT needs besides the states H (the cache's ``saved``).

    G : (3, T, B, d) the gates z, r and the candidate n, after their activations
    S : (T, B, d) h_{t-1} W_h + b_hh, which r_t scales (without reset_after: r_t * h_{t-1})
    """

    G: Array
    S: Array


class GRU(GatedRecurrentLayer):
    """Gated recurrent unit (Cho et al., 2014).

    Parameters
    ----------
    units : int
        d, the size of the state h_t.
    activation : str
        The candidate's activation (tanh).
    recurrent_activation : str
        The gates' activation (sigmoid).
    return_sequences : bool
        Output every h_t, (B, T, d) with zeros at pad steps, instead of the last real
        state (B, d).
    return_state : bool
        Also output the final state: ``forward`` then returns ``((y, h_T), cache)``.
    reset_after : bool
        Apply the reset gate after the recurrent product, with a separate recurrent
        bias (True: Keras's default and PyTorch's form) or before it (False: the
        original GRU, one bias).

    Notes
    -----
    With the blocks z, r, h of ``x_t U + b_x`` and ``h_{t-1} W + b_h``::

        z_t = sigmoid(x_t U_z + b_xz + h_{t-1} W_z + b_hz)
        r_t = sigmoid(x_t U_r + b_xr + h_{t-1} W_r + b_hr)
        n_t = tanh(x_t U_h + b_xh + r_t * (h_{t-1} W_h + b_hh))    reset_after=True
        n_t = tanh(x_t U_h + b_h + (r_t * h_{t-1}) W_h)            reset_after=False
        h_t = z_t * h_{t-1} + (1 - z_t) * n_t

    (b_x = b[0] and b_h = b[1] with reset_after; otherwise b alone and no b_h.) Where
    z_t is near 1 the state, and its gradient, pass through unchanged. With a mask, a
    pad step carries the state unchanged. ``forward``, ``step`` and ``backward`` are
    :class:`~rnnkit.layers.recurrent.RecurrentLayer`'s.
    """

    kind = "gru"
    cell = get_cell("gru")

    def __init__(
        self,
        units: int,
        activation: str = "tanh",
        recurrent_activation: str = "sigmoid",
        *,
        reset_after: bool = True,
        **options: Any,
    ) -> None:
        """`options`: return_sequences, return_state, the initialisers, name, dtype."""
        super().__init__(units, activation, recurrent_activation, **options)
        self.reset_after = reset_after

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "reset_after": self.reset_after}

    def _build(self, spec: Spec, rng: np.random.Generator) -> Spec:
        d = self.units
        return self._weights(spec, rng, np.zeros((2, 3 * d) if self.reset_after else 3 * d))

    def _scan(self, x: Array, ids: bool, mask_t: Array | None, states: tuple[Array, ...]):
        B, T, d = x.shape[0], x.shape[1], self.units
        ws, b = self.workspace, self.params["b"]
        G = project_gate_major(self, x, ids, ws.take("G", (3, T, B, d), self.dtype))
        b_x = b[0] if self.reset_after else b
        G += b_x.reshape(3, 1, 1, d)  # x_t U + b_x, which becomes the gates in place
        H = ws.take("H", (T + 1, B, d), self.dtype)
        S = ws.take("S", (T, B, d), self.dtype)
        H[0] = states[0]
        gru_scan(
            G, H, S, self.params["W"], mask_t,
            recurrent_bias=b[1] if self.reset_after else None, reset_after=self.reset_after,
            activation=self.activation, recurrent_activation=self.recurrent_activation, ws=ws,
        )  # fmt: skip
        return H, (H[T],), GRUSaved(G, S)

    def _bptt(self, dH, d_final, H, saved: GRUSaved, mask_t, dh_out=None):
        dA, dW, db_h, dh0 = gru_backward(
            dH, d_final[0], H, saved.G, saved.S, self.params["W"], mask_t,
            reset_after=self.reset_after,
            activation=self.activation, recurrent_activation=self.recurrent_activation,
            ws=self.workspace, dh_out=dh_out, rows=side_by_side(self, saved.G.shape),
        )  # fmt: skip
        db_x = gate_bias_gradient(dA)  # z, r, h blocks
        self.grads["W"] += dW
        if db_h is None:
            self.grads["b"] += db_x
        else:
            self.grads["b"][0] += db_x
            self.grads["b"][1] += db_h
        return dA, [dh0]

    def _input_gradients(self, x, ids, mask_t, dxw):
        return gate_major_input_gradients(self, x, ids, mask_t, dxw)
