"""Pooling over time: turn per-step states (B, T, d) into one vector (B, d).

The lecture's many-to-one network reads the last state h_T. Pooling reads them all:
the element-wise maximum or the mean of h_1 .. h_T over each sequence's real steps,
which lets the output layer use what the RNN saw early in a long text. Keras calls
these ``GlobalMaxPooling1D`` and ``GlobalAveragePooling1D``; both honour the mask.

>>> import numpy as np
>>> from rnnkit.layers import Spec
>>> pool = GlobalMaxPooling1D()
>>> _ = pool.build(Spec("features", 2), np.random.default_rng(0))
>>> h = np.array([[[1.0, 5.0], [3.0, 2.0], [9.0, 9.0]]])   # (B=1, T=3, d=2)
>>> pool(h, mask=np.array([[True, True, False]]))          # the pad step is ignored
array([[3., 5.]])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rnnkit.errors import ShapeError
from rnnkit.layers.base import Layer, Spec

__all__ = ["GlobalAveragePooling1D", "GlobalMaxPooling1D"]

Array = np.ndarray


class _TimePooling(Layer):
    def _build(self, spec: Spec, rng: np.random.Generator) -> Spec:
        if spec.kind != "features" or not spec.time:
            raise ShapeError(
                f"{self.name}: pooling needs per-step vectors (B, T, d); "
                "use return_sequences=True on the layer before"
            )
        return Spec("features", spec.size, time=False)

    @staticmethod
    def _mask(x: Array, mask: Array | None) -> Array:
        B, T = x.shape[:2]
        m = np.ones((B, T), dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
        if m.shape != (B, T):
            raise ShapeError(f"mask has shape {m.shape}, inputs {(B, T)}")
        return m


class GlobalMaxPooling1D(_TimePooling):
    """Element-wise maximum over the real steps: y_j = max_t h_tj."""

    kind = "global_max_pooling1d"

    def forward(self, x: Array, mask: Array | None = None, training: bool = False):
        x = np.asarray(x)
        m = self._mask(x, mask)
        masked = np.where(m[:, :, None], x, -np.inf)  # pads never win
        arg = masked.argmax(axis=1)  # (B, d) step of each maximum
        y = np.take_along_axis(x, arg[:, None, :], axis=1)[:, 0]
        return y, (x.shape, arg)

    def backward(self, dy: Array, cache: Any) -> Array:
        shape, arg = cache
        dx = np.zeros(shape, dtype=np.asarray(dy).dtype)
        # the gradient goes to the step that held the maximum
        np.put_along_axis(dx, arg[:, None, :], np.asarray(dy)[:, None, :], axis=1)
        return dx


class GlobalAveragePooling1D(_TimePooling):
    """Mean over the real steps: y = (1 / T_i) sum_t h_t."""

    kind = "global_average_pooling1d"

    def forward(self, x: Array, mask: Array | None = None, training: bool = False):
        x = np.asarray(x)
        m = self._mask(x, mask)
        w = (m / np.maximum(m.sum(axis=1, keepdims=True), 1)).astype(x.dtype)  # (B, T)
        return np.einsum("bt,btd->bd", w, x), (w,)

    def backward(self, dy: Array, cache: Any) -> Array:
        (w,) = cache
        return w[:, :, None] * np.asarray(dy)[:, None, :]
