"""TimeDistributed: apply a per-vector layer at every step of a sequence.

The many-to-many output layer of the course is y_t = g(V h_t + c) with the same V and
c at every step t. ``TimeDistributed(Dense(k))`` says so explicitly, as Keras writes it
(PyTorch simply applies ``nn.Linear`` to the (B, T, d) tensor). Its parameters are the
wrapped layer's own arrays, under the same names.

>>> import numpy as np
>>> from rnnkit.layers import Dense, Spec
>>> td = TimeDistributed(Dense(2, "softmax"))
>>> td.build(Spec("features", 3), np.random.default_rng(0))
Spec(kind='features', size=2, time=True)
>>> list(td.params), td.params["V"] is td.layer.params["V"]
(['V', 'c'], True)
>>> h = np.ones((2, 4, 3), dtype=np.float32)
>>> y = td(h, mask=np.array([[True, True, True, False], [True, False, False, False]]))
>>> y.shape, float(y[1, 1:].sum())                             # pads output zero
((2, 4, 2), 0.0)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from rnnkit.errors import ShapeError
from rnnkit.layers.base import Layer, Spec
from rnnkit.layers.registry import layer_from_config

__all__ = ["TimeDistributed"]

Array = np.ndarray


class TimeDistributed(Layer):
    """The wrapped layer applied to x_t for every real step t of (B, T, ...) inputs.

    Parameters
    ----------
    layer : Layer or dict
        A layer for single vectors (B, n) -> (B, k), such as Dense, used as it is
        (not copied), or its ``{"class": ..., "config": ...}``.
    dtype : str, optional
        The wrapped layer's dtype when omitted; the wrapped layer takes the wrapper's.

    Notes
    -----
    With a mask, only the real steps are gathered, (N_real, n), and handed to the
    wrapped layer, so it never sees a pad (no gradient, no touched embedding row);
    pads output zero. ``forward`` passes extra keywords (``logits=True`` for a Dense)
    to the wrapped layer.
    """

    kind = "time_distributed"

    def __init__(
        self,
        layer: Layer | Mapping[str, Any],
        *,
        name: str | None = None,
        dtype: str | None = None,
    ) -> None:
        inner = layer if isinstance(layer, Layer) else layer_from_config(layer)
        super().__init__(name=name, dtype=dtype or inner.dtype.name)
        if inner.name is None:
            inner.name = inner.kind
        self.layer = inner

    def get_config(self) -> dict[str, Any]:
        inner = {**self.layer.get_config(), "dtype": self.dtype.name}
        return {
            "layer": {"class": type(self.layer).__name__, "config": inner},
            **super().get_config(),
        }

    @property
    def sublayers(self) -> tuple[Layer, ...]:
        return (self.layer,)

    def build(self, spec: Spec, rng: np.random.Generator) -> Spec:
        """Build the wrapped layer for one step's input and share its dictionaries."""
        self.input_spec = spec
        self.output_spec = self._build(spec, rng)
        # the very same dicts: gradients, sparse rows and zero_grad need no syncing
        self.params, self.grads = self.layer.params, self.layer.grads
        self.sparse_rows = self.layer.sparse_rows
        return self.output_spec

    def _build(self, spec: Spec, rng: np.random.Generator) -> Spec:
        if not spec.time:
            raise ShapeError(f"{self.name}: TimeDistributed needs a time axis, (B, T, ...)")
        self.layer.dtype = self.dtype  # NOTE: Sequential(dtype=...) sets the wrapper's alone
        out = self.layer.build(Spec(spec.kind, spec.size, time=False), rng)
        return Spec(out.kind, out.size, time=True)

    def forward(self, x: Array, mask: Array | None = None, training: bool = False, **options):
        """x : (B, T) ids or (B, T, n) -> y : (B, T, k), zeros at pads."""
        self._require_built()
        x = np.asarray(x)
        if x.ndim < 2:
            raise ShapeError(f"{self.name}: inputs must be (B, T, ...), got shape {x.shape}")
        B, T = x.shape[:2]
        keep = None
        if mask is None:
            steps = x.reshape(B * T, *x.shape[2:])  # (B*T, ...)
        else:
            keep = np.asarray(mask, dtype=bool)
            if keep.shape != (B, T):
                raise ShapeError(f"{self.name}: mask has shape {keep.shape}, inputs {(B, T)}")
            steps = x[keep]  # (N_real, ...) the real steps only
        y_steps, inner_cache = self.layer.forward(steps, mask=None, training=training, **options)
        y_steps = np.asarray(y_steps)
        if keep is None:
            y = y_steps.reshape(B, T, *y_steps.shape[1:])
        else:
            y = np.zeros((B, T, *y_steps.shape[1:]), dtype=y_steps.dtype)
            y[keep] = y_steps
        return y, (inner_cache, keep, x.shape)

    def backward(self, dy: Array, cache: Any):
        """dx (B, T, n), zero at pads, or None for ids; the wrapped layer's grads grow."""
        inner_cache, keep, x_shape = cache
        dy = np.asarray(dy)
        B, T = x_shape[:2]
        dy_steps = dy.reshape(B * T, *dy.shape[2:]) if keep is None else dy[keep]
        dx_steps = self.layer.backward(dy_steps, inner_cache)
        if dx_steps is None:
            return None
        if keep is None:
            return dx_steps.reshape(x_shape)
        dx = np.zeros(x_shape, dtype=dx_steps.dtype)
        dx[keep] = dx_steps
        return dx
