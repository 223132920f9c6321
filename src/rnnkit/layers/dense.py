"""Dense: the output layer y = g(V h + c), per sequence or per step.

``V`` (n_in, k) and ``c`` (k,) are the lecture's names; Keras calls them ``kernel``
and ``bias``, PyTorch's ``nn.Linear`` stores ``weight = V.T`` and ``bias = c``.
On (B, T, n_in) inputs the same V and c apply at every step (Keras's TimeDistributed).

>>> import numpy as np
>>> from rnnkit.layers import Spec
>>> out = Dense(1, activation="sigmoid")
>>> out.build(Spec("features", 3, time=False), np.random.default_rng(0))
Spec(kind='features', size=1, time=False)
>>> out.count_params()                 # 3 x 1 weights + 1 bias
4
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rnnkit.core.activations import get_activation, softmax
from rnnkit.core.init import get_initializer
from rnnkit.core.layout import from_steps_2d, steps_2d
from rnnkit.errors import ConfigError, ShapeError
from rnnkit.layers.base import Layer, Spec

__all__ = ["Dense"]

Array = np.ndarray
_OUTPUT_ACTIVATIONS = ("linear", "sigmoid", "softmax", "tanh", "relu")


class Dense(Layer):
    """Affine map then activation g: ``y = g(x @ V + c)``.

    Parameters
    ----------
    units : int
        k, the number of outputs.
    activation : {"linear", "sigmoid", "softmax", "tanh", "relu"}

    Notes
    -----
    ``forward(..., logits=True)`` returns the pre-activation z = x V + c and makes
    :meth:`backward` take dL/dz: losses on logits (sigmoid and softmax cross-entropy)
    are computed that way, which is numerically stable.
    """

    kind = "dense"

    def __init__(
        self,
        units: int,
        activation: str = "linear",
        *,
        kernel_initializer: str = "glorot_uniform",
        name: str | None = None,
        dtype: str = "float32",
    ) -> None:
        super().__init__(name=name, dtype=dtype)
        if int(units) < 1:
            raise ShapeError(f"units={units}: must be a positive integer")
        if activation not in _OUTPUT_ACTIVATIONS:
            names = ", ".join(_OUTPUT_ACTIVATIONS)
            raise ConfigError(f"activation={activation!r} is not one of {names}")
        get_initializer(kernel_initializer)
        self.units = int(units)
        self.activation = activation
        self.kernel_initializer = kernel_initializer

    def get_config(self) -> dict[str, Any]:
        return {
            "units": self.units,
            "activation": self.activation,
            "kernel_initializer": self.kernel_initializer,
            **super().get_config(),
        }

    def _build(self, spec: Spec, rng: np.random.Generator) -> Spec:
        n, k = spec.size, self.units
        self.params = {
            "V": self._param(get_initializer(self.kernel_initializer)((n, k), rng)),
            "c": self._param(np.zeros(k)),
        }
        return Spec("features", k, time=spec.time)

    def forward(
        self, x: Array, mask: Array | None = None, training: bool = False, logits: bool = False
    ):
        """x: (B, n_in), (B, T, n_in) or ids (B,) / (B, T) -> y: (..., k)."""
        self._require_built()
        V, c = self.params["V"], self.params["c"]
        x = np.asarray(x)
        ids = np.issubdtype(x.dtype, np.integer)
        order = None  # for (B, T, n) inputs: whether the rows are time-major
        if ids:
            z = V[x] + c  # one-hot input: a row of V
        else:
            x = x.astype(self.dtype, copy=False)
            if x.shape[-1] != V.shape[0]:
                raise ShapeError(f"{self.name}: inputs need {V.shape[0]} features, got {x.shape}")
            if x.ndim == 3:  # every step alike: one GEMM over the rows in memory order
                B, T = x.shape[:2]
                x, order = steps_2d(x)  # (B*T, n)
                z = from_steps_2d(x @ V, B, T, order)
            else:
                z = x @ V
            z += c
        if logits:
            y = z
        elif self.activation == "softmax":
            y = softmax(z)
        else:
            y = get_activation(self.activation)[0](z)
        return y, (x, ids, y, mask, logits, order)

    def backward(self, dy: Array, cache: Any):
        x, ids, y, mask, from_logits, order = cache
        V = self.params["V"]
        dy = np.asarray(dy, dtype=self.dtype)
        if from_logits or self.activation == "linear":
            dz = dy
        elif self.activation == "softmax":
            # Jacobian-vector product of softmax: y * (dy - sum(dy * y))
            dz = y * (dy - (dy * y).sum(axis=-1, keepdims=True))
        else:
            dz = dy * get_activation(self.activation)[1](y)
        if mask is not None and dz.ndim == 3:
            dz = dz * np.asarray(mask, self.dtype)[:, :, None]  # pads get no gradient
        k = V.shape[1]
        if order is not None:  # (B, T, k): rows in the order of the forward pass
            B, T = dz.shape[:2]
            dz2, _ = steps_2d(dz, time_major=order)
        else:
            dz2 = dz.reshape(-1, k)
        self.grads["c"] += dz2.sum(axis=0)
        self._mark_dense("c")
        if ids:
            mask = mask if mask is not None and dz.ndim == 3 else None
            self._add_rows("V", x, dz, mask)
            return None
        x2 = x.reshape(-1, V.shape[0])
        self.grads["V"] += x2.T @ dz2
        self._mark_dense("V")
        dx = dz2 @ V.T
        return (
            dx.reshape(*dz.shape[:-1], V.shape[0])
            if order is None
            else from_steps_2d(dx, B, T, order)
        )
