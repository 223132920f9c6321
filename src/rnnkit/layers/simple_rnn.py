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

from rnnkit.core.activations import get_activation
from rnnkit.core.embedding import sparse_rows_grad
from rnnkit.core.init import get_initializer
from rnnkit.core.rnn import rnn_backward, rnn_forward
from rnnkit.errors import ShapeError
from rnnkit.layers.base import Layer, Spec

__all__ = ["SimpleRNN"]

Array = np.ndarray


class SimpleRNN(Layer):
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

    def __init__(
        self,
        units: int,
        activation: str = "tanh",
        *,
        return_sequences: bool = False,
        return_state: bool = False,
        kernel_initializer: str = "glorot_uniform",
        recurrent_initializer: str = "orthogonal",
        name: str | None = None,
        dtype: str = "float32",
    ) -> None:
        super().__init__(name=name, dtype=dtype)
        if int(units) < 1:
            raise ShapeError(f"units={units}: must be a positive integer")
        get_activation(activation)  # validate early
        get_initializer(kernel_initializer)
        get_initializer(recurrent_initializer)
        self.units = int(units)
        self.activation = activation
        self.return_sequences = return_sequences
        self.return_state = return_state
        self.kernel_initializer = kernel_initializer
        self.recurrent_initializer = recurrent_initializer

    def get_config(self) -> dict[str, Any]:
        return {
            "units": self.units,
            "activation": self.activation,
            "return_sequences": self.return_sequences,
            "return_state": self.return_state,
            "kernel_initializer": self.kernel_initializer,
            "recurrent_initializer": self.recurrent_initializer,
            **super().get_config(),
        }

    def _build(self, spec: Spec, rng: np.random.Generator) -> Spec:
        if not spec.time:
            raise ShapeError(f"{self.name}: SimpleRNN needs a time axis, (B, T, ...)")
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
        W = self.params["W"]
        ids = np.issubdtype(np.asarray(x).dtype, np.integer)
        xw = self._project(x, ids)  # (T, B, d) = U x_t + b
        T, B, d = xw.shape
        mask_t = None if mask is None else np.ascontiguousarray(np.asarray(mask, bool).T)
        if mask_t is not None and mask_t.shape != (T, B):
            raise ShapeError(f"{self.name}: mask has shape {mask_t.T.shape}, inputs {(B, T)}")
        if initial_state is None:
            h0 = np.zeros((B, d), dtype=self.dtype)
        else:
            h0 = np.asarray(initial_state, dtype=self.dtype)
            if h0.shape != (B, d):
                raise ShapeError(f"{self.name}: initial_state shape {h0.shape}, expected {(B, d)}")
        H = rnn_forward(xw, W, h0, mask_t, self.activation)  # (T+1, B, d)
        if self.return_sequences:
            seq = H[1:] if mask_t is None else H[1:] * mask_t[:, :, None]  # pads output 0
            y: Any = seq.swapaxes(0, 1)  # (B, T, d)
        else:
            y = H[T]  # last real state
        if self.return_state:
            y = (y, H[T])
        cache = (x, ids, mask_t, H, initial_state is not None)
        return y, cache

    def _project(self, x: Array, ids: bool) -> Array:
        U, b = self.params["U"], self.params["b"]
        if ids:
            x = np.asarray(x)
            if x.ndim != 2:
                raise ShapeError(f"{self.name}: ids must be (B, T), got shape {x.shape}")
            if x.size and (x.min() < 0 or x.max() >= U.shape[0]):
                raise ShapeError(f"{self.name}: ids must lie in [0, {U.shape[0]})")
            xw = U[x.T]  # (T, B, d): U x_t with x_t one-hot is row x_t of U
        else:
            x = np.asarray(x, dtype=self.dtype)
            if x.ndim != 3 or x.shape[2] != U.shape[0]:
                raise ShapeError(
                    f"{self.name}: inputs must be (B, T, {U.shape[0]}), got shape {x.shape}"
                )
            B, T, n = x.shape
            xt = np.ascontiguousarray(x.swapaxes(0, 1)).reshape(T * B, n)  # (T*B, n)
            xw = (xt @ U).reshape(T, B, -1)  # one GEMM for every step
        xw += b
        return xw

    # -- backward ------------------------------------------------------------------
    def backward(self, dy: Any, cache: Any):
        """Backpropagation through time.

        Accumulates dU, dW, db into ``self.grads`` and returns dx ((B, T, n_in), or
        None for ids), or ``(dx, dh0)`` when the forward pass was given an initial state.
        """
        x, ids, mask_t, H, had_h0 = cache
        W, U = self.params["W"], self.params["U"]
        dh_last = None
        if self.return_state:
            dy, dh_last = dy
        dH = None
        if self.return_sequences:
            dH = np.asarray(dy, dtype=self.dtype).swapaxes(0, 1)  # (T, B, d)
            if mask_t is not None:
                dH = dH * mask_t[:, :, None]  # a pad's output is a constant zero
        else:
            dh_last = dy if dh_last is None else dh_last + dy
        dA, dW, dh0 = rnn_backward(dH, dh_last, H, W, mask_t, self.activation)
        T, B, d = dA.shape
        self.grads["W"] += dW
        self.grads["b"] += dA.reshape(T * B, d).sum(axis=0)
        self._mark_dense("W")
        self._mark_dense("b")
        if ids:
            rows, g = sparse_rows_grad(np.asarray(x).T, dA, mask_t)
            self._add_sparse("U", rows, g)
            dx = None
        else:
            n = U.shape[0]
            xt = np.ascontiguousarray(np.asarray(x, self.dtype).swapaxes(0, 1)).reshape(T * B, n)
            self.grads["U"] += xt.T @ dA.reshape(T * B, d)  # one GEMM for every step
            self._mark_dense("U")
            dx = (dA.reshape(T * B, d) @ U.T).reshape(T, B, n).swapaxes(0, 1)  # (B, T, n)
        return (dx, dh0) if had_h0 else dx
