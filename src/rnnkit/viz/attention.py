"""The attention weights of one decoded example as a heat map, written to a PNG.

Row t is the output token y_t, column s the source token x_s, and the colour alpha_ts,
how much of the context for y_t came from x_s. For a spelling-to-sound model the
bright cells trace which letters each phone was read from, roughly a diagonal.

>>> import numpy as np, pathlib, tempfile
>>> alpha = np.array([[0.9, 0.1, 0.0], [0.0, 0.2, 0.8]])
>>> with tempfile.TemporaryDirectory() as tmp:
...     png = plot_attention(alpha, list("cat"), ["K", "AE1"], pathlib.Path(tmp) / "a.png")
...     png.read_bytes()[:4]
b'\\x89PNG'
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike

from rnnkit.errors import ShapeError
from rnnkit.viz.figure import check_png_path, new_figure, save_png

__all__ = ["plot_attention"]


def plot_attention(
    weights: ArrayLike,
    source: Sequence[str],
    output: Sequence[str],
    path: str | os.PathLike[str],
    *,
    title: str | None = None,
) -> Path:
    """Draw attention weights (len(output), len(source)) as a heat map, to a PNG.

    The file is replaced atomically. Raises ConfigError without matplotlib or for a
    bad path, ShapeError when the weights do not match the tokens.
    """
    alpha = np.asarray(weights, dtype=np.float64)
    if alpha.shape != (len(output), len(source)) or alpha.size == 0:
        raise ShapeError(
            f"weights: expected ({len(output)}, {len(source)}) for the tokens, got {alpha.shape}"
        )
    out = check_png_path(path)
    fig = new_figure(1.5 + 0.45 * len(source), 1.2 + 0.4 * len(output))
    ax = fig.add_subplot()
    image = ax.imshow(alpha, cmap="Blues", vmin=0.0, vmax=1.0, interpolation="nearest")
    fig.colorbar(image, ax=ax, shrink=0.8)
    ax.set_xticks(np.arange(len(source)), [str(t) for t in source])
    ax.set_yticks(np.arange(len(output)), [str(t) for t in output])
    ax.set_xlabel("source")
    ax.set_ylabel("output")
    ax.set_title("Attention weights" if title is None else title)
    return save_png(fig, out)
