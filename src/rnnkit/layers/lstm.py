"""LSTM: the long short-term memory layer, a recurrent layer whose gates decide what to keep.

Parameters, in Keras ``get_weights()`` order, the four gates side by side in Keras's
column order i, f, c, o (PyTorch's i, f, g, o is the same order under other names):

====  ==========  ====================  ===============================
name  shape       Keras                 PyTorch ``nn.LSTM``
====  ==========  ====================  ===============================
U     (n_in, 4d)  ``kernel``            ``weight_ih_l0`` = U.T
W     (d, 4d)     ``recurrent_kernel``  ``weight_hh_l0`` = W.T
b     (4d,)       ``bias``              ``bias_ih_l0 + bias_hh_l0`` = b
====  ==========  ====================  ===============================

:mod:`rnnkit.io.interop` converts to and from PyTorch's names. Inputs are (B, T, n_in)
real vectors or (B, T) integer ids, whose U x_t is a row lookup with a sparse gradient.

LSTM(3) on 5 inputs has 4 * 3 * (5 + 3 + 1) = 108 parameters, as in Keras:

>>> import numpy as np
>>> from rnnkit.layers import Spec
>>> lstm = LSTM(3)
>>> lstm.build(Spec("ids", 5), np.random.default_rng(0))
Spec(kind='features', size=3, time=False)
>>> [w.shape for w in lstm.get_weights()], lstm.count_params()
([(5, 12), (3, 12), (12,)], 108)
>>> lstm.params["b"].reshape(4, 3)[1]    # unit_forget_bias: the forget gate starts open
array([1., 1., 1.], dtype=float32)
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from rnnkit.core.cells import get_cell
from rnnkit.core.recurrences import lstm_backward, lstm_scan
from rnnkit.layers.base import Spec
from rnnkit.layers.projection import (
    gate_bias_gradient,
    gate_major_input_gradients,
    project_gate_major,
    side_by_side,
)
from rnnkit.layers.recurrent import GatedRecurrentLayer
from rnnkit.layers.sequences import RecurrentCache

__all__ = ["LSTM", "LSTMSaved"]

Array = np.ndarray


class LSTMSaved(NamedTuple):
    """What the LSTM's BPTT needs besides the states H (the cache's ``saved``).

    C : (T + 1, B, d) the cell states, C[0] = c_0
    G : (4, T, B, d) the gates i, f, o and the candidate g, after their activations
    TC : (T, B, d) f(c_t), the activation (tanh) of every cell state
    """

    C: Array
    G: Array
    TC: Array


class LSTM(GatedRecurrentLayer):
    """Long short-term memory layer (Hochreiter & Schmidhuber, 1997).

    Parameters
    ----------
    units : int
        d, the size of the hidden state h_t and of the cell state c_t.
    activation : str
        The candidate's and the cell output's activation (tanh).
    recurrent_activation : str
        The gates' activation (sigmoid).
    return_sequences : bool
        Output every h_t, (B, T, d) with zeros at pad steps, instead of the last real
        state (B, d).
    return_state : bool
        Also output the final states: ``forward`` then returns ``((y, h_T, c_T), cache)``
        and ``backward`` takes ``(dy, dh_T, dc_T)``.
    unit_forget_bias : bool
        Start the forget gate's bias at 1 (Keras's default), so that the cell state is
        kept rather than forgotten before training has taught the gate anything.

    Notes
    -----
    With a_t = x_t U + h_{t-1} W + b split into four d-wide blocks (i, f, c, o)::

        i_t = sigmoid(a_i)    f_t = sigmoid(a_f)    g_t = tanh(a_c)    o_t = sigmoid(a_o)
        c_t = f_t * c_{t-1} + i_t * g_t
        h_t = o_t * tanh(c_t)

    The cell state c_t is changed only by addition, gated by f_t: where f_t is near 1
    the gradient passes back through many steps without vanishing. With a mask, a pad
    step carries h and c unchanged. ``forward``, ``step`` and ``backward`` are
    :class:`~rnnkit.layers.recurrent.RecurrentLayer`'s; the state is the pair (h, c),
    and ``record_state_gradients`` records dL/dc_t (key "c") beside dL/dh_t ("h").
    """

    kind = "lstm"
    cell = get_cell("lstm")

    def __init__(
        self,
        units: int,
        activation: str = "tanh",
        recurrent_activation: str = "sigmoid",
        *,
        unit_forget_bias: bool = True,
        **options: Any,
    ) -> None:
        """`options`: return_sequences, return_state, the initialisers, name, dtype."""
        super().__init__(units, activation, recurrent_activation, **options)
        self.unit_forget_bias = unit_forget_bias

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "unit_forget_bias": self.unit_forget_bias}

    def _build(self, spec: Spec, rng: np.random.Generator) -> Spec:
        d = self.units
        b = np.zeros(4 * d)
        if self.unit_forget_bias:
            b[d : 2 * d] = 1.0
        return self._weights(spec, rng, b)

    def _scan(self, x: Array, ids: bool, mask_t: Array | None, states: tuple[Array, ...]):
        B, T, d = x.shape[0], x.shape[1], self.units
        ws = self.workspace
        G = project_gate_major(self, x, ids, ws.take("G", (4, T, B, d), self.dtype))
        G += self.params["b"].reshape(4, 1, 1, d)  # x_t U + b, which becomes the gates
        H = ws.take("H", (T + 1, B, d), self.dtype)
        C = ws.take("C", (T + 1, B, d), self.dtype)
        TC = ws.take("TC", (T, B, d), self.dtype)
        H[0], C[0] = states
        lstm_scan(
            G, H, C, TC, self.params["W"], mask_t, self.activation,
            self.recurrent_activation, ws=ws,
        )  # fmt: skip
        return H, (H[T], C[T]), LSTMSaved(C, G, TC)

    def final_state(self, cache: RecurrentCache) -> tuple[Array, Array]:
        return cache.H[-1].copy(), cache.saved.C[-1].copy()

    def _bptt(self, dH, d_final, H, saved: LSTMSaved, mask_t, dh_out=None, dc_out=None):
        dA, dW, dh0, dc0 = lstm_backward(
            dH, d_final[0], d_final[1], H, saved.C, saved.G, saved.TC, self.params["W"], mask_t,
            self.activation, self.recurrent_activation, self.workspace, dh_out, dc_out,
            side_by_side(self, saved.G.shape),
        )  # fmt: skip
        self.grads["W"] += dW
        self.grads["b"] += gate_bias_gradient(dA)
        return dA, [dh0, dc0]

    def _input_gradients(self, x, ids, mask_t, dxw):
        return gate_major_input_gradients(self, x, ids, mask_t, dxw)
