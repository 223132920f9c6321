"""Optimizers: the update rule w <- w - lr * dL/dw and its well-known refinements.

Each optimizer updates parameters in place, once per mini-batch, after the backward
pass. A parameter is addressed by a key (``"<layer>.<param>"``) so its state (velocity,
moments) survives across steps and can be saved.

Row-sparse gradients (embeddings, id lookups) update only the rows that occurred.
For SGD and Adagrad that is exactly the dense update. For Momentum and Adam it is the
"lazy" variant: the moments of rows absent from a batch are left as they are instead
of decaying (as TensorFlow's LazyAdam and PyTorch's SparseAdam do).

>>> import numpy as np
>>> w, g = np.array([1.0, 2.0]), np.array([0.5, -0.5])
>>> SGD(lr=0.1).step([("w", w, g, None)])
>>> w.tolist()
[0.95, 2.05]
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from rnnkit.core.embedding import sgd_rows
from rnnkit.core.workspace import Workspace
from rnnkit.errors import ConfigError

__all__ = ["SGD", "Adagrad", "Adam", "Momentum", "Optimizer", "get_optimizer"]

Array = np.ndarray
#: (key, parameter, gradient, touched rows or None for a dense gradient)
ParamSlot = tuple[str, Array, Array, "Array | None"]


class Optimizer:
    """Base class: holds the learning rate, per-parameter state and the step count."""

    name = "optimizer"

    def __init__(self, lr: float) -> None:
        if not (float(lr) > 0 and math.isfinite(float(lr))):
            raise ConfigError(f"lr={lr}: the learning rate must be a positive number")
        self.lr = float(lr)
        self.state: dict[str, dict[str, Array]] = {}
        self.iterations = 0
        self._scratch = Workspace()  # temporaries of the dense updates (not state)

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "lr": self.lr}

    # -- checkpoints ---------------------------------------------------------------
    def state_arrays(self) -> dict[str, Array]:
        """Every per-parameter state array, named ``"<param key>/<state>"`` (``gru.W/m``)."""
        return {f"{key}/{name}": a for key, st in self.state.items() for name, a in st.items()}

    def load_state(self, scalars: dict[str, Any], arrays: dict[str, Array], shapes: dict) -> None:
        """Restore what :meth:`state_arrays` and ``get_config`` recorded, plus the step
        count; `shapes` maps every parameter key to its shape (ConfigError on a misfit)."""
        if scalars.get("name") != self.name:
            raise ConfigError(
                f"the checkpoint's optimizer is {scalars.get('name')!r}, not {self.name!r}"
            )
        state: dict[str, dict[str, Array]] = {}
        for full, a in arrays.items():
            key, _, name = full.rpartition("/")
            if shapes.get(key) != a.shape:
                raise ConfigError(f"optimizer state {full!r} {a.shape} fits no parameter")
            state.setdefault(key, {})[name] = a.copy()
        self.state = state
        self.lr = float(scalars["lr"])
        self.iterations = int(scalars["iterations"])

    def step(self, slots: Iterable[ParamSlot]) -> None:
        """Apply one update to every (key, param, grad, rows) slot."""
        self.iterations += 1
        for key, p, g, rows in slots:
            if rows is not None and rows.size == 0:
                continue  # a sparse gradient that touched nothing
            self._update(key, p, g, rows)

    def _update(self, key: str, p: Array, g: Array, rows: Array | None) -> None:
        raise NotImplementedError

    def _tmp(self, key: str, like: Array, rows: Array | None = None) -> Array:
        """A scratch array shaped like `like` (or like its `rows`), reused step to step."""
        shape = like.shape if rows is None else (len(rows), *like.shape[1:])
        return self._scratch.take(key, shape, like.dtype)

    def _rows(self, key: str, a: Array, rows: Array) -> Array:
        """``a[rows]`` gathered into a reused scratch array."""
        # NOTE: rows are a gradient's own, in range; "clip" spares take's checking copy
        return np.take(a, rows, axis=0, out=self._tmp(key, a, rows), mode="clip")

    def _slot(self, key: str, name: str, like: Array) -> Array:
        st = self.state.setdefault(key, {})
        if name not in st:
            st[name] = np.zeros_like(like)
        return st[name]


class SGD(Optimizer):
    """Plain gradient descent: w <- w - lr * g."""

    name = "sgd"

    def __init__(self, lr: float = 0.01) -> None:
        super().__init__(lr)

    def _update(self, key, p, g, rows):
        if rows is None:
            p -= np.multiply(g, self.lr, out=self._tmp(key, p))
        elif not sgd_rows(p, g, rows, self.lr):  # compiled: one pass over the rows
            # gather, update, scatter, in reused buffers: the same arithmetic
            pr, gr = self._rows(key + ".p", p, rows), self._rows(key + ".g", g, rows)
            gr *= self.lr
            pr -= gr
            p[rows] = pr


class Momentum(Optimizer):
    """Heavy-ball momentum: v <- mu v + g; w <- w - lr v (PyTorch's SGD convention)."""

    name = "momentum"

    def __init__(self, lr: float = 0.01, momentum: float = 0.9, nesterov: bool = False) -> None:
        super().__init__(lr)
        if not 0.0 <= momentum < 1.0:
            raise ConfigError(f"momentum={momentum}: must lie in [0, 1)")
        self.momentum, self.nesterov = float(momentum), bool(nesterov)

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}

    def _update(self, key, p, g, rows):
        v = self._slot(key, "v", p)
        idx: Any = slice(None) if rows is None else rows
        gi = g[idx]
        vi = self.momentum * v[idx] + gi
        v[idx] = vi
        p[idx] -= self.lr * (gi + self.momentum * vi if self.nesterov else vi)


