"""The picture of gradients through time: several models' diagnoses side by side.

Left, how ||dL/dh_t|| fades (or grows) with the distance k from the loss, as each
sequence's own ratio to k = 0 (geometric mean over sequences), log scale, one line per
model and layer; right, every parameter's gradient norm. A line stops where fewer than
:data:`MIN_SHARE` of the sequences reach that far: a tail of a few long sentences says
little about the model.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from rnnkit.errors import ConfigError
from rnnkit.viz.figure import check_png_path, new_figure, save_png

if TYPE_CHECKING:
    from rnnkit.viz.gradients import GradientDiagnosis

__all__ = ["MIN_SHARE", "plot_gradients"]

#: a distance is drawn while at least this share of the sequences reach it
MIN_SHARE = 0.05


def plot_gradients(diagnoses: Sequence[GradientDiagnosis], png: str | os.PathLike[str]) -> Path:
    """Draw models' gradients through time side by side to a PNG (replaced atomically).

    Left: ||dL/dh_t|| relative to distance 0 (each sequence's own ratio, geometric mean
    over sequences; the mean norm at k = 0 is in the legend) against the distance from
    the loss, log scale, a line per model and layer; right: every parameter's gradient
    norm, log scale. Returns the path written.
    """
    if not diagnoses:
        raise ConfigError("diagnoses: give at least one GradientDiagnosis to plot")
    out = check_png_path(png)
    bars = [
        (f"{d.label}: {k}", v, i) for i, d in enumerate(diagnoses) for k, v in d.param_norms.items()
    ]
    fig = new_figure(13.0, max(4.5, 1.0 + 0.17 * len(bars)))
    ratio_ax, param_ax = fig.subplots(1, 2)
    for i, d in enumerate(diagnoses):
        reach = _reach(d.counts)
        for j, (name, ratio) in enumerate(d.ratios().items()):
            label = f"{d.label}: {name} (k = 0: {d.state_norms[name][0]:.3g})"
            style = {"color": f"C{i % 10}", "linestyle": ("-", "--", ":", "-.")[j % 4]}
            ratio_ax.plot(_positive(ratio[:reach]), label=label, **style)
    ratio_ax.set(xlabel="distance k from the loss (steps back from the last real step)")
    ratio_ax.set(ylabel="state gradient norm / its value at k = 0", title="gradient through time")
    if any(np.isfinite(_positive(line.get_ydata())).any() for line in ratio_ax.get_lines()):
        ratio_ax.set_yscale("log")  # NOTE: only with something to draw, or matplotlib warns
    ratio_ax.legend(fontsize=7)
    widths = _positive([v for _, v, _ in bars])
    param_ax.barh(np.arange(len(bars)), widths, color=[f"C{i % 10}" for _, _, i in bars])
    param_ax.set_yticks(np.arange(len(bars)), [name for name, _, _ in bars], fontsize=7)
    param_ax.invert_yaxis()
    param_ax.set(xlabel="gradient norm (mean batch gradient)", title="parameters")
    if np.isfinite(widths).any():
        param_ax.set_xscale("log")
    return save_png(fig, out)


def _reach(counts: Any) -> int:
    """How many distances at least :data:`MIN_SHARE` of the sequences reach."""
    counts = np.asarray(counts)
    if not counts.size:
        return 0
    return int(np.count_nonzero(counts >= max(1.0, MIN_SHARE * counts[0])))


def _positive(a: Any) -> np.ndarray:
    """Values a log axis can draw: NaN for zero, negative or non-finite ones."""
    a = np.asarray(a, dtype=np.float64)
    return np.where(np.isfinite(a) & (a > 0), a, np.nan)
