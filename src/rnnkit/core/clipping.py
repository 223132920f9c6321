"""Gradient clipping, the standard guard against exploding gradients.

>>> import numpy as np
>>> g = [np.array([3.0, 4.0])]
>>> clip_by_global_norm(g, 1.0)
5.0
>>> g[0].round(6).tolist()
[0.6, 0.8]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["clip_by_global_norm", "clip_by_value", "global_norm"]


def global_norm(
    grads: Sequence[np.ndarray], rows: Sequence[np.ndarray | None] | None = None
) -> float:
    """sqrt of the sum of squares of every entry of every gradient.

    ``rows[i]``, when given and not None, lists the only rows of ``grads[i]`` that can
    be nonzero (a sparse gradient), so the others are not read.
    """
    rows = rows if rows is not None else [None] * len(grads)
    total = 0.0
    for g, r in zip(grads, rows, strict=False):
        v = g if r is None else g[r]
        total += float(np.vdot(v, v))
    return float(np.sqrt(total))


def clip_by_global_norm(
    grads: Sequence[np.ndarray],
    max_norm: float,
    rows: Sequence[np.ndarray | None] | None = None,
    norm: float | None = None,
) -> float:
    """Scale all gradients in place so their global norm is at most `max_norm`.

    Returns the norm before clipping (useful for diagnostics). `rows` as in
    :func:`global_norm`; `norm`, when the caller has it already, saves computing it.
    """
    norm = global_norm(grads, rows) if norm is None else norm
    if norm > max_norm > 0:
        # NOTE: the same small epsilon as torch.nn.utils.clip_grad_norm_
        scale = max_norm / (norm + 1e-6)
        for g, r in zip(grads, rows if rows is not None else [None] * len(grads), strict=False):
            if r is None:
                g *= scale
            else:
                g[r] *= scale
    return norm


def clip_by_value(grads: Sequence[np.ndarray], limit: float) -> None:
    """Clip every entry of every gradient in place to [-limit, limit]."""
    for g in grads:
        np.clip(g, -limit, limit, out=g)
