"""Choosing the next token from the output layer's logits: greedy, temperature, top-k.

With logits z over the vocabulary, the next token is drawn from
``softmax(z / temperature)``: a temperature below 1 sharpens the distribution (more
likely, more repetitive text), above 1 flattens it. Temperature 0 is greedy decoding,
the most likely token every time. ``top_k`` keeps only the k most likely tokens.

>>> import numpy as np
>>> z = np.log(np.array([[0.1, 0.6, 0.3]]))
>>> sample_logits(z, np.random.default_rng(0), temperature=0.0).tolist()   # greedy
[1]
>>> draws = sample_logits(np.repeat(z, 10_000, axis=0), np.random.default_rng(0))
>>> np.round(np.bincount(draws) / 10_000, 2).tolist()
[0.1, 0.6, 0.3]
"""

from __future__ import annotations

import math

import numpy as np

from rnnkit.errors import ConfigError

__all__ = ["sample_logits"]

Array = np.ndarray


def sample_logits(
    logits: Array,
    rng: np.random.Generator,
    temperature: float = 1.0,
    top_k: int | None = None,
) -> Array:
    """One token id per row of (B, V) logits, drawn from softmax(logits / temperature).

    Parameters
    ----------
    logits : (B, V) array
    rng : numpy Generator, the only source of randomness (one uniform draw per row).
    temperature : float >= 0; 0 takes the most likely token.
    top_k : int, optional; draw among the k most likely tokens only.

    Returns
    -------
    (B,) int64 array of token ids.
    """
    if not (temperature >= 0 and math.isfinite(temperature)):
        raise ConfigError(f"temperature={temperature}: must be a number >= 0")
    if top_k is not None and top_k < 1:
        raise ConfigError(f"top_k={top_k}: must be at least 1")
    z = np.asarray(logits, dtype=np.float64)  # (B, V)
    if temperature == 0 or top_k == 1:
        return z.argmax(axis=-1)
    z = z / temperature
    if top_k is not None and top_k < z.shape[-1]:
        kth = np.partition(z, -top_k, axis=-1)[:, -top_k, None]  # the k-th largest, (B, 1)
        z = np.where(z >= kth, z, -np.inf)
    p = np.exp(z - z.max(axis=-1, keepdims=True))  # unnormalised softmax
    cdf = np.cumsum(p, axis=-1)  # (B, V)
    u = rng.random(len(z))[:, None] * cdf[:, -1:]  # uniform in [0, total)
    ids = (cdf <= u).sum(axis=-1)  # the first index whose cumulative mass exceeds u
    return np.minimum(ids, z.shape[-1] - 1)