class Adagrad(Optimizer):
    """Adagrad: per-entry learning rates lr / sqrt(sum of squared gradients)."""

    name = "adagrad"

    def __init__(self, lr: float = 0.01, eps: float = 1e-10) -> None:
        super().__init__(lr)
        self.eps = float(eps)

    def get_config(self):
        return {**super().get_config(), "eps": self.eps}

    def _update(self, key, p, g, rows):
        s = self._slot(key, "sum_sq", p)
        idx: Any = slice(None) if rows is None else rows
        gi = g[idx]
        si = s[idx] + gi * gi
        s[idx] = si
        p[idx] -= self.lr * gi / (np.sqrt(si) + self.eps)


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015) with bias correction, PyTorch's epsilon placement."""

    name = "adam"

    def __init__(
        self, lr: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8
    ) -> None:
        super().__init__(lr)
        if not (0.0 <= beta1 < 1.0 and 0.0 <= beta2 < 1.0):
            raise ConfigError(f"beta1={beta1}, beta2={beta2}: both must lie in [0, 1)")
        self.beta1, self.beta2, self.eps = float(beta1), float(beta2), float(eps)

    def get_config(self):
        return {**super().get_config(), "beta1": self.beta1, "beta2": self.beta2, "eps": self.eps}

    def _update(self, key, p, g, rows):
        m, v = self._slot(key, "m", p), self._slot(key, "v", p)
        t = self.iterations
        step = self.lr / (1.0 - self.beta1**t)
        vcorr = 1.0 - self.beta2**t
        if rows is None:
            self._adam(p, g, m, v, self._tmp(key, p), step, vcorr)
        else:  # the same arithmetic on the gathered rows, scattered back
            pi, gi, mi, vi = (
                self._rows(f"{key}.{n}", a, rows) for n, a in zip("pgmv", (p, g, m, v), strict=True)
            )
            self._adam(pi, gi, mi, vi, self._tmp(key, p, rows), step, vcorr)
            p[rows], m[rows], v[rows] = pi, mi, vi

    def _adam(self, p: Array, g: Array, m: Array, v: Array, tmp: Array, step, vcorr) -> None:
        """One Adam update of p, m, v in place; `tmp` is scratch of the same shape."""
        m *= self.beta1
        m += np.multiply(g, 1.0 - self.beta1, out=tmp)  # m <- b1 m + (1 - b1) g
        v *= self.beta2
        np.multiply(g, g, out=tmp)
        tmp *= 1.0 - self.beta2
        v += tmp  # v <- b2 v + (1 - b2) g^2
        np.divide(v, vcorr, out=tmp)
        np.sqrt(tmp, out=tmp)
        tmp += self.eps
        np.divide(m, tmp, out=tmp)
        tmp *= step
        p -= tmp  # p <- p - lr m_hat / (sqrt(v_hat) + eps)


OPTIMIZERS: dict[str, type[Optimizer]] = {cls.name: cls for cls in (SGD, Momentum, Adagrad, Adam)}


def get_optimizer(name: str | Optimizer, lr: float | None = None) -> Optimizer:
    """An optimizer by name ("sgd", "momentum", "adagrad", "adam"), or the one given.

    >>> get_optimizer("adam", lr=3e-3).get_config()
    {'name': 'adam', 'lr': 0.003, 'beta1': 0.9, 'beta2': 0.999, 'eps': 1e-08}
    """
    if isinstance(name, Optimizer):
        return name
    try:
        cls = OPTIMIZERS[str(name).lower()]
    except KeyError:
        names = ", ".join(OPTIMIZERS)
        raise ConfigError(f"optimizer={name!r} is not one of {names}") from None
    return cls() if lr is None else cls(lr=lr)  # type: ignore[call-arg]
