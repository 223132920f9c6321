"""The figure every plot draws on, and how it reaches its PNG file, without pyplot.

Figures are drawn on a :class:`matplotlib.figure.Figure` with its own Agg canvas, so
plotting never changes the backend or the open figures of a user's session, and works
on a machine without a display. matplotlib is the ``rnnkit[plot]`` extra; it is imported
only when a figure is made.

>>> check_png_path("curves.txt")
Traceback (most recent call last):
    ...
rnnkit.errors.ConfigError: path: expected a .png file name, got 'curves.txt'
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

from rnnkit.errors import ConfigError
from rnnkit.io import atomic_write_bytes

__all__ = ["check_png_path", "new_figure", "save_png"]

_PLOT_HINT = "plotting needs matplotlib: pip install 'rnnkit[plot]'"


def new_figure(width: float, height: float) -> Any:
    """A Figure on its own Agg canvas (no pyplot, no global backend), size in inches."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise ConfigError(_PLOT_HINT) from exc
    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def save_png(fig: Any, path: Path) -> Path:
    """Render ``fig`` in memory, then write it to ``path`` atomically (a new file gets
    the usual permissions, ``0o666 & ~umask``, as any file rnnkit writes)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    atomic_write_bytes(path, buffer.getvalue())
    return path


def check_png_path(path: str | os.PathLike[str]) -> Path:
    """`path` as a Path, checked before anything is drawn: a ``.png`` name in an
    existing directory."""
    out = Path(path)
    if out.suffix.lower() != ".png":
        raise ConfigError(f"path: expected a .png file name, got {str(out)!r}")
    if not out.parent.is_dir():
        raise ConfigError(f"path: directory {str(out.parent)!r} does not exist")
    return out
