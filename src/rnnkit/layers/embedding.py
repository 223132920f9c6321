"""Embedding: e_i = E o_i, the learned dense vector of each vocabulary id.

``E`` has shape (N, d) (Keras ``embeddings``, PyTorch ``nn.Embedding.weight``). The
product with the one-hot vector o_i is row i, so the layer is a row lookup and its
gradient a sparse update of the rows the batch used.

>>> import numpy as np
>>> from rnnkit.layers import Spec
>>> emb = Embedding(5, 2)
>>> emb.build(Spec("ids", 5), np.random.default_rng(0))
Spec(kind='features', size=2, time=True)
>>> emb(np.array([[0, 4, 4]])).shape
(1, 3, 2)

Pretrained vectors (see :func:`rnnkit.data.embedding_matrix`) are the starting value
of ``E``; frozen (``trainable=False``), the layer adds no gradient, so every optimizer
leaves ``E`` as it is (Keras ``trainable=False``, PyTorch ``from_pretrained(freeze=True)``):

>>> E = np.arange(6.0).reshape(3, 2)
>>> frozen = Embedding.from_pretrained(E, trainable=False)
>>> frozen.build(Spec("ids", 3), np.random.default_rng(0))
Spec(kind='features', size=2, time=True)
>>> frozen(np.array([[2, 0]])).tolist()
[[[4.0, 5.0], [0.0, 1.0]]]
>>> frozen.get_config()["trainable"]
False
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rnnkit.core.embedding import lookup
from rnnkit.core.init import uniform
from rnnkit.errors import ConfigError, ShapeError
from rnnkit.layers.base import Layer, Spec

__all__ = ["Embedding"]

Array = np.ndarray


class Embedding(Layer):
    """Map ids (B, T) to vectors (B, T, d).

    Parameters
    ----------
    input_dim : int
        N, the vocabulary size.
    output_dim : int
        d, the embedding size.
    scale : float
        Initial values are drawn from U(-scale, scale) (Keras uses 0.05).
    word_dropout : float
        While training, each id is replaced by `unk_id` with this probability, so the
        ``<unk>`` row learns what an unseen word looks like in context.
    unk_id : int
        The id that dropped words become (``<unk>`` is 1 in rnnkit vocabularies).
    trainable : bool, default True
        False freezes ``E``: backward adds no gradient to it, so it has no touched rows
        and the optimizers skip it. Kept in ``get_config``.
    initial : ndarray, shape (input_dim, output_dim), optional
        The starting value of ``E`` (pretrained vectors), copied at ``build``; the
        random draw is still made, so the layers after this one start as they would
        without it. Not part of ``get_config``: like any weight, ``E`` is saved in the
        model directory, and loading needs no embedding file.
    """

    kind = "embedding"

    def __init__(
        self,
        input_dim: int,
        output_dim: int,
        *,
        scale: float = 0.05,
        word_dropout: float = 0.0,
        unk_id: int = 1,
        trainable: bool = True,
        initial: Array | None = None,
        name: str | None = None,
        dtype: str = "float32",
    ) -> None:
        super().__init__(name=name, dtype=dtype)
        if int(input_dim) < 1 or int(output_dim) < 1:
            raise ShapeError(f"Embedding({input_dim}, {output_dim}): sizes must be positive")
        self.input_dim = int(input_dim)
        self.output_dim = int(output_dim)
        self.scale = float(scale)
        if not 0.0 <= float(word_dropout) < 1.0:
            raise ConfigError(f"word_dropout={word_dropout}: must lie in [0, 1)")
        if not 0 <= int(unk_id) < self.input_dim:
            raise ConfigError(f"unk_id={unk_id}: must be an id below input_dim={input_dim}")
        self.word_dropout = float(word_dropout)
        self.unk_id = int(unk_id)
        if not isinstance(trainable, bool | np.bool_):
            raise ConfigError(f"trainable={trainable!r}: must be True or False")
        self.trainable = bool(trainable)
        self.initial = None if initial is None else self._check_initial(initial)
        self.rng: np.random.Generator | None = None

    @classmethod
    def from_pretrained(cls, E: Array, *, trainable: bool = True, **kwargs: Any) -> Embedding:
        """An Embedding whose ``E`` starts as `E`, shape (N, d) (PyTorch's name)."""
        E = np.asarray(E)
        if E.ndim != 2:
            raise ShapeError(f"pretrained E must be (N, d), got shape {E.shape}")
        return cls(E.shape[0], E.shape[1], trainable=trainable, initial=E, **kwargs)

    def _check_initial(self, initial: Array) -> Array:
        E = np.asarray(initial)
        if E.shape != (self.input_dim, self.output_dim):
            raise ShapeError(
                f"Embedding({self.input_dim}, {self.output_dim}): initial E has shape {E.shape}"
            )
        if not (np.issubdtype(E.dtype, np.floating) and np.isfinite(E).all()):
            raise ConfigError("initial E must hold finite real numbers")
        return E

    def get_config(self) -> dict[str, Any]:
        return {
            "input_dim": self.input_dim,
            "output_dim": self.output_dim,
            "scale": self.scale,
            "word_dropout": self.word_dropout,
            "unk_id": self.unk_id,
            "trainable": self.trainable,
            **super().get_config(),
        }

    def _build(self, spec: Spec, rng: np.random.Generator) -> Spec:
        if spec.kind != "ids":
            raise ShapeError(f"{self.name}: Embedding takes integer ids, not real vectors")
        if spec.size > self.input_dim:
            raise ShapeError(f"{self.name}: {spec.size} ids but input_dim={self.input_dim}")
        E = uniform((self.input_dim, self.output_dim), rng, self.scale)
        start = E if self.initial is None else self.initial.copy()  # never the caller's array
        self.params = {"E": self._param(start)}
        if self.word_dropout:  # NOTE: only then, so other models' random streams stay as they were
            self.rng = np.random.default_rng(rng.integers(2**63))
        return Spec("features", self.output_dim, time=spec.time)

    def forward(self, x: Array, mask: Array | None = None, training: bool = False):
        self._require_built()
        ids = np.asarray(x)
        if not np.issubdtype(ids.dtype, np.integer):
            raise ShapeError(f"{self.name}: Embedding takes integer ids, got dtype {ids.dtype}")
        if ids.size and (ids.min() < 0 or ids.max() >= self.input_dim):
            raise ShapeError(f"{self.name}: ids must lie in [0, {self.input_dim})")
        if training and self.word_dropout and self.rng is not None:
            drop = self.rng.random(ids.shape, dtype=np.float32) < self.word_dropout
            ids = np.where(drop, self.unk_id, ids)
        E = self.params["E"]
        if ids.ndim != 2:
            return lookup(E, ids), (ids, mask)
        # (B, T) ids: rows gathered time-major, the layout the recurrent layers read
        B, T = ids.shape
        out = self.workspace.take("out", (T, B, self.output_dim), self.dtype)
        # NOTE: the ids were checked in range above; "clip" spares take's checking copy
        np.take(E, ids.T, axis=0, out=out, mode="clip")
        return out.swapaxes(0, 1), (ids, mask)  # (B, T, d), time-major underneath

    def backward(self, dy: Array, cache: Any) -> None:
        if not self.trainable:
            return None  # frozen: no rows touched, so zero_grad and the optimizers skip E
        ids, mask = cache
        self._add_rows("E", ids, np.asarray(dy, self.dtype), mask)
        return None  # ids have no gradient
