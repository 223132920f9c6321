"""Weight initialisers, Keras's defaults, each drawing from an explicit Generator.

>>> import numpy as np
>>> W = orthogonal((4, 4), np.random.default_rng(0))
>>> np.allclose(W @ W.T, np.eye(4))
True
"""

from __future__ import annotations

import numpy as np

from rnnkit.errors import ConfigError

__all__ = ["get_initializer", "glorot_uniform", "orthogonal", "uniform", "zeros"]

Array = np.ndarray


def glorot_uniform(shape: tuple[int, ...], rng: np.random.Generator) -> Array:
    """U(-l, l) with l = sqrt(6 / (fan_in + fan_out)) (Keras ``glorot_uniform``)."""
    fan_in, fan_out = shape[0], shape[-1]
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=shape)


def orthogonal(shape: tuple[int, ...], rng: np.random.Generator, gain: float = 1.0) -> Array:
    """A random orthogonal matrix (Keras ``orthogonal``, the default for W)."""
    rows, cols = shape[0], int(np.prod(shape[1:]))
    a = rng.normal(size=(max(rows, cols), min(rows, cols)))
    q, r = np.linalg.qr(a)
    q *= np.sign(np.diag(r))  # make the distribution uniform over orthogonal matrices
    if rows < cols:
        q = q.T
    return gain * q.reshape(shape)


def uniform(shape: tuple[int, ...], rng: np.random.Generator, scale: float = 0.05) -> Array:
    """U(-scale, scale) (Keras ``Embedding``'s default with scale 0.05)."""
    return rng.uniform(-scale, scale, size=shape)


def zeros(shape: tuple[int, ...], rng: np.random.Generator | None = None) -> Array:
    return np.zeros(shape)


_INITIALIZERS = {
    "glorot_uniform": glorot_uniform,
    "orthogonal": orthogonal,
    "uniform": uniform,
    "zeros": zeros,
}


def get_initializer(name: str):
    """Look an initialiser up by its Keras name."""
    try:
        return _INITIALIZERS[name]
    except KeyError:
        names = ", ".join(sorted(_INITIALIZERS))
        raise ConfigError(f"initializer={name!r} is not one of {names}") from None
