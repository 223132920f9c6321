"""The layer protocol every rnnkit layer follows.

A layer owns its parameters and their gradients:

- ``layer.params``: name -> array, in Keras ``get_weights()`` order;
  ``layer.grads``: the same names, same shapes.
- ``y, cache = layer.forward(x, mask=None, training=False)`` and
  ``dx = layer.backward(dy, cache)``, which *adds* into ``layer.grads``. The cache is
  returned, never kept on the layer, so calling order cannot corrupt gradients.
- ``layer.build(spec, rng)`` creates the parameters for an input described by a
  :class:`Spec` and returns the output's :class:`Spec`.

A gradient may be sparse: while only some rows of a parameter have received gradient
since ``zero_grad`` (an embedding, or an id lookup of U), ``layer.sparse_rows[name]``
holds those rows, so ``zero_grad`` and the optimizers can touch them alone; once a
dense gradient is added the name is removed from ``sparse_rows``.

A layer also keeps a :class:`~rnnkit.core.workspace.Workspace` of scratch buffers
(``layer.workspace``), so a training step reuses its large arrays from one batch to
the next. It holds no state that a result depends on: a buffer still in use is never
handed out again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from rnnkit.core.embedding import add_rows_grad, zero_rows
from rnnkit.core.workspace import Workspace
from rnnkit.errors import ConfigError, ShapeError

__all__ = ["Layer", "Spec"]

Array = np.ndarray
_NO_ROWS = np.zeros(0, dtype=np.intp)


@dataclass(frozen=True)
class Spec:
    """What flows between layers.

    kind : "ids" (integer ids of a vocabulary of ``size``, i.e. one-hot vectors of
        depth ``size`` that are never materialised) or "features" (real vectors of
        ``size`` entries).
    time : whether there is a time axis, (B, T, ...) rather than (B, ...).
    """

    kind: str
    size: int
    time: bool = True

    def shape(self) -> tuple[int | None, ...]:
        """Keras-style output shape with None for batch and time."""
        lead: tuple[int | None, ...] = (None, None) if self.time else (None,)
        return lead if self.kind == "ids" else (*lead, self.size)


class Layer:
    """Base class: parameter bookkeeping shared by all layers."""

    #: default name stem, as Keras names layers ("simple_rnn", "dense", ...)
    kind = "layer"

    def __init__(self, *, name: str | None = None, dtype: str = "float32") -> None:
        self.name = name
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.float32, np.float64):
            raise ConfigError(f"dtype={dtype!r}: use 'float32' or 'float64'")
        self.params: dict[str, Array] = {}
        self.grads: dict[str, Array] = {}
        self.sparse_rows: dict[str, Array] = {}
        self.input_spec: Spec | None = None
        self.output_spec: Spec | None = None

    # -- construction --------------------------------------------------------------
    @property
    def built(self) -> bool:
        return self.input_spec is not None

    def build(self, spec: Spec, rng: np.random.Generator) -> Spec:
        """Create parameters for inputs described by `spec`; return the output spec."""
        self.input_spec = spec
        self.output_spec = self._build(spec, rng)
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self.sparse_rows = {k: _NO_ROWS for k in self.params}
        return self.output_spec

    def _build(self, spec: Spec, rng: np.random.Generator) -> Spec:
        return spec

    @property
    def sublayers(self) -> tuple[Layer, ...]:
        """The layers this one is made of (a wrapper's copies; none for a plain layer)."""
        return ()

    def _param(self, value: Array) -> Array:
        return np.ascontiguousarray(value, dtype=self.dtype)

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments, JSON-able, so ``type(layer)(**config)`` rebuilds it."""
        return {"name": self.name, "dtype": self.dtype.name}

    # -- parameters ----------------------------------------------------------------
    def count_params(self) -> int:
        return int(sum(p.size for p in self.params.values()))

    def get_weights(self) -> list[Array]:
        """Copies of the parameters in Keras order."""
        return [p.copy() for p in self.params.values()]

    def set_weights(self, weights: list[Array]) -> None:
        """Replace the parameters (in Keras order), checking count and shapes."""
        if len(weights) != len(self.params):
            raise ShapeError(f"{self.name}: expected {len(self.params)} arrays, got {len(weights)}")
        for (key, old), new in zip(self.params.items(), weights, strict=False):
            new = np.asarray(new)
            if new.shape != old.shape:
                raise ShapeError(f"{self.name}.{key}: expected shape {old.shape}, got {new.shape}")
            old[...] = new

    def zero_grad(self) -> None:
        """Reset gradients to zero, touching only the rows a sparse gradient used."""
        for key, g in self.grads.items():
            rows = self.sparse_rows.get(key)
            if rows is None:
                g.fill(0.0)
            else:
                zero_rows(g, rows)
            self.sparse_rows[key] = _NO_ROWS

    def _add_rows(self, key: str, ids: Array, dout: Array, mask: Array | None = None) -> None:
        """Add the gradient of a lookup of `ids` in params[key] (dL/d(P[ids]) = dout,
        pads skipped) and remember which rows it touched."""
        rows = add_rows_grad(self.grads[key], ids, dout, mask, self.workspace)
        prev = self.sparse_rows.get(key)
        if prev is not None:  # still sparse: remember the union of touched rows
            self.sparse_rows[key] = rows if prev.size == 0 else np.union1d(prev, rows)

    @property
    def workspace(self) -> Workspace:
        """Scratch buffers reused from call to call (created on first use)."""
        ws = self.__dict__.get("_workspace")
        if ws is None:
            ws = self.__dict__["_workspace"] = Workspace()
        return ws

    def _mark_dense(self, key: str) -> None:
        """A dense gradient was added: the whole parameter may be nonzero now."""
        self.sparse_rows.pop(key, None)

    # -- computation ---------------------------------------------------------------
    def forward(self, x: Any, mask: Array | None = None, training: bool = False):
        raise NotImplementedError

    def backward(self, dy: Any, cache: Any):
        raise NotImplementedError

    def __call__(self, x: Any, mask: Array | None = None, training: bool = False):
        """Forward pass returning only the output (the cache is dropped)."""
        return self.forward(x, mask=mask, training=training)[0]

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if k != "dtype")
        return f"{type(self).__name__}({args})"

    def _require_built(self) -> None:
        if not self.built:
            raise ConfigError(f"{type(self).__name__} is not built: call build() first")
