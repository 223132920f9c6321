"""CRF: a linear-chain conditional random field on top of per-step tag scores.

The layer owns three parameters, the scores of tag pairs and of the first and last
tag (:mod:`rnnkit.core.crf` has the maths):

- ``A`` (K, K): ``A[i, j]`` scores tag i followed by tag j; pytorch-crf's
  ``transitions``, same orientation (row = previous tag);
- ``start`` (K,): pytorch-crf's ``start_transitions``;
- ``end`` (K,): pytorch-crf's ``end_transitions``.

They start uniform in [-0.1, 0.1], as pytorch-crf's do.

How it fits a model. The CRF is a loss on the emissions, as softmax cross-entropy is a
loss on a Dense layer's logits (:mod:`rnnkit.core.losses`, used through
``rnnkit.models.heads.compute_loss``): :meth:`CRF.loss` returns ``(loss, dE)``, the
loss reduced as the other losses are (summed within a sentence, averaged over the
sentences) and dL/d(emissions) to hand to the layers below, and it adds dL/dA, dL/dstart
and dL/dend into ``grads`` as ``backward`` does. So a tagger's training step is

    E, caches = body.forward(x, mask, training=True)    # (B, T, K) emissions
    loss, dE = crf.loss(E, y, mask)                      # and crf.grads updated
    body.backward(dE, caches)

and prediction is ``crf.decode(E, mask)`` (Viterbi) where a softmax tagger takes the
argmax. ``forward`` and ``backward`` keep the layer protocol: the CRF passes the
emissions through unchanged (its output is the scores it decodes) and passes dy back,
so it can sit last in a layer list; its own gradient comes from :meth:`loss` alone.

With ``tags`` and ``scheme`` ("BIO" or "IOBES"), transitions the scheme forbids
(``O -> I-X``) get probability 0 in the loss and are never decoded.

>>> import numpy as np
>>> from rnnkit.layers import Spec
>>> crf = CRF(tags=["O", "B-PER", "I-PER"], scheme="BIO", dtype="float64")
>>> crf.build(Spec("features", 3), np.random.default_rng(0))
Spec(kind='features', size=3, time=True)
>>> crf.count_params()                   # 3 x 3 transitions + 3 start + 3 end
15
>>> E = np.array([[[0.0, 0.0, 5.0], [0.0, 0.0, 5.0]]])   # I-PER looks best everywhere
>>> [p.tolist() for p in crf.decode(E)]  # but a sentence cannot begin with I-PER
[[1, 2]]
>>> loss, dE = crf.loss(E, np.array([[1, 2]]))
>>> dE.shape, round(loss, 4) >= 0
((1, 2, 3), True)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from rnnkit.core.crf import (
    Constraints,
    crf_log_partition,
    crf_marginals,
    crf_nll,
    crf_score,
    crf_viterbi,
)
from rnnkit.core.crf_tags import tag_constraints
from rnnkit.errors import ConfigError, ShapeError
from rnnkit.layers.base import Layer, Spec

__all__ = ["CRF"]

Array = np.ndarray
REDUCTIONS = ("sequence_mean", "sum")


class CRF(Layer):
    """Linear-chain CRF over K tags, K the size of its input (the emissions).

    Parameters
    ----------
    tags : sequence of str, optional
        The tag names in id order; needed with `scheme`.
    scheme : {"BIO", "IOB2", "IOBES", "BIOES"}, optional
        Forbid the transitions, first tags and last tags the scheme does not allow.

    Notes
    -----
    The loss of a sentence is ``-log p(y | x) = log Z - score(y)``, with
    ``score(y) = start[y_0] + sum_t E[t, y_t] + sum_t A[y_{t-1}, y_t] + end[y_{L-1}]``.
    """

    kind = "crf"

    def __init__(
        self,
        *,
        tags: Sequence[str] | None = None,
        scheme: str | None = None,
        name: str | None = None,
        dtype: str = "float32",
    ) -> None:
        super().__init__(name=name, dtype=dtype)
        if scheme is not None and tags is None:
            raise ConfigError(f"scheme={scheme!r} needs the tag names: give tags=[...]")
        self.tags = None if tags is None else [str(t) for t in tags]
        self.scheme = scheme
        self.constraints: Constraints | None = (
            None if scheme is None or self.tags is None else tag_constraints(self.tags, scheme)
        )

    def get_config(self) -> dict[str, Any]:
        return {"tags": self.tags, "scheme": self.scheme, **super().get_config()}

    def _build(self, spec: Spec, rng: np.random.Generator) -> Spec:
        if spec.kind != "features" or not spec.time:
            raise ShapeError(f"CRF needs per-step scores (B, T, K) as input, not {spec}")
        K = spec.size
        if self.tags is not None and len(self.tags) != K:
            raise ShapeError(f"CRF has {len(self.tags)} tag names for {K} tag scores")
        self.params = {
            "A": self._param(rng.uniform(-0.1, 0.1, size=(K, K))),
            "start": self._param(rng.uniform(-0.1, 0.1, size=K)),
            "end": self._param(rng.uniform(-0.1, 0.1, size=K)),
        }
        return spec

    # -- the layer protocol: emissions pass through ------------------------------------
    def forward(self, x: Array, mask: Array | None = None, training: bool = False):
        """Emissions (B, T, K) -> the same scores (a copy, in the layer's dtype)."""
        self._require_built()
        return self._emissions(x), None

    def backward(self, dy: Array, cache: Any):
        """dL/d(emissions) passes through; the CRF's own gradients come from :meth:`loss`."""
        return np.array(dy, dtype=self.dtype)

    # -- the loss and decoding ---------------------------------------------------------
    def loss(
        self,
        emissions: Array,
        tags: Array,
        mask: Array | None = None,
        reduction: str = "sequence_mean",
    ) -> tuple[float, Array]:
        """The NLL of the gold `tags` and its gradient; adds dL/dA, dstart, dend to grads.

        Parameters
        ----------
        emissions : (B, T, K) tag scores
        tags : (B, T) int gold tags (anything at pads)
        mask : (B, T) bool, True at real tokens, optional
        reduction : "sequence_mean" (mean over sentences, as the other losses) or "sum"

        Returns
        -------
        loss : float
        dE : (B, T, K) dL/d(emissions), zero at pads
        """
        if reduction not in REDUCTIONS:
            raise ConfigError(f"reduction={reduction!r} is not one of {', '.join(REDUCTIONS)}")
        E = self._emissions(emissions)
        A, start, end = self._scores()
        nll, g = crf_nll(E, A, start, end, tags, mask, self.constraints)
        scale = 1.0 / len(nll) if reduction == "sequence_mean" else 1.0
        for key, grad in zip(self.params, (g.dA, g.dstart, g.dend), strict=True):
            self.grads[key] += scale * grad
            self._mark_dense(key)
        return float(nll.sum() * scale), (g.dE * scale).astype(self.dtype, copy=False)

    def log_likelihood(self, emissions: Array, tags: Array, mask: Array | None = None) -> Array:
        """``log p(tags | emissions)`` of every sentence, (B,) (pytorch-crf's forward
        with ``reduction="none"``); no gradient."""
        E = self._emissions(emissions)
        A, start, end = self._scores()
        log_z = crf_log_partition(E, A, start, end, mask, self.constraints)
        return crf_score(E, A, start, end, tags, mask) - log_z

    def partial_log_likelihood(
        self, emissions: Array, tags: Array, mask: Array | None = None
    ) -> Array:
        """``log p`` of the paths through the given tags, where a negative tag id leaves
        its step free (any tag), of every sentence, (B,); no gradient.

        With every tag given this is :meth:`log_likelihood`: the partition over the
        paths the given tags allow, ``log Z_given``, less ``log Z``.
        """
        E = self._emissions(emissions)
        A, start, end = self._scores()
        tags = np.asarray(tags)
        given = tags >= 0
        if mask is not None:
            given &= np.asarray(mask, dtype=bool)
        K = E.shape[2]
        # NOTE: a given step allows its own tag only: the others' emissions far below
        other = given[..., None] & (np.arange(K) != tags[..., None])  # (B, T, K)
        E_given = np.where(other, np.asarray(-1e4, dtype=E.dtype), E)
        log_z = crf_log_partition(E, A, start, end, mask, self.constraints)
        return crf_log_partition(E_given, A, start, end, mask, self.constraints) - log_z

    def decode(self, emissions: Array, mask: Array | None = None) -> list[Array]:
        """The Viterbi path of every sentence: a list of B int arrays, each of its
        sentence's real length (pytorch-crf's ``decode``)."""
        A, start, end = self._scores()
        paths, _ = crf_viterbi(self._emissions(emissions), A, start, end, mask, self.constraints)
        return paths

    def marginals(self, emissions: Array, mask: Array | None = None) -> Array:
        """``P(y_t = k | x)`` at every step, (B, T, K), zero at pads (forward-backward)."""
        A, start, end = self._scores()
        return crf_marginals(self._emissions(emissions), A, start, end, mask, self.constraints)

    def _scores(self) -> tuple[Array, Array, Array]:
        self._require_built()
        return self.params["A"], self.params["start"], self.params["end"]

    def _emissions(self, x: Array) -> Array:
        self._require_built()
        x = np.asarray(x)
        K = self.params["A"].shape[0]
        if x.ndim != 3 or x.shape[2] != K:
            raise ShapeError(
                f"{self.name or 'CRF'}: emissions need shape (B, T, {K}), got {x.shape}"
            )
        return x.astype(self.dtype)
