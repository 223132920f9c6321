"""What every network made of layers shares: its parameters, gradients and scratch memory.

A network keeps its layers in ``self.layers`` (``Sequential`` in order, the
encoder-decoder encoder first); :class:`LayerStack` gives it, from that list alone,
the parameter side of the training loop's Trainable interface and the file names of
its weights. :class:`WrapsNetwork` passes the same calls through to a wrapped
network (``StatefulNetwork``, ``TeacherForcing``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from rnnkit.errors import ShapeError
from rnnkit.layers import Layer

__all__ = ["LayerStack", "WrapsNetwork"]

Array = np.ndarray


class LayerStack:
    """Parameter bookkeeping over ``self.layers``, in Keras ``get_weights()`` order."""

    layers: list[Layer]
    name: str = "network"

    def count_params(self) -> int:
        return sum(layer.count_params() for layer in self.layers)

    def get_weights(self) -> list[Array]:
        """Every parameter, layer by layer, in Keras ``get_weights()`` order."""
        return [w for layer in self.layers for w in layer.get_weights()]

    def set_weights(self, weights: Sequence[Array]) -> None:
        n = sum(len(layer.params) for layer in self.layers)
        if len(weights) != n:
            raise ShapeError(f"{self.name}: expected {n} arrays, got {len(weights)}")
        i = 0
        for layer in self.layers:
            k = len(layer.params)
            layer.set_weights(list(weights[i : i + k]))
            i += k

    def named_weights(self) -> dict[str, Array]:
        """``"<layer>.<param>"`` -> array (the names used in model files)."""
        return {f"{l.name}.{k}": v for l in self.layers for k, v in l.params.items()}

    def zero_grad(self) -> None:
        for layer in self.layers:
            layer.zero_grad()

    def param_slots(self):
        """(key, parameter, gradient, touched rows or None) for the optimizers."""
        return [
            (f"{l.name}.{k}", p, l.grads[k], l.sparse_rows.get(k))
            for l in self.layers
            for k, p in l.params.items()
        ]

    def release_buffers(self) -> None:
        """Let go of every layer's scratch buffers (they are made again when needed)."""
        todo = list(self.layers)
        while todo:  # the layers, and the layers they are made of (wrappers, encoders)
            layer = todo.pop()
            layer.workspace.clear()
            todo.extend(layer.sublayers)


class WrapsNetwork:
    """The parameter calls of the Trainable interface, passed through to ``self.net``."""

    net: Any

    def zero_grad(self) -> None:
        self.net.zero_grad()

    def param_slots(self):
        return self.net.param_slots()

    def get_weights(self) -> list[Array]:
        return self.net.get_weights()

    def set_weights(self, weights: list[Array]) -> None:
        self.net.set_weights(weights)
