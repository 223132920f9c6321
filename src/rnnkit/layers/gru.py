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

from typing import Any

import numpy as np

from rnnkit.core.gru import gru_backward, gru_forward
from rnnkit.core.init import get_initializer
from rnnkit.layers.base import Spec

# NOTE: the input, mask and output plumbing is the same for every gated layer; it lives
# beside LSTM, the first of them.
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

__all__ = ["GRU"]

Array = np.ndarray


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
    pad step carries the state unchanged.
    """

    kind = "gru"

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
        self._check_time(spec)
        n, d = spec.size, self.units
        self.params = {
            "U": self._param(get_initializer(self.kernel_initializer)((n, 3 * d), rng)),
            "W": self._param(get_initializer(self.recurrent_initializer)((d, 3 * d), rng)),
            "b": self._param(np.zeros((2, 3 * d) if self.reset_after else 3 * d)),
        }
        return Spec("features", d, time=self.return_sequences)

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
        xw, ids = self._project(x)  # (T, B, 3d)
        T, B, _ = xw.shape
        mask_t = time_major_mask(self, mask, T, B)
        H, G, S = self._scan(xw, mask_t, initial_state)
        y: Any = sequence_output(H, mask_t) if self.return_sequences else H[T]
        if self.return_state:
            y = (y, H[T])
        cache = (x, ids, mask_t, H, G, S, initial_state is not None)
        return y, cache

    def _project(self, x: Array) -> tuple[Array, bool]:
        b = self.params["b"]
        xw, ids = project_inputs(self, x)  # (T, B, 3d) = x_t U
        xw += b[0] if self.reset_after else b  # + b_x
        return xw, ids

    def _scan(self, xw: Array, mask_t: Array | None, state: Any) -> tuple[Array, Array, Array]:
        """gru_forward from the initial state h0, zeros when None."""
        B = xw.shape[1]
        if state is None:
            h0 = np.zeros((B, self.units), dtype=self.dtype)
        else:
            h0 = state_array(self, state, B, "initial_state")
        return gru_forward(
            xw,
            self.params["W"],
            h0,
            mask_t,
            recurrent_bias=self.params["b"][1] if self.reset_after else None,
            reset_after=self.reset_after,
            activation=self.activation,
            recurrent_activation=self.recurrent_activation,
        )

    def step(self, x_t: Array, state: Array | None = None) -> tuple[Array, Array]:
        self._require_built()
        xw, _ = self._project(step_input(self, x_t))  # (1, B, 3d)
        H, _, _ = self._scan(xw, None, state)
        return H[1], H[1]

    def backward(self, dy: Any, cache: Any):
        """Backpropagation through time.

        Accumulates dU, dW, db into ``self.grads`` and returns dx ((B, T, n_in), or None
        for ids), or ``(dx, dh0)`` when the forward pass was given an initial state.
        """
        x, ids, mask_t, H, G, S, had_state = cache
        dh_state = None
        if self.return_state:
            dy, dh_state = dy
        dH, dh_last = output_gradients(self, dy, mask_t)
        if dh_state is not None:
            dh_last = dh_state if dh_last is None else dh_last + dh_state
        dA, dW, db_h, dh0 = gru_backward(
            dH,
            dh_last,
            H,
            G,
            S,
            self.params["W"],
            mask_t,
            reset_after=self.reset_after,
            activation=self.activation,
            recurrent_activation=self.recurrent_activation,
        )
        db_x = dA.reshape(-1, dA.shape[2]).sum(axis=0)
        self.grads["W"] += dW
        if db_h is None:
            self.grads["b"] += db_x
        else:
            self.grads["b"][0] += db_x
            self.grads["b"][1] += db_h
        self._mark_dense("W")
        self._mark_dense("b")
        dx = input_gradients(self, x, ids, mask_t, dA)
        return (dx, dh0) if had_state else dx
