"""OneHot: integer ids read as one-hot vectors of depth N, never materialised.

In a model, ``OneHot(N)`` followed by a recurrent or dense layer is exact one-hot
input: that layer multiplies its weight matrix by o_i, which is a row lookup. Call
:func:`rnnkit.text.one_hot` to see the vectors themselves.

>>> import numpy as np
>>> from rnnkit.layers import Spec
>>> oh = OneHot(5)
>>> oh.build(Spec("ids", 5), np.random.default_rng(0))
Spec(kind='ids', size=5, time=True)
>>> oh(np.array([[0, 1, 2]])).tolist()    # the ids pass through, checked
[[0, 1, 2]]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rnnkit.errors import ShapeError
from rnnkit.layers.base import Layer, Spec

__all__ = ["OneHot"]

Array = np.ndarray


class OneHot(Layer):
    """Declare ids (B, T) as one-hot inputs of depth `depth` (no parameters)."""

    kind = "one_hot"

    def __init__(self, depth: int, *, name: str | None = None, dtype: str = "float32") -> None:
        super().__init__(name=name, dtype=dtype)
        if int(depth) < 1:
            raise ShapeError(f"OneHot(depth={depth}): depth must be positive")
        self.depth = int(depth)

    def get_config(self) -> dict[str, Any]:
        return {"depth": self.depth, **super().get_config()}

    def _build(self, spec: Spec, rng: np.random.Generator) -> Spec:
        if spec.kind != "ids":
            raise ShapeError(f"{self.name}: OneHot takes integer ids, not real vectors")
        return Spec("ids", self.depth, time=spec.time)

    def forward(self, x: Array, mask: Array | None = None, training: bool = False):
        ids = np.asarray(x)
        if not np.issubdtype(ids.dtype, np.integer):
            raise ShapeError(f"{self.name}: OneHot takes integer ids, got dtype {ids.dtype}")
        if ids.size and (ids.min() < 0 or ids.max() >= self.depth):
            raise ShapeError(f"{self.name}: ids must lie in [0, {self.depth})")
        return ids, None

    def backward(self, dy: Any, cache: Any) -> None:
        return None
