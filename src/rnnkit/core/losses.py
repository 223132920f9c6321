"""Losses on logits, numerically stable, masked, each returning ``(loss, dlogits)``.

Reduction follows the course notes: for classification one output per sequence, the
loss is averaged over the sequences; for labelling (one output per step) the per-step
losses are **summed over the real steps of each sequence and averaged over the
sequences**. ``reduction="token_mean"`` averages over real steps instead.

Cross-entropy with a one-hot target is ``-log y_c``: the notes' example, a prediction
[0.7, 0.3] for class 0, costs -log 0.7:

>>> import numpy as np
>>> loss, _ = softmax_cross_entropy(np.log(np.array([[0.7, 0.3]])), np.array([0]))
>>> round(loss, 4), round(float(-np.log(0.7)), 4)
(0.3567, 0.3567)
"""

from __future__ import annotations

import numpy as np

from rnnkit.core.layout import from_steps_2d, steps_2d
from rnnkit.errors import ConfigError, ShapeError

__all__ = ["mse", "sigmoid_binary_cross_entropy", "softmax_cross_entropy"]

Array = np.ndarray
REDUCTIONS = ("sequence_mean", "token_mean")


def _weights(shape: tuple[int, ...], mask: Array | None, reduction: str, dtype) -> Array:
    """Per-element weights that turn element losses into the reduced loss."""
    if reduction not in REDUCTIONS:
        raise ConfigError(f"reduction={reduction!r} is not one of {', '.join(REDUCTIONS)}")
    w = np.ones(shape, dtype=dtype) if mask is None else mask.astype(dtype)
    if w.shape != shape:
        raise ShapeError(f"mask has shape {w.shape}, targets have shape {shape}")
    if reduction == "token_mean":
        total = w.sum()
    else:  # sum over steps, mean over sequences
        total = shape[0] if shape else 1
    return w / max(float(total), 1.0)


def sigmoid_binary_cross_entropy(
    logits: Array,
    targets: Array,
    mask: Array | None = None,
    reduction: str = "sequence_mean",
) -> tuple[float, Array]:
    """Binary cross-entropy of sigmoid(logits) against 0/1 targets.

    Parameters
    ----------
    logits : (B,) or (B, T) array
    targets : array of the same shape, values in {0, 1} (or probabilities)
    mask : bool array of the same shape, optional; False entries are ignored.

    Notes
    -----
    ``-[y log s(z) + (1 - y) log(1 - s(z))] = max(z, 0) - z y + log(1 + exp(-|z|))``,
    which never overflows; its derivative is ``s(z) - y``.
    """
    z = logits
    y = targets.astype(z.dtype)
    if y.shape != z.shape:
        raise ShapeError(f"targets have shape {y.shape}, outputs have shape {z.shape}")
    w = _weights(z.shape, mask, reduction, z.dtype)
    elem = np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))
    loss = float((elem * w).sum())
    e = np.exp(-np.abs(z))
    s = np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    return loss, ((s - y) * w).astype(z.dtype)


def softmax_cross_entropy(
    logits: Array,
    targets: Array,
    mask: Array | None = None,
    reduction: str = "sequence_mean",
) -> tuple[float, Array]:
    """Cross-entropy ``-log softmax(logits)[c]`` for integer class targets c.

    Parameters
    ----------
    logits : (B, K) or (B, T, K) array
    targets : (B,) or (B, T) int array of class ids
    mask : bool array shaped like `targets`, optional

    Notes
    -----
    Uses log-softmax with the maximum subtracted; the gradient is
    ``softmax(logits) - onehot(c)``, weighted by the reduction.
    """
    if logits.shape[:-1] != targets.shape:
        raise ShapeError(f"targets have shape {targets.shape}, outputs have {logits.shape}")
    K = logits.shape[-1]
    if targets.size and (targets.min() < 0 or targets.max() >= K):
        raise ShapeError(
            f"target class ids must lie in [0, {K}); got {targets.min()}..{targets.max()}"
        )
    w = _weights(targets.shape, mask, reduction, logits.dtype)
    if logits.ndim == 3:  # (B, T, K): the rows in the order of their memory
        B, T = targets.shape
        z, time_major = steps_2d(logits)
        t, w = (targets.T, w.T) if time_major else (targets, w)
        t, w = t.reshape(-1), w.reshape(-1)
    else:
        z, t = logits.reshape(-1, K), targets.reshape(-1)
    t = t.astype(np.intp)
    rows = np.arange(len(t))
    # NOTE: one array of the logits' size, worked on in place: z, then exp(z), then
    # the gradient w * (softmax - onehot).
    e = z - z.max(axis=1, keepdims=True)  # every row's maximum at 0
    picked = e[rows, t]  # z_c
    np.exp(e, out=e)
    total = e.sum(axis=1)  # sum exp(z) >= 1
    loss = float(-(w * (picked - np.log(total))).sum())  # -log softmax(z)_c
    e *= (w / total)[:, None]  # w * softmax(z)
    e[rows, t] -= w
    if logits.ndim == 3:
        return loss, from_steps_2d(e, B, T, time_major)
    return loss, e.reshape(logits.shape)


def mse(
    outputs: Array,
    targets: Array,
    mask: Array | None = None,
    reduction: str = "sequence_mean",
) -> tuple[float, Array]:
    """Squared error ``(y - t)**2`` summed over features, reduced as the other losses."""
    if outputs.shape[: targets.ndim] != targets.shape and outputs.shape != targets.shape:
        raise ShapeError(f"targets have shape {targets.shape}, outputs have {outputs.shape}")
    diff = outputs - targets.reshape(outputs.shape).astype(outputs.dtype)
    # the feature axis is summed, never averaged: reduce over the leading axes only
    lead = (
        mask.shape
        if mask is not None
        else (outputs.shape[:-1] if outputs.ndim > 1 else outputs.shape)
    )
    w = _weights(lead, mask, reduction, outputs.dtype)
    w = w.reshape(w.shape + (1,) * (outputs.ndim - w.ndim))
    return float((diff * diff * w).sum()), (2.0 * diff * w).astype(outputs.dtype)
