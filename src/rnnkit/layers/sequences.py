"""The sequences a recurrent layer reads and writes: inputs, masks, states and outputs.

Inputs are ids (B, T) or real vectors (B, T, n_in), checked against U; masks become
time-major (T, B), or None when the batch has no pads; per-step outputs are batch-first
views of the time-major state buffer, zero at pads; :class:`RecurrentCache` is what
the forward pass keeps of them for BPTT. Every recurrent layer, whatever its cell,
goes through these (:class:`~rnnkit.layers.recurrent.RecurrentLayer`).

>>> import numpy as np
>>> from rnnkit.layers import SimpleRNN, Spec
>>> rnn = SimpleRNN(2)
>>> _ = rnn.build(Spec("ids", 5), np.random.default_rng(0))
>>> time_major_mask(rnn, np.array([[True, True, False]]), 3, 1).tolist()   # (T, B)
[[True], [True], [False]]
>>> time_major_mask(rnn, np.ones((1, 3), bool), 3, 1) is None               # no pads
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from rnnkit.errors import ShapeError
from rnnkit.layers.base import Layer

__all__ = [
    "RecurrentCache",
    "output_gradients",
    "prepare_inputs",
    "sequence_output",
    "state_array",
    "step_input",
    "time_major_mask",
]

Array = np.ndarray


@dataclass(frozen=True)
class RecurrentCache:
    """What a recurrent layer's forward pass hands its backward pass (BPTT).

    x : (B, T) ids or (B, T, n_in) inputs, as the layer read them
    ids : whether x holds ids
    mask : (T, B) bool, time-major, or None when no step is a pad
    H : (T + 1, B, d) the states, H[0] = h_0 (a buffer the next batch reuses)
    saved : what the cell's BPTT needs besides H (the LSTM's and the GRU's named tuples)
    recorded : state name -> (B, T, d) array to receive dL/d state, or None
        (see ``RecurrentLayer.record_state_gradients``)
    had_state : whether the forward pass was given an initial state (backward then
        also returns its gradient)
    """

    x: Array
    ids: bool
    mask: Array | None
    H: Array
    saved: Any
    recorded: dict[str, Array] | None
    had_state: bool


def prepare_inputs(layer: Layer, x: Any) -> tuple[Array, bool]:
    """Checked inputs: (B, T) ids in range, or (B, T, n_in) vectors of the layer's dtype."""
    U = layer.params["U"]
    x = np.asarray(x)
    if np.issubdtype(x.dtype, np.integer):
        if x.ndim != 2:
            raise ShapeError(f"{layer.name}: ids must be (B, T), got shape {x.shape}")
        if x.size and (x.min() < 0 or x.max() >= U.shape[0]):
            raise ShapeError(f"{layer.name}: ids must lie in [0, {U.shape[0]})")
        return x, True
    x = x.astype(layer.dtype, copy=False)
    if x.ndim != 3 or x.shape[2] != U.shape[0]:
        raise ShapeError(f"{layer.name}: inputs must be (B, T, {U.shape[0]}), got shape {x.shape}")
    return x, False


def step_input(layer: Layer, x_t: Array) -> Array:
    """One step's input, (B,) ids or (B, n_in) vectors, as a sequence of length 1."""
    x_t = np.asarray(x_t)
    ids = np.issubdtype(x_t.dtype, np.integer)
    if x_t.ndim != (1 if ids else 2):
        want = "(B,) ids" if ids else "(B, n_in) vectors"
        raise ShapeError(f"{layer.name}: one step takes {want}, got shape {x_t.shape}")
    return x_t[:, None]  # (B, 1) or (B, 1, n_in)


def time_major_mask(layer: Layer, mask: Array | None, T: int, B: int) -> Array | None:
    """The (B, T) mask as a contiguous (T, B) bool array, checked against the inputs.

    None when every step is real: a batch without pads takes the unmasked path.
    """
    if mask is None:
        return None
    mask_t = np.ascontiguousarray(np.asarray(mask, bool).T)
    if mask_t.shape != (T, B):
        raise ShapeError(f"{layer.name}: mask has shape {mask_t.T.shape}, inputs {(B, T)}")
    return None if mask_t.all() else mask_t


def state_array(layer: Any, value: Array, B: int, what: str) -> Array:
    """An initial state as a (B, d) array of the layer's dtype."""
    s = np.asarray(value, dtype=layer.dtype)
    if s.shape != (B, layer.units):
        raise ShapeError(f"{layer.name}: {what} has shape {s.shape}, expected {(B, layer.units)}")
    return s


def sequence_output(layer: Layer, H: Array, mask_t: Array | None) -> Array:
    """Every h_t as (B, T, d), zeros at pad steps: a batch-first view of time-major memory."""
    if mask_t is None:
        return H[1:].swapaxes(0, 1)
    seq = layer.workspace.take("seq", H[1:].shape, H.dtype)
    np.multiply(H[1:], mask_t[:, :, None], out=seq)
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
