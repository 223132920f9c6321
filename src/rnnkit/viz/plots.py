"""The confusion matrix as a heat map, written straight to a PNG file, without pyplot.

It is drawn on a figure of its own (:mod:`rnnkit.viz.figure`), so plotting never changes
the backend or the open figures of a user's session, and works on a machine without a
display. matplotlib is the ``rnnkit[plot]`` extra; it is imported only when a plot is
drawn.

>>> import numpy as np, pathlib, tempfile
>>> cm = np.array([[2, 1], [1, 2]])
>>> with tempfile.TemporaryDirectory() as tmp:
...     png = plot_confusion_matrix(cm, ["negative", "positive"], pathlib.Path(tmp) / "cm.png")
...     png.name, png.read_bytes()[:4]
('cm.png', b'\\x89PNG')
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from rnnkit.errors import DataError, ShapeError
from rnnkit.viz.figure import check_png_path, new_figure, save_png

__all__ = ["plot_confusion_matrix"]


def _cell_values(counts: np.ndarray, normalize: bool) -> tuple[np.ndarray, list[list[str]]]:
    """The (K, K) shares of each true class to colour, and the text to write in each cell.

    Colours are always row shares, so a class of 10 examples shows its errors as
    plainly as one of 1,000; the text is the share with `normalize`, else the count.
    """
    values = counts.astype(np.float64)
    rows = values.sum(axis=1, keepdims=True)  # (K, 1) true examples per class
    shares = np.divide(values, rows, out=np.zeros_like(values), where=rows > 0)
    if normalize:
        return shares, [[f"{v:.2f}" for v in row] for row in shares]
    return shares, [[f"{int(v)}" if v.is_integer() else f"{v:g}" for v in row] for row in values]


def _confusion_figure(
    counts: np.ndarray, names: list[str], *, normalize: bool, title: str | None
) -> Any:
    """The heat map of a checked (K, K) matrix, on a Figure of its own."""
    k = counts.shape[0]
    values, text = _cell_values(counts, normalize)
    longest = max(len(name) for name in names)
    # Inches: about half an inch per class plus room for the labels, capped for ~20+ classes.
    side = min(3.0 + 0.5 * k + 0.07 * min(longest, 30), 15.0)
    fontsize = 10.0 if k <= 10 else 8.0
    fig = new_figure(side + 1.2, side)
    ax = fig.add_subplot()
    vmax = 1.0
    image = ax.imshow(values, cmap="Blues", vmin=0.0, vmax=vmax, interpolation="nearest")
    fig.colorbar(image, ax=ax, shrink=0.8, label="share of the true class")
    for i in range(k):
        for j in range(k):
            # NOTE: white text on the dark half of the colour map, black on the light half.
            colour = "white" if values[i, j] > vmax / 2 else "black"
            ax.text(j, i, text[i][j], ha="center", va="center", color=colour, fontsize=fontsize)

    ticks = np.arange(k)
    rotate = k > 6 or longest > 8
    ax.set_xticks(
        ticks,
        names,
        fontsize=fontsize,
        rotation=45 if rotate else 0,
        ha="right" if rotate else "center",
        rotation_mode="anchor",
    )
    ax.set_yticks(ticks, names, fontsize=fontsize)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    default = "Confusion matrix (row-normalised)" if normalize else "Confusion matrix"
    ax.set_title(default if title is None else title)
    return fig


def plot_confusion_matrix(
    cm: ArrayLike,
    labels: Sequence[str],
    path: str | os.PathLike[str],
    *,
    normalize: bool = False,
    title: str | None = None,
) -> Path:
    """Draw a confusion matrix as a heat map with the count (or share) in every cell, to a PNG.

    Parameters
    ----------
    cm : array of int, shape (K, K)
        Confusion matrix, rows = true class, columns = predicted class (as returned by
        :func:`rnnkit.metrics.confusion_matrix`).
    labels : sequence of str, length K
        Class names, in class-id order; shown on both axes.
    path : str or PathLike
        The ``.png`` file to write, in an existing directory. It is replaced atomically:
        the image is rendered to a temporary file in the same directory, then renamed.
    normalize : bool, default False
        Write each cell as its fraction of the true class (rows sum to 1; a class with
        no true examples stays 0) instead of its count. Either way the colour is that
        fraction, so the errors of a small class show as plainly as a large one's.
    title : str, optional
        Figure title; by default "Confusion matrix" (with "(row-normalised)").

    Returns
    -------
    Path
        ``path``, for chaining.

    Raises
    ------
    ConfigError
        If matplotlib is missing, or ``path`` is not a ``.png`` in an existing directory.
    ShapeError
        If ``cm`` is not square or does not match ``labels``.
    """
    counts = np.asarray(cm)
    if counts.ndim != 2 or counts.shape[0] != counts.shape[1] or counts.shape[0] == 0:
        raise ShapeError(f"cm: expected a non-empty square (K, K) matrix, got {counts.shape}")
    if counts.dtype.kind not in "iuf" or np.any(counts < 0):
        raise DataError("cm: expected non-negative counts")
    names = [str(label) for label in labels]
    k = counts.shape[0]
    if len(names) != k:
        raise ShapeError(f"labels: {len(names)} labels for a {k}-class matrix")
    out = check_png_path(path)
    fig = _confusion_figure(counts, names, normalize=normalize, title=title)
    return save_png(fig, out)
