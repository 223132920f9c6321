"""Reverse each sequence of a padded batch within its own length.

The backward direction of a bidirectional layer reads x_T, ..., x_1 of every sequence.
In a padded batch the sequences end at different steps, so flipping the whole time
axis would start the short ones on padding. :func:`reverse_padded` reverses the first
``lengths[i]`` steps of row i and leaves its pads where they are (one index gather,
no loop over the batch). Applied twice it gives the input back, so the same call maps
the backward run's per-step outputs (and their gradients) back to the original order.

>>> import numpy as np
>>> x = np.array([[1, 2, 3, 4],
...               [5, 6, 0, 0]])          # (B, T) = (2, 4); row 1 has 2 real steps
>>> lengths = np.array([4, 2])
>>> reverse_padded(x, lengths)
array([[4, 3, 2, 1],
       [6, 5, 0, 0]])
>>> np.array_equal(reverse_padded(reverse_padded(x, lengths), lengths), x)
True
>>> prefix_lengths(np.array([[True, True, True, True], [True, True, False, False]]))
array([4, 2])
"""

from __future__ import annotations

import numpy as np

from rnnkit.errors import ShapeError

__all__ = ["prefix_lengths", "reverse_padded"]

Array = np.ndarray


def reverse_padded(x: Array, lengths: Array | None = None) -> Array:
    """Reverse the real steps of every sequence, leaving the pads in place.

    Parameters
    ----------
    x : (B, T) or (B, T, ...) array, batch-first, real steps first in each row
    lengths : (B,) ints in [0, T], optional
        Real steps of each sequence; all T when omitted (a plain flip of the time axis).

    Returns
    -------
    (B, T, ...) array, a new array: ``out[i, t] = x[i, lengths[i] - 1 - t]`` for
    ``t < lengths[i]`` and ``out[i, t] = x[i, t]`` at the pads.

    Notes
    -----
    The map is its own inverse, so it also reverses outputs and gradients back.
    """
    x = np.asarray(x)
    if x.ndim < 2:
        raise ShapeError(f"reverse_padded needs a batch-first (B, T, ...) array, got {x.shape}")
    B, T = x.shape[:2]
    if lengths is None:
        return x[:, ::-1].copy()
    lengths = np.asarray(lengths)
    if lengths.shape != (B,) or not np.issubdtype(lengths.dtype, np.integer):
        raise ShapeError(f"lengths must be ({B},) integers, got {lengths.dtype} {lengths.shape}")
    if B and (lengths.min() < 0 or lengths.max() > T):
        raise ShapeError(f"lengths must lie in [0, {T}]")
    t = np.arange(T)[None, :]  # (1, T)
    n = lengths[:, None]  # (B, 1)
    src = np.where(t < n, n - 1 - t, t)  # (B, T) step read by each output step
    return x[np.arange(B)[:, None], src]


def prefix_lengths(mask: Array) -> Array:
    """Lengths (B,) of a (B, T) mask that is True on a prefix of every row.

    Raises :class:`~rnnkit.errors.ShapeError` for any other mask (a hole, or real steps
    after a pad), where "the sequence reversed within its length" has no meaning.
    """
    mask = np.asarray(mask, dtype=bool)
    if mask.ndim != 2:
        raise ShapeError(f"mask must be (B, T), got shape {mask.shape}")
    lengths = mask.sum(axis=1)
    prefix = np.arange(mask.shape[1])[None, :] < lengths[:, None]  # (B, T)
    bad = np.flatnonzero((mask != prefix).any(axis=1))
    if bad.size:
        raise ShapeError(
            f"mask row {bad[0]} is not True on a prefix: pads must come after the real "
            "steps of each sequence"
        )
    return lengths
