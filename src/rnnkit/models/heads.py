"""Losses paired with the output layer's activation, and the accuracy they imply.

The final Dense layer returns logits in training; the loss applies the activation
itself (sigmoid or softmax), which is the numerically stable way to compute
cross-entropy. Each loss name fixes the activation it expects.

A per-step class id of :data:`UNSEEN` (-1) marks a step whose true class the model
does not have (a tag of validation data never seen in training): it adds nothing to
the loss and counts as a wrong prediction.
"""

from __future__ import annotations

import numpy as np

from rnnkit.core.losses import mse, sigmoid_binary_cross_entropy, softmax_cross_entropy
from rnnkit.errors import ConfigError, ShapeError

__all__ = ["LOSSES", "UNSEEN", "check_loss", "compute_loss"]

Array = np.ndarray
#: the class id of a step whose class the model does not have: no loss, always wrong
UNSEEN = -1

#: loss name -> the output activation it goes with
LOSSES = {
    "binary_crossentropy": "sigmoid",
    "sparse_categorical_crossentropy": "softmax",
    "mse": "linear",
}


def check_loss(loss: str, activation: str, units: int) -> None:
    """Refuse a loss that does not fit the output layer, with the fix in the message."""
    if loss not in LOSSES:
        raise ConfigError(f"loss={loss!r} is not one of {', '.join(LOSSES)}")
    want = LOSSES[loss]
    if activation != want:
        raise ConfigError(
            f"loss={loss!r} needs a final Dense with activation={want!r}, not {activation!r}"
        )
    if loss == "binary_crossentropy" and units != 1:
        raise ConfigError(
            f"loss='binary_crossentropy' needs Dense(1, 'sigmoid'), not {units} units"
        )


def compute_loss(
    loss: str, logits: Array, y: Array, mask: Array | None, reduction: str = "sequence_mean"
) -> tuple[float, Array, int, int]:
    """Loss value, dL/dlogits, and (correct, counted) for accuracy.

    logits : (B, k) or (B, T, k); y : (B,) or (B, T); mask : (B, T) for per-step outputs.
    """
    if loss == "binary_crossentropy":
        z = logits[..., 0]
        t = np.asarray(y)
        if t.shape != z.shape:
            raise ShapeError(f"targets have shape {t.shape}, outputs {z.shape}")
        value, dz = sigmoid_binary_cross_entropy(z, t, mask, reduction)
        hit = (z > 0) == (t > 0.5)
        dlogits = dz[..., None]
    elif loss == "sparse_categorical_crossentropy":
        t = np.asarray(y).astype(np.int64)
        seen = t != UNSEEN
        if mask is not None and not seen.all():
            known = mask & seen
            value, dlogits = softmax_cross_entropy(logits, np.where(seen, t, 0), known, reduction)
        else:
            value, dlogits = softmax_cross_entropy(logits, t, mask, reduction)
        hit = logits.argmax(axis=-1) == t  # never at an UNSEEN step
    else:
        value, dlogits = mse(logits, np.asarray(y), mask, reduction)
        return value, dlogits, 0, 0
    if mask is not None:
        return value, dlogits, int((hit & mask).sum()), int(mask.sum())
    return value, dlogits, int(hit.sum()), int(hit.size)
