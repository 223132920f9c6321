"""Bidirectional: one recurrent layer run forward, a copy run backward, outputs merged.

The course's bidirectional RNN reads every sequence twice: a forward layer
a_fwd_t = f(U x_t + W a_fwd_{t-1} + b) from x_1 to x_T, and a backward layer with its
own weights from x_T down to x_1. At step t the two states are merged, so the output
there has seen the whole sequence, left and right of t. Keras calls the wrapper
``Bidirectional`` and names the copies ``forward_<layer>`` and ``backward_<layer>``;
PyTorch's ``nn.RNN(bidirectional=True)`` stores the backward weights with the suffix
``_reverse`` (``weight_ih_l0_reverse = backward_U.T``, ...).

Parameters, in Keras ``get_weights()`` order: the forward copy's, then the backward
copy's, named ``forward_U, forward_W, forward_b, backward_U, backward_W, backward_b``
for a SimpleRNN. They are the copies' own arrays, so updating one updates the other.

>>> import numpy as np
>>> from rnnkit.layers import SimpleRNN, Spec
>>> bi = Bidirectional(SimpleRNN(3, return_sequences=True))
>>> bi.build(Spec("features", 5), np.random.default_rng(0))   # 3 + 3 per step
Spec(kind='features', size=6, time=True)
>>> list(bi.params), bi.count_params()                         # 2 x (15 + 9 + 3)
(['forward_U', 'forward_W', 'forward_b', 'backward_U', 'backward_W', 'backward_b'], 54)
>>> x = np.ones((2, 4, 5), dtype=np.float32)
>>> mask = np.array([[True, True, True, True], [True, True, False, False]])
>>> bi(x, mask=mask).shape
(2, 4, 6)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from rnnkit.core.reverse import prefix_lengths, reverse_padded
from rnnkit.errors import ConfigError, ShapeError
from rnnkit.layers.base import Layer, Spec
from rnnkit.layers.registry import layer_from_config

__all__ = ["MERGE_MODES", "Bidirectional"]

Array = np.ndarray
#: how the two directions' outputs are combined (None: returned as a pair)
MERGE_MODES = ("concat", "sum", "mul", "ave", None)


class Bidirectional(Layer):
    """Run a recurrent layer over each sequence forward and backward, and merge.

    Parameters
    ----------
    layer : Layer or dict
        The recurrent layer to copy (SimpleRNN, LSTM, GRU: anything with ``units``,
        ``return_sequences``, ``return_state`` and the SimpleRNN forward/backward
        protocol), or its ``{"class": ..., "config": ...}``. It is a template: the
        wrapper builds two fresh copies from its config, the forward one first.
    merge_mode : {"concat", "sum", "mul", "ave", None}
        How the outputs y_fwd and y_bwd combine: [y_fwd, y_bwd] (2d features),
        y_fwd + y_bwd, y_fwd * y_bwd, (y_fwd + y_bwd) / 2 (d features), or None for the
        pair ``(y_fwd, y_bwd)``.
    concat_input : bool
        Append x_t to the merged states at every step, as the notes' output layer
        y_t = g(W_y [a_fwd_t, a_bwd_t, x_t] + b_y) reads it. Needs real-valued inputs,
        ``return_sequences=True`` and a merge mode.
    dtype : str, optional
        The wrapped layer's dtype when omitted; the copies always take the wrapper's.

    Notes
    -----
    With a mask (B, T), each sequence's real steps must come first. The backward copy
    reads each sequence reversed within its own length (:func:`reverse_padded`), so
    it starts at the sequence's last real step, never on padding, and its per-step
    outputs are reversed back to the original order. Without return_sequences the
    merged vector holds the forward copy's last real state and the backward copy's
    final state, i.e. its state after reading x_1. With ``return_state`` the output
    is ``(y, *forward states, *backward states)`` as in Keras ((y, h_fwd, h_bwd) for
    a SimpleRNN, (y, h_fwd, c_fwd, h_bwd, c_bwd) for an LSTM), with y the pair's two
    entries when merge_mode is None. The pads of every output are zero.
    """

    kind = "bidirectional"

    def __init__(
        self,
        layer: Layer | Mapping[str, Any],
        merge_mode: str | None = "concat",
        *,
        concat_input: bool = False,
        name: str | None = None,
        dtype: str | None = None,
    ) -> None:
        template = layer_from_config(layer)
        super().__init__(name=name, dtype=dtype or template.dtype.name)
        if merge_mode not in MERGE_MODES:
            raise ConfigError(
                f"merge_mode={merge_mode!r} is not one of 'concat', 'sum', 'mul', 'ave', None"
            )
        missing = [
            a for a in ("units", "return_sequences", "return_state") if not hasattr(template, a)
        ]
        if missing:
            raise ConfigError(
                f"Bidirectional wraps a recurrent layer; {type(template).__name__} has no "
                f"{', '.join(missing)}"
            )
        self.merge_mode = merge_mode
        self.concat_input = bool(concat_input)
        rnn: Any = template  # a recurrent layer: checked above, not by the type
        self.units = int(rnn.units)
        self.return_sequences = bool(rnn.return_sequences)
        self.return_state = bool(rnn.return_state)
        if self.concat_input and (merge_mode is None or not self.return_sequences):
            raise ConfigError(
                "concat_input=True needs a merge_mode and a layer with return_sequences=True"
            )
        self.layer_class = type(template).__name__
        self.layer_config = template.get_config()
        stem = template.name or template.kind
        self.forward_layer = type(template)(**{**self.layer_config, "name": f"forward_{stem}"})
        self.backward_layer = type(template)(**{**self.layer_config, "name": f"backward_{stem}"})

    def get_config(self) -> dict[str, Any]:
        return {
            "layer": {
                "class": self.layer_class,
                "config": {**self.layer_config, "dtype": self.dtype.name},
            },
            "merge_mode": self.merge_mode,
            "concat_input": self.concat_input,
            **super().get_config(),
        }

    # -- construction --------------------------------------------------------------
    def _directions(self) -> tuple[tuple[str, Layer], tuple[str, Layer]]:
        return ("forward", self.forward_layer), ("backward", self.backward_layer)

    def build(self, spec: Spec, rng: np.random.Generator) -> Spec:
        """Build the forward copy, then the backward copy, from `rng`; share their arrays."""
        self.input_spec = spec
        self.output_spec = self._build(spec, rng)
        self.params = {f"{p}_{k}": v for p, l in self._directions() for k, v in l.params.items()}
        self.grads = {f"{p}_{k}": g for p, l in self._directions() for k, g in l.grads.items()}
        self._sync_sparse_rows()
        return self.output_spec

    @property
    def sublayers(self) -> tuple[Layer, ...]:
        return (self.forward_layer, self.backward_layer)

    def _build(self, spec: Spec, rng: np.random.Generator) -> Spec:
        if self.concat_input and spec.kind == "ids":
            raise ShapeError(f"{self.name}: concat_input needs real-valued inputs, not ids")
        for _, layer in self._directions():
            layer.dtype = self.dtype  # NOTE: Sequential(dtype=...) sets the wrapper's alone
        out = self.forward_layer.build(spec, rng)
        self.backward_layer.build(spec, rng)
        size = 2 * out.size if self.merge_mode == "concat" else out.size
        if self.concat_input:
            size += spec.size
        return Spec("features", size, time=out.time)

    def _sync_sparse_rows(self) -> None:
        """Mirror the copies' sparse-gradient bookkeeping under the wrapper's names."""
        self.sparse_rows = {
            f"{p}_{k}": rows for p, l in self._directions() for k, rows in l.sparse_rows.items()
        }

    def zero_grad(self) -> None:
        for _, layer in self._directions():
            layer.zero_grad()
        self._sync_sparse_rows()

    # -- forward -------------------------------------------------------------------
    def forward(self, x: Array, mask: Array | None = None, training: bool = False):
        """Run both directions and merge.

        Parameters
        ----------
        x : (B, T) int ids or (B, T, n_in) float array
        mask : (B, T) bool array, optional, True on a prefix of each row

        Returns
        -------
        y : (B, T, m) if return_sequences else (B, m), m the merged size; a pair for
            merge_mode None; followed by the states with return_state.
        cache : what :meth:`backward` needs.
        """
        self._require_built()
        x = np.asarray(x)
        ids = np.issubdtype(x.dtype, np.integer)
        if x.ndim < 2:
            raise ShapeError(f"{self.name}: inputs must be (B, T) ids or (B, T, n), got {x.shape}")
        lengths = None
        if mask is not None:
            mask = np.asarray(mask, dtype=bool)
            if mask.shape != x.shape[:2]:
                raise ShapeError(f"{self.name}: mask has shape {mask.shape}, inputs {x.shape[:2]}")
            lengths = prefix_lengths(mask)
        out_f, cache_f = self.forward_layer.forward(x, mask=mask, training=training)
        x_rev = reverse_padded(x, lengths)  # x_T .. x_1 of each sequence, pads in place
        out_b, cache_b = self.backward_layer.forward(x_rev, mask=mask, training=training)
        (y_f, *states_f), (y_b, *states_b) = self._split(out_f), self._split(out_b)
        if self.return_sequences:
            y_b = reverse_padded(y_b, lengths)  # back to the order of x
        y = self._merge(y_f, y_b)
        if self.concat_input:
            if ids:
                raise ShapeError(f"{self.name}: concat_input needs real-valued inputs, not ids")
            x_in = x.astype(self.dtype)
            if mask is not None:
                x_in *= mask[:, :, None]  # pads output zero
            y = np.concatenate([y, x_in], axis=-1)
        ys = y if isinstance(y, tuple) else (y,)
        outputs: Any = (*ys, *states_f, *states_b) if self.return_state else y
        cache = (ids, mask, lengths, y_f, y_b, len(states_f), cache_f, cache_b)
        return outputs, cache

    def _split(self, out: Any) -> tuple[Any, ...]:
        """The copy's output as (y, *states)."""
        return tuple(out) if self.return_state else (out,)

    def _merge(self, y_f: Array, y_b: Array) -> Any:
        mode = self.merge_mode
        if mode == "concat":
            return np.concatenate([y_f, y_b], axis=-1)
        if mode == "sum":
            return y_f + y_b
        if mode == "mul":
            return y_f * y_b
        if mode == "ave":
            return (y_f + y_b) * 0.5
        return (y_f, y_b)

    # -- backward ------------------------------------------------------------------
    def backward(self, dy: Any, cache: Any):
        """Split dy between the directions and backpropagate through both.

        `dy` has the structure of the output. Accumulates into the copies' gradients
        (which ``self.grads`` shares) and returns dx ((B, T, n_in)) or None for ids.
        """
        ids, mask, lengths, y_f, y_b, n_states, cache_f, cache_b = cache
        n_out = 2 if self.merge_mode is None else 1
        parts = tuple(dy) if self.return_state or self.merge_mode is None else (dy,)
        douts, dstates = parts[:n_out], parts[n_out:]
        dx_in = None
        if self.concat_input:
            assert self.input_spec is not None
            m = douts[0].shape[-1] - self.input_spec.size
            dx_in = np.asarray(douts[0])[..., m:]
            if mask is not None:
                dx_in = dx_in * mask[:, :, None]  # a pad's output is a constant zero
            douts = (np.asarray(douts[0])[..., :m],)
        dy_f, dy_b = self._unmerge(douts, y_f, y_b)
        if self.return_sequences:
            dy_b = reverse_padded(dy_b, lengths)  # into the backward copy's order
        dx_f = self.forward_layer.backward(self._join(dy_f, dstates[:n_states]), cache_f)
        dx_b = self.backward_layer.backward(self._join(dy_b, dstates[n_states:]), cache_b)
        self._sync_sparse_rows()
        if ids:
            return None
        dx = dx_f + reverse_padded(dx_b, lengths)
        return dx if dx_in is None else dx + dx_in

    def record_state_gradients(self, cache: Any) -> tuple[Any, dict[str, dict[str, Array]]]:
        """`cache` set to record the state gradients of both copies:
        ``(cache, {"forward": {"h": dh, ...}, "backward": {"h": dh, ...}})``.

        :meth:`backward` given the returned cache fills each copy's (B, T, d) arrays,
        dL/dh_t and, for an LSTM, dL/dc_t (see
        :meth:`RecurrentLayer.record_state_gradients`). The backward copy's are in its
        own reading order: its step 0 is each sequence's last real step, and its step
        ``lengths[i] - 1`` the sequence's first (:func:`reverse_padded` maps them back
        to the order of x).
        """
        *head, cache_f, cache_b = cache
        copies: tuple[Any, Any] = (self.forward_layer, self.backward_layer)
        cache_f, grads_f = copies[0].record_state_gradients(cache_f)
        cache_b, grads_b = copies[1].record_state_gradients(cache_b)
        return (*head, cache_f, cache_b), {"forward": grads_f, "backward": grads_b}

    def _join(self, dy: Array, dstates: tuple[Any, ...]) -> Any:
        return (dy, *dstates) if self.return_state else dy

    def _unmerge(self, douts: tuple[Any, ...], y_f: Array, y_b: Array) -> tuple[Array, Array]:
        """dL/dy_fwd and dL/dy_bwd from the gradient of the merged output."""
        mode = self.merge_mode
        if mode is None:
            return np.asarray(douts[0]), np.asarray(douts[1])
        dy = np.asarray(douts[0], dtype=self.dtype)
        if mode == "concat":
            d = y_f.shape[-1]
            return dy[..., :d], dy[..., d:]
        if mode == "sum":
            return dy, dy
        if mode == "mul":
            return dy * y_b, dy * y_f
        half = dy * 0.5  # ave
        return half, half
