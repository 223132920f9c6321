"""SimpleRNN: the lecture's recurrent layer, h_t = f(U x_t + W h_{t-1} + b).

Parameters, in Keras ``get_weights()`` order:

====  =========  ====================  ===============================
name  shape      Keras                 PyTorch ``nn.RNN``
====  =========  ====================  ===============================
U     (n_in, d)  ``kernel``            ``weight_ih_l0`` = U.T
W     (d, d)     ``recurrent_kernel``  ``weight_hh_l0`` = W.T
b     (d,)       ``bias``              ``bias_ih_l0 + bias_hh_l0`` = b
====  =========  ====================  ===============================

Inputs are (B, T, n_in) real vectors (explicit one-hot arrays included) or (B, T)
integer ids. Ids are one-hot vectors that are never materialised: U x_t is then row
x_t of U, and its gradient a sparse row update.

The lecture's model, SimpleRNN(3) on 5 one-hot inputs, has 5*3 + 3*3 + 3 = 27
parameters:

>>> import numpy as np
>>> from rnnkit.layers import Spec
>>> rnn = SimpleRNN(3)
>>> rnn.build(Spec("ids", 5), np.random.default_rng(0))
Spec(kind='features', size=3, time=False)
>>> [w.shape for w in rnn.get_weights()], rnn.count_params()
([(5, 3), (3, 3), (3,)], 27)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rnnkit.core.init import get_initializer
from rnnkit.core.rnn import rnn_backward, rnn_forward
from rnnkit.layers.base import Spec
from rnnkit.layers.recurrent import (
    RecurrentLayer,
    input_gradients,
    output_gradients,
    project_inputs,
    sequence_output,
    state_array,
    step_input,
    time_major_mask,
)

__all__ = ["SimpleRNN"]

Array = np.ndarray


class SimpleRNN(RecurrentLayer):
    """Fully connected recurrent layer (Elman network).

    Parameters
    ----------
    units : int
        d, the size of the state h_t.
    activation : {"tanh", "relu", "sigmoid", "linear"}
        f in the cell equation.
    return_sequences : bool
        Output every h_t, (B, T, d) with zeros at pad steps, instead of the last real
        state (B, d).
    return_state : bool
        Also output the final state: ``forward`` then returns ``((y, h_T), cache)``.

    Notes
    -----
    With a mask, a pad step carries the state unchanged (h_t = h_{t-1}), so the final
    state is each sequence's last real state and a padded batch gives every sequence
    exactly what it gets alone.
    """

    kind = "simple_rnn"

    def _build(self, spec: Spec, rng: np.random.Generator) -> Spec:
        self._check_time(spec)
        n, d = spec.size, self.units
        self.params = {
            "U": self._param(get_initializer(self.kernel_initializer)((n, d), rng)),
            "W": self._param(get_initializer(self.recurrent_initializer)((d, d), rng)),
            "b": self._param(np.zeros(d)),
        }
        return Spec("features", d, time=self.return_sequences)

    # -- forward -------------------------------------------------------------------
    def forward(
        self,
        x: Array,
        mask: Array | None = None,
        training: bool = False,
        initial_state: Array | None = None,
    ):
        """Run the layer.

        Parameters
        ----------
        x : (B, T) int ids or (B, T, n_in) float array
        mask : (B, T) bool array, optional (False at pads)
        initial_state : (B, d) array, optional; h_0 = 0 when omitted.

        Returns
        -------
        y : (B, T, d) if return_sequences else (B, d); ``(y, h_T)`` with return_state.
        cache : what :meth:`backward` needs.
        """
        self._require_built()
        xw, ids = self._project(x)  # (T, B, d)
        T, B, _ = xw.shape
        mask_t = time_major_mask(self, mask, T, B)
        h0 = self._h0(initial_state, B)
        H = rnn_forward(xw, self.params["W"], h0, mask_t, self.activation)  # (T+1, B, d)
        y: Any = sequence_output(H, mask_t) if self.return_sequences else H[T]  # last real h
        if self.return_state:
            y = (y, H[T])
        cache = (x, ids, mask_t, H, initial_state is not None)
        return y, cache

    def _project(self, x: Array) -> tuple[Array, bool]:
        xw, ids = project_inputs(self, x)  # (T, B, d) = U x_t
        xw += self.params["b"]  # + b
        return xw, ids

    def step(self, x_t: Array, state: Array | None = None) -> tuple[Array, Array]:
        self._require_built()
        xw, _ = self._project(step_input(self, x_t))  # (1, B, d)
        H = rnn_forward(xw, self.params["W"], self._h0(state, xw.shape[1]), None, self.activation)
        return H[1], H[1]

    def _h0(self, state: Array | None, B: int) -> Array:
        if state is None:
            return np.zeros((B, self.units), dtype=self.dtype)
        return state_array(self, state, B, "initial_state")

    # -- backward ------------------------------------------------------------------
    def backward(self, dy: Any, cache: Any):
        """Backpropagation through time.

        Accumulates dU, dW, db into ``self.grads`` and returns dx ((B, T, n_in), or
        None for ids), or ``(dx, dh0)`` when the forward pass was given an initial state.
        """
        x, ids, mask_t, H, had_h0 = cache
        dh_state = None
        if self.return_state:
            dy, dh_state = dy
        dH, dh_last = output_gradients(self, dy, mask_t)
        if dh_state is not None:
            dh_last = dh_state if dh_last is None else dh_last + dh_state
        dA, dW, dh0 = rnn_backward(dH, dh_last, H, self.params["W"], mask_t, self.activation)
        T, B, d = dA.shape
        self.grads["W"] += dW
        self.grads["b"] += dA.reshape(T * B, d).sum(axis=0)
        self._mark_dense("W")
        self._mark_dense("b")
        dx = input_gradients(self, x, ids, mask_t, dA)  # dU, and dx for real inputs
        return (dx, dh0) if had_h0 else dx
