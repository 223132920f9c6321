"""Attention: a decoder state looks at every encoder output and takes a weighted mean.

Luong's global attention, for each decoder step t with top-layer state h_t (the
query) and the encoder outputs e_1 .. e_S (the keys and values) of one source:

    score(h_t, e_s) = h_t . e_s                        "dot"
                    = h_t W_a . e_s                    "general"
                    = v . tanh(h_t W_1 + e_s W_2)      "additive" (Bahdanau's score)
    alpha_t = softmax_s(score(h_t, e_s))               (pads of the source get 0)
    ctx_t   = sum_s alpha_ts e_s
    h~_t    = tanh([ctx_t; h_t] W_c + b_c)             the attentional state

and the output layer reads h~_t instead of h_t. Every score is computed from the
decoder's current state, so with teacher forcing all T steps of a batch go through a
few batched matrix products at once. PyTorch has no layer for this; Keras calls the
dot score ``Attention`` and the additive one ``AdditiveAttention`` (without W_c).

>>> import numpy as np
>>> att = Attention(4, score="dot")
>>> att.build_pair(3, 3, np.random.default_rng(0))
>>> h = np.ones((2, 5, 3), np.float32); enc = np.ones((2, 7, 3), np.float32)
>>> out, alpha, _ = att.forward_pair(h, enc, np.ones((2, 7), bool))
>>> out.shape, alpha.shape, float(alpha[0, 0].sum())
((2, 5, 4), (2, 5, 7), 1.0)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rnnkit.core.init import get_initializer
from rnnkit.errors import ConfigError, ShapeError
from rnnkit.layers.base import Layer, Spec

__all__ = ["SCORES", "Attention"]

Array = np.ndarray
#: the score functions
SCORES = ("dot", "general", "additive")


class Attention(Layer):
    """Global attention of decoder states over encoder outputs (see the module docstring).

    Parameters
    ----------
    units : int
        Size of the attentional state h~_t.
    score : {"dot", "general", "additive"}
        How a decoder state and an encoder output are compared. "dot" needs the two
        to be the same size.
    score_units : int, optional
        Width of the additive score's hidden layer (default: `units`).

    Parameters, in order: ``W_a`` (d, m) for "general", or ``W_1`` (d, a), ``W_2``
    (m, a), ``v`` (a,) for "additive"; then ``W_c`` (m + d, units), ``b_c`` (units,),
    with d the decoder state's size and m the encoder output's.
    """

    kind = "attention"

    def __init__(
        self,
        units: int,
        score: str = "dot",
        *,
        score_units: int | None = None,
        name: str | None = None,
        dtype: str = "float32",
    ) -> None:
        super().__init__(name=name, dtype=dtype)
        if score not in SCORES:
            raise ConfigError(f"score={score!r} is not one of {', '.join(SCORES)}")
        if int(units) < 1:
            raise ConfigError(f"units={units}: must be a positive integer")
        self.units = int(units)
        self.score = score
        self.score_units = int(score_units or units)

    def get_config(self) -> dict[str, Any]:
        return {
            "units": self.units,
            "score": self.score,
            "score_units": self.score_units,
            **super().get_config(),
        }

    def build_pair(self, query_size: int, key_size: int, rng: np.random.Generator) -> None:
        """Create the weights for d-wide decoder states and m-wide encoder outputs."""
        d, m = int(query_size), int(key_size)
        if self.score == "dot" and d != m:
            raise ShapeError(
                f"{self.name}: dot attention needs decoder states ({d}) as wide as encoder "
                f"outputs ({m}); use score='general'"
            )
        self.sizes = (d, m)
        self.build(Spec("features", d), rng)

    def _build(self, spec: Spec, rng: np.random.Generator) -> Spec:
        d, m = self.sizes
        glorot = get_initializer("glorot_uniform")
        params: dict[str, Array] = {}
        if self.score == "general":
            params["W_a"] = glorot((d, m), rng)
        elif self.score == "additive":
            a = self.score_units
            params["W_1"] = glorot((d, a), rng)
            params["W_2"] = glorot((m, a), rng)
            params["v"] = rng.uniform(-np.sqrt(3.0 / a), np.sqrt(3.0 / a), size=a)
        params["W_c"] = glorot((m + d, self.units), rng)
        params["b_c"] = np.zeros(self.units)
        self.params = {k: self._param(v) for k, v in params.items()}
        return Spec("features", self.units)

    # -- forward -------------------------------------------------------------------
    def forward_pair(self, h: Array, enc: Array, src_mask: Array | None):
        """Attend from every decoder state to the encoder outputs.

        Parameters
        ----------
        h : (B, T, d) decoder states (the queries)
        enc : (B, S, m) encoder outputs (the keys and values)
        src_mask : (B, S) bool, False at the source's pads (None: no pads)

        Returns
        -------
        out : (B, T, units) attentional states h~_t
        alpha : (B, T, S) attention weights, each row summing to 1 over real steps
        cache : what :meth:`backward_pair` needs
        """
        self._require_built()
        d, m = self.sizes
        h = np.asarray(h, dtype=self.dtype)
        enc = np.asarray(enc, dtype=self.dtype)
        if h.ndim != 3 or h.shape[2] != d or enc.ndim != 3 or enc.shape[2] != m:
            raise ShapeError(
                f"{self.name}: states must be (B, T, {d}) and encoder outputs (B, S, {m}), "
                f"got {h.shape} and {enc.shape}"
            )
        q, add = self._query(h, enc)
        scores = add if add is not None else q @ enc.transpose(0, 2, 1)  # (B, T, S)
        if src_mask is not None:
            scores = np.where(np.asarray(src_mask, bool)[:, None, :], scores, -np.inf)
        scores -= scores.max(axis=-1, keepdims=True)
        alpha = np.exp(scores, out=scores)
        alpha /= alpha.sum(axis=-1, keepdims=True)
        ctx = alpha @ enc  # (B, T, m)
        joined = np.concatenate([ctx, h], axis=-1)  # (B, T, m + d)
        out = np.tanh(_linear(joined, self.params["W_c"]) + self.params["b_c"])
        return out, alpha, (h, enc, q, alpha, joined, out)

    def _query(self, h: Array, enc: Array) -> tuple[Array, Array | None]:
        """What the score compares with e_s: h (dot), h W_a (general); or, additive,
        (tanh(h W_1 + e W_2) as (B, T, S, a), the scores (B, T, S))."""
        if self.score == "dot":
            return h, None
        if self.score == "general":
            return _linear(h, self.params["W_a"]), None
        hw = _linear(h, self.params["W_1"])  # (B, T, a)
        ew = _linear(enc, self.params["W_2"])  # (B, S, a)
        A = np.tanh(hw[:, :, None, :] + ew[:, None, :, :])  # (B, T, S, a)
        return A, A @ self.params["v"]

    # -- backward ------------------------------------------------------------------
    def backward_pair(self, dout: Array, cache: Any) -> tuple[Array, Array]:
        """Gradients of the weights (added to ``grads``) and (dL/dh, dL/denc)."""
        h, enc, q, alpha, joined, out = cache
        m = enc.shape[2]
        p, g = self.params, self.grads
        # backprop through h~ = tanh([ctx; h] W_c + b_c)
        dz = np.asarray(dout, dtype=self.dtype) * (1.0 - out * out)
        dz2 = dz.reshape(-1, dz.shape[-1])
        g["W_c"] += joined.reshape(-1, joined.shape[-1]).T @ dz2
        g["b_c"] += dz2.sum(axis=0)
        djoined = _linear(dz, p["W_c"].T)
        dctx, dh = djoined[..., :m], djoined[..., m:].copy()
        # backprop through ctx = alpha enc
        denc = alpha.transpose(0, 2, 1) @ dctx  # (B, S, m)
        dalpha = dctx @ enc.transpose(0, 2, 1)  # (B, T, S)
        # backprop through the softmax over s (pads have alpha = 0 and get nothing)
        dscores = alpha * (dalpha - (dalpha * alpha).sum(axis=-1, keepdims=True))
        if self.score == "dot":
            dh += dscores @ enc
            denc += dscores.transpose(0, 2, 1) @ h
        elif self.score == "general":
            dq = dscores @ enc  # (B, T, m)
            denc += dscores.transpose(0, 2, 1) @ q
            g["W_a"] += h.reshape(-1, h.shape[-1]).T @ dq.reshape(-1, m)
            dh += _linear(dq, p["W_a"].T)
        else:
            A = q
            g["v"] += np.einsum("bts,btsa->a", dscores, A)
            # backprop through tanh(h W_1 + e W_2)
            dpre = (dscores[..., None] * p["v"]) * (1.0 - A * A)  # (B, T, S, a)
            dhw, dew = dpre.sum(axis=2), dpre.sum(axis=1)  # (B, T, a), (B, S, a)
            a = dhw.shape[-1]
            g["W_1"] += h.reshape(-1, h.shape[-1]).T @ dhw.reshape(-1, a)
            g["W_2"] += enc.reshape(-1, m).T @ dew.reshape(-1, a)
            dh += _linear(dhw, p["W_1"].T)
            denc += _linear(dew, p["W_2"].T)
        for key in g:  # every weight got a dense gradient: zero_grad and the optimizers
            self._mark_dense(key)  # then treat the whole array, not no rows
        return dh, denc


def _linear(x: Array, W: Array) -> Array:
    """x W over the last axis as one GEMM on the (rows, k) view, not one per batch row."""
    return (x.reshape(-1, x.shape[-1]) @ W).reshape(*x.shape[:-1], W.shape[1])
