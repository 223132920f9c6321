"""The plumbing every recurrent layer (SimpleRNN, LSTM, GRU) shares.

Inputs are ids (B, T) or real vectors (B, T, n_in). Ids are one-hot vectors that are
never built: x_t U is row x_t of U and its gradient a sparse row update. Real vectors
go through one GEMM for all steps, forward and backward. Masks become time-major
(T, B); per-step outputs are zero at pads.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rnnkit.core.activations import get_activation
from rnnkit.core.embedding import sparse_rows_grad
from rnnkit.core.init import get_initializer
from rnnkit.errors import ShapeError
from rnnkit.layers.base import Layer, Spec

__all__ = [
    "GatedRecurrentLayer",
    "RecurrentLayer",
    "input_gradients",
    "output_gradients",
    "project_inputs",
    "sequence_output",
    "state_array",
    "step_input",
    "time_major_mask",
]

Array = np.ndarray


class RecurrentLayer(Layer):
    """What SimpleRNN, LSTM and GRU share: units, f, the output options, initialisers."""

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

    def _check_time(self, spec: Spec) -> None:
        if not spec.time:
            raise ShapeError(f"{self.name}: {type(self).__name__} needs a time axis, (B, T, ...)")

    def step(self, x_t: Array, state: Any = None) -> tuple[Array, Any]:
        """One step at inference (generation): ``(h_t, state_t)`` from x_t and the state.

        x_t is (B,) ids or (B, n_in) vectors; `state` is what the previous call returned
        (None: the zero state). The state is h_t, or the pair (h_t, c_t) of an LSTM. A
        sequence fed step by step gives exactly the states :meth:`forward` computes.
        """
        raise NotImplementedError


class GatedRecurrentLayer(RecurrentLayer):
    """LSTM and GRU: a recurrent layer whose gates use `recurrent_activation`."""

    def __init__(
        self,
        units: int,
        activation: str = "tanh",
        recurrent_activation: str = "sigmoid",
        **options: Any,
    ) -> None:
        super().__init__(units, activation, **options)
        get_activation(recurrent_activation)  # validate early
        self.recurrent_activation = recurrent_activation

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "recurrent_activation": self.recurrent_activation}


def project_inputs(layer: Layer, x: Array) -> tuple[Array, bool]:
    """``x_t U`` for every step, time-major (T, B, k), and whether `x` holds ids.

    Ids are one-hot vectors that are never built: x_t U is row x_t of U. Real vectors
    go through one GEMM for all steps. The bias is left to the caller.
    """
    U = layer.params["U"]
    ids = np.issubdtype(np.asarray(x).dtype, np.integer)
    if ids:
        x = np.asarray(x)
        if x.ndim != 2:
            raise ShapeError(f"{layer.name}: ids must be (B, T), got shape {x.shape}")
        if x.size and (x.min() < 0 or x.max() >= U.shape[0]):
            raise ShapeError(f"{layer.name}: ids must lie in [0, {U.shape[0]})")
        return U[x.T], True  # (T, B, k): a copy, safe to add the bias into
    x = np.asarray(x, dtype=layer.dtype)
    if x.ndim != 3 or x.shape[2] != U.shape[0]:
        raise ShapeError(f"{layer.name}: inputs must be (B, T, {U.shape[0]}), got shape {x.shape}")
    B, T, n = x.shape
    xt = np.ascontiguousarray(x.swapaxes(0, 1)).reshape(T * B, n)  # (T*B, n)
    return (xt @ U).reshape(T, B, -1), False  # one GEMM for every step


def step_input(layer: Layer, x_t: Array) -> Array:
    """One step's input, (B,) ids or (B, n_in) vectors, as a sequence of length 1."""
    x_t = np.asarray(x_t)
    ids = np.issubdtype(x_t.dtype, np.integer)
    if x_t.ndim != (1 if ids else 2):
        want = "(B,) ids" if ids else "(B, n_in) vectors"
        raise ShapeError(f"{layer.name}: one step takes {want}, got shape {x_t.shape}")
    return x_t[:, None]  # (B, 1) or (B, 1, n_in)


def input_gradients(
    layer: Layer, x: Array, ids: bool, mask_t: Array | None, dxw: Array
) -> Array | None:
    """Add dU from dL/d(x_t U) (T, B, k) and return dx (B, T, n_in), None for ids."""
    U = layer.params["U"]
    T, B, k = dxw.shape
    if ids:
        rows, g = sparse_rows_grad(np.asarray(x).T, dxw, mask_t)
        layer._add_sparse("U", rows, g)
        return None
    n = U.shape[0]
    xt = np.ascontiguousarray(np.asarray(x, layer.dtype).swapaxes(0, 1)).reshape(T * B, n)
    layer.grads["U"] += xt.T @ dxw.reshape(T * B, k)  # one GEMM for every step
    layer._mark_dense("U")
    return (dxw.reshape(T * B, k) @ U.T).reshape(T, B, n).swapaxes(0, 1)  # (B, T, n)


def time_major_mask(layer: Layer, mask: Array | None, T: int, B: int) -> Array | None:
    """The (B, T) mask as a contiguous (T, B) bool array, checked against the inputs."""
    if mask is None:
        return None
    mask_t = np.ascontiguousarray(np.asarray(mask, bool).T)
    if mask_t.shape != (T, B):
        raise ShapeError(f"{layer.name}: mask has shape {mask_t.T.shape}, inputs {(B, T)}")
    return mask_t


def state_array(layer: Any, value: Array, B: int, what: str) -> Array:
    """An initial state as a (B, d) array of the layer's dtype."""
    s = np.asarray(value, dtype=layer.dtype)
    if s.shape != (B, layer.units):
        raise ShapeError(f"{layer.name}: {what} has shape {s.shape}, expected {(B, layer.units)}")
    return s


def sequence_output(H: Array, mask_t: Array | None) -> Array:
    """Every h_t as (B, T, d), zeros at pad steps."""
    seq = H[1:] if mask_t is None else H[1:] * mask_t[:, :, None]
    return seq.swapaxes(0, 1)


def output_gradients(
    layer: Any, dy: Any, mask_t: Array | None
) -> tuple[Array | None, Array | None]:
    """Split dL/dy into per-step gradients dH (T, B, d) or a last-state gradient."""
    if not layer.return_sequences:
        return None, dy
    dH = np.asarray(dy, dtype=layer.dtype).swapaxes(0, 1)  # (T, B, d)
    if mask_t is not None:
        dH = dH * mask_t[:, :, None]  # a pad's output is a constant zero
    return dH, None
