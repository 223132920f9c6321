"""Element-wise activations, each with the derivative expressed through its output.

BPTT only ever needs f'(a) where y = f(a) is already stored, so every derivative here
takes the *output* y: tanh' = 1 - y**2, sigmoid' = y (1 - y), relu' = [y > 0].

>>> import numpy as np
>>> y = tanh(np.array([0.0, 1.0]))
>>> np.round(y, 4).tolist(), np.round(tanh_grad(y), 4).tolist()
([0.0, 0.7616], [1.0, 0.42])
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from rnnkit.errors import ConfigError

__all__ = [
    "ACTIVATIONS",
    "activate",
    "get_activation",
    "linear",
    "relu",
    "sigmoid",
    "softmax",
    "tanh",
]

Array = np.ndarray


def tanh(a: Array, out: Array | None = None) -> Array:
    """tanh(a), written into `out` when given."""
    return np.tanh(a, out=out)


def tanh_grad(y: Array, out: Array | None = None) -> Array:
    """tanh'(a) = 1 - y**2 from the output y = tanh(a)."""
    out = np.multiply(y, y, out=out)
    np.subtract(1.0, out, out=out)
    return out


def sigmoid(a: Array, out: Array | None = None) -> Array:
    """1 / (1 + exp(-a)), computed as 0.5 tanh(a / 2) + 0.5, which never overflows."""
    # NOTE: the identity sigmoid(a) = (1 + tanh(a/2)) / 2 costs four in-place passes
    # and no temporaries, several times faster than the exp form with its two branches.
    # Its error is absolute, at most one rounding of 1, which gates and probabilities
    # never notice; losses never take the log of it (they work on logits).
    out = np.multiply(a, 0.5, out=out)
    np.tanh(out, out=out)
    out *= 0.5
    out += 0.5
    return out


def sigmoid_grad(y: Array, out: Array | None = None) -> Array:
    """sigmoid'(a) = y (1 - y) from the output y = sigmoid(a)."""
    out = np.subtract(1.0, y, out=out)
    np.multiply(out, y, out=out)
    return out


def relu(a: Array, out: Array | None = None) -> Array:
    """max(a, 0)."""
    return np.maximum(a, 0.0, out=out)


def relu_grad(y: Array, out: Array | None = None) -> Array:
    """relu'(a) = 1 where y > 0, else 0."""
    if out is None:
        return (y > 0).astype(y.dtype)
    np.greater(y, 0, out=out, casting="unsafe")
    return out


def linear(a: Array, out: Array | None = None) -> Array:
    """The identity (no activation)."""
    if out is None:
        return a
    np.copyto(out, a)
    return out


def linear_grad(y: Array, out: Array | None = None) -> Array:
    """The derivative of the identity: ones."""
    if out is None:
        return np.ones_like(y)
    out.fill(1.0)
    return out


def softmax(a: Array, axis: int = -1) -> Array:
    """Numerically stable softmax along `axis`."""
    z = a - a.max(axis=axis, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)


ActivationFn = Callable[..., Array]

#: name -> (function of the pre-activation, derivative as a function of the output)
ACTIVATIONS: dict[str, tuple[ActivationFn, ActivationFn]] = {
    "tanh": (tanh, tanh_grad),
    "sigmoid": (sigmoid, sigmoid_grad),
    "relu": (relu, relu_grad),
    "linear": (linear, linear_grad),
}


def get_activation(name: str) -> tuple[ActivationFn, ActivationFn]:
    """Return ``(f, f_grad_from_output)`` for an activation name.

    >>> f, df = get_activation("relu")
    >>> get_activation("swish")
    Traceback (most recent call last):
    ...
    rnnkit.errors.ConfigError: activation='swish' is not one of linear, relu, sigmoid, tanh
    """
    try:
        return ACTIVATIONS[name]
    except KeyError:
        names = ", ".join(sorted(ACTIVATIONS))
        raise ConfigError(f"activation={name!r} is not one of {names}") from None


def activate(name: str, a: Array) -> Array:
    """f(a) in float64 by the name a layer records ("softmax" too), on a copy of `a`.

    The slow, exact path the trace takes; the layers call :func:`get_activation`'s
    in-place functions on their own dtype.

    >>> activate("sigmoid", np.array([0.0], dtype=np.float32))
    array([0.5])
    """
    if name == "softmax":
        return softmax(np.array(a, dtype=np.float64))
    return get_activation(name)[0](np.array(a, dtype=np.float64))
