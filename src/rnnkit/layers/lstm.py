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

from typing import Any

import numpy as np

from rnnkit.core.init import get_initializer
from rnnkit.core.lstm import lstm_backward, lstm_forward
from rnnkit.errors import ShapeError
from rnnkit.layers.base import Spec
from rnnkit.layers.recurrent import (
    GatedRecurrentLayer,
    input_gradients,
    output_gradients,
    project_inputs,
    sequence_output,
    state_array,
    step_input,
    time_major_mask,
)

__all__ = ["LSTM"]

Array = np.ndarray


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
    step carries h and c unchanged.
    """

    kind = "lstm"

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
        self._check_time(spec)
        n, d = spec.size, self.units
        b = np.zeros(4 * d)
        if self.unit_forget_bias:
            b[d : 2 * d] = 1.0
        self.params = {
            "U": self._param(get_initializer(self.kernel_initializer)((n, 4 * d), rng)),
            "W": self._param(get_initializer(self.recurrent_initializer)((d, 4 * d), rng)),
            "b": self._param(b),
        }
        return Spec("features", d, time=self.return_sequences)

    def forward(
        self,
        x: Array,
        mask: Array | None = None,
        training: bool = False,
        initial_state: tuple[Array, Array] | None = None,
    ):
        """Run the layer.

        Parameters
        ----------
        x : (B, T) int ids or (B, T, n_in) float array
        mask : (B, T) bool array, optional (False at pads)
        initial_state : pair of (B, d) arrays (h_0, c_0), optional; zeros when omitted.

        Returns
        -------
        y : (B, T, d) if return_sequences else (B, d); ``(y, h_T, c_T)`` with return_state.
        cache : what :meth:`backward` needs.
        """
        self._require_built()
        xw, ids = project_inputs(self, x)  # (T, B, 4d) = x_t U
        xw += self.params["b"]
        T, B, _ = xw.shape
        mask_t = time_major_mask(self, mask, T, B)
        H, C, G = self._scan(xw, mask_t, initial_state)
        y: Any = sequence_output(H, mask_t) if self.return_sequences else H[T]
        if self.return_state:
            y = (y, H[T], C[T])
        cache = (x, ids, mask_t, H, C, G, initial_state is not None)
        return y, cache

    def _scan(self, xw: Array, mask_t: Array | None, state: Any) -> tuple[Array, Array, Array]:
        """lstm_forward from the initial state (h0, c0), zeros when None."""
        B = xw.shape[1]
        if state is None:
            h0 = c0 = np.zeros((B, self.units), dtype=self.dtype)
        else:
            if len(state) != 2:
                raise ShapeError(f"{self.name}: the state must be a pair (h, c)")
            h0 = state_array(self, state[0], B, "h0")
            c0 = state_array(self, state[1], B, "c0")
        return lstm_forward(
            xw, self.params["W"], h0, c0, mask_t, self.activation, self.recurrent_activation
        )

    def step(
        self, x_t: Array, state: tuple[Array, Array] | None = None
    ) -> tuple[Array, tuple[Array, Array]]:
        self._require_built()
        xw, _ = project_inputs(self, step_input(self, x_t))  # (1, B, 4d)
        xw += self.params["b"]
        H, C, _ = self._scan(xw, None, state)
        return H[1], (H[1], C[1])

    def backward(self, dy: Any, cache: Any):
        """Backpropagation through time.

        Accumulates dU, dW, db into ``self.grads`` and returns dx ((B, T, n_in), or None
        for ids), or ``(dx, (dh0, dc0))`` when the forward pass was given an initial state.
        """
        x, ids, mask_t, H, C, G, had_state = cache
        dc_last = None
        if self.return_state:
            dy, dh_state, dc_last = dy
        dH, dh_last = output_gradients(self, dy, mask_t)
        if self.return_state:
            dh_last = dh_state if dh_last is None else dh_last + dh_state
        dA, dW, dh0, dc0 = lstm_backward(
            dH,
            dh_last,
            dc_last,
            H,
            C,
            G,
            self.params["W"],
            mask_t,
            self.activation,
            self.recurrent_activation,
        )
        self.grads["W"] += dW
        self.grads["b"] += dA.reshape(-1, dA.shape[2]).sum(axis=0)
        self._mark_dense("W")
        self._mark_dense("b")
        dx = input_gradients(self, x, ids, mask_t, dA)
        return (dx, (dh0, dc0)) if had_state else dx
