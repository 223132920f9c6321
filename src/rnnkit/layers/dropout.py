"""Dropout: zero a random fraction of features while training (inverted scaling).

>>> import numpy as np
>>> from rnnkit.layers import Spec
>>> drop = Dropout(0.5)
>>> _ = drop.build(Spec("features", 4, time=False), np.random.default_rng(0))
>>> x = np.ones((2, 4), dtype=np.float32)
>>> (drop(x) == x).all()                       # identity at inference
np.True_
>>> sorted(set(drop(x, training=True).ravel().tolist()))   # kept entries scaled by 2
[0.0, 2.0]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rnnkit.errors import ConfigError, ShapeError
from rnnkit.layers.base import Layer, Spec

__all__ = ["Dropout"]

Array = np.ndarray


class Dropout(Layer):
    """Keep each entry with probability 1 - rate and scale it by 1 / (1 - rate).

    The random draws come from a Generator derived from the model's at build time, so
    the same seed gives the same masks.
    """

    kind = "dropout"

    def __init__(self, rate: float, *, name: str | None = None, dtype: str = "float32") -> None:
        super().__init__(name=name, dtype=dtype)
        if not 0.0 <= float(rate) < 1.0:
            raise ConfigError(f"Dropout(rate={rate}): rate must lie in [0, 1)")
        self.rate = float(rate)
        self.rng: np.random.Generator | None = None

    def get_config(self) -> dict[str, Any]:
        return {"rate": self.rate, **super().get_config()}

    def _build(self, spec: Spec, rng: np.random.Generator) -> Spec:
        if spec.kind != "features":
            raise ShapeError(f"{self.name}: Dropout needs real vectors; put it after Embedding")
        self.rng = np.random.default_rng(rng.integers(2**63))
        return spec

    def forward(self, x: Array, mask: Array | None = None, training: bool = False):
        if not training or self.rate == 0.0:
            return x, None
        assert self.rng is not None
        x = np.asarray(x)
        keep = self.rng.random(x.shape, dtype=np.float32) >= self.rate
        scale = keep.astype(x.dtype)
        scale *= 1.0 / (1.0 - self.rate)
        return x * scale, scale

    def backward(self, dy: Array, cache: Any) -> Array:
        return dy if cache is None else dy * cache
