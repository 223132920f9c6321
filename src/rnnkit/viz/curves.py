"""Training curves: loss and accuracy by epoch, and gradient norms by step, as PNGs.

:func:`plot_history` draws what a run's ``History.to_dict()`` records (the
``"history"`` of a model directory's ``config.json``): the training and validation
loss against the epoch, the accuracies when the loss scores predictions right or
wrong, and for a language model the perplexity e^loss, with the best validation epoch
marked on every panel. :func:`plot_grad_norms` draws a run's ``grad_norms.csv``
(``rnnkit train --log-grad-norms``): the global gradient norm of every step before
clipping, the steps that were clipped, and each parameter's norm.

matplotlib is the ``rnnkit[plot]`` extra; without it both raise
:class:`~rnnkit.errors.ConfigError` saying how to install it.

>>> import pathlib, tempfile
>>> history = {"best_epoch": 2, "epochs": [
...     {"epoch": 1, "loss": 0.69, "accuracy": 0.55, "val_loss": 0.66, "val_accuracy": 0.6},
...     {"epoch": 2, "loss": 0.52, "accuracy": 0.74, "val_loss": 0.58, "val_accuracy": 0.7},
...     {"epoch": 3, "loss": 0.40, "accuracy": 0.83, "val_loss": 0.61, "val_accuracy": 0.69}]}
>>> with tempfile.TemporaryDirectory() as tmp:
...     png = plot_history(history, pathlib.Path(tmp) / "curves.png")
...     png.name, png.read_bytes()[:4]
('curves.png', b'\\x89PNG')
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from rnnkit.errors import DataError
from rnnkit.viz.figure import check_png_path, new_figure, save_png

__all__ = ["history_records", "plot_grad_norms", "plot_history"]

#: (panel title, training key, validation key) of the figures an epoch may record
PANELS = (("loss", "loss", "val_loss"), ("accuracy", "accuracy", "val_accuracy"))


def history_records(history: Any) -> list[dict[str, float]]:
    """The per-epoch records of a ``History.to_dict()``, checked (DataError if malformed)."""
    epochs = history.get("epochs") if isinstance(history, dict) else None
    if not isinstance(epochs, list) or not epochs:
        raise DataError("history: no 'epochs' records to draw")
    for i, record in enumerate(epochs):
        if not isinstance(record, dict) or not all(
            isinstance(record.get(k), (int, float)) for k in ("epoch", "loss")
        ):
            raise DataError(f"history: epoch record {i + 1} lacks a numeric 'epoch' and 'loss'")
    return epochs


def _series(records: list[dict[str, Any]], key: str) -> tuple[list[float], list[float]]:
    """(epochs, values) of the records that hold a number under `key`."""
    pairs = [(r["epoch"], r[key]) for r in records if isinstance(r.get(key), (int, float))]
    return [float(e) for e, _ in pairs], [float(v) for _, v in pairs]


def _exp(values: list[float]) -> list[float]:
    return [math.exp(v) if v < 700 else math.inf for v in values]


Series = tuple[list[float], list[float]]


def _panels(records: list[dict[str, Any]], perplexity: bool) -> list[tuple[str, Series, Series]]:
    """(title, training series, validation series) of each panel to draw."""
    panels: list[tuple[str, Series, Series]] = []
    for title, train_key, valid_key in PANELS:
        train, valid = _series(records, train_key), _series(records, valid_key)
        if train[0] or valid[0]:
            panels.append((title, train, valid))
    if perplexity:  # the loss is nats per token: perplexity = e^loss
        train, valid = _series(records, "loss"), _series(records, "val_loss")
        panels.append(("perplexity", (train[0], _exp(train[1])), (valid[0], _exp(valid[1]))))
    return panels


def plot_history(
    history: dict[str, Any],
    png: str | os.PathLike[str],
    title: str = "Training curves",
    *,
    perplexity: bool = False,
) -> Path:
    """Draw loss (and accuracy) against the epoch, training and validation, to a PNG.

    Parameters
    ----------
    history : dict
        ``History.to_dict()``: ``"epochs"``, a list of records with ``epoch`` and
        ``loss`` and, where the run had them, ``accuracy``, ``val_loss`` and
        ``val_accuracy``; ``"best_epoch"`` (optional) is marked on every panel.
    png : str or PathLike
        The ``.png`` to write (atomically), in an existing directory.
    title : str
        The figure's title.
    perplexity : bool
        Add a panel of e^loss (a language model, whose loss is nats per token).

    Returns
    -------
    Path
        `png`.
    """
    out = check_png_path(png)
    return save_png(_history_figure(history, title, perplexity), out)


def _history_figure(history: dict[str, Any], title: str, perplexity: bool) -> Any:
    """The figure of :func:`plot_history`: one panel per figure the epochs record."""
    records = history_records(history)
    best = history.get("best_epoch")
    panels = _panels(records, perplexity)
    fig = new_figure(4.2 * len(panels), 3.4)
    for k, (name, train, valid) in enumerate(panels):
        ax = fig.add_subplot(1, len(panels), k + 1)
        for (xs, ys), label, style in ((train, "training", "o-"), (valid, "validation", "s--")):
            if xs:
                ax.plot(xs, ys, style, markersize=3, label=label)
        if isinstance(best, (int, float)):
            ax.axvline(best, color="grey", linestyle=":", label=f"best epoch {best}")
        if name == "perplexity":
            _log_scale(ax, train[1] + valid[1])
        ax.set_xlabel("epoch")
        ax.set_title(name)
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.legend(fontsize=8)
    fig.suptitle(title)
    return fig


def _log_scale(ax: Any, values: Any) -> None:
    """A log y axis, where the values have something positive to show on one."""
    v = np.asarray(values, dtype=np.float64)
    if np.any(np.isfinite(v) & (v > 0)):
        ax.set_yscale("log")


def plot_grad_norms(
    log: Any,
    png: str | os.PathLike[str],
    *,
    clip_norm: float | None = None,
    title: str = "Gradient norms by step",
) -> Path:
    """Draw a ``grad_norms.csv``: the global norm (clipped steps marked) and each
    parameter's norm against the step, on log scales, to a PNG.

    Parameters
    ----------
    log : GradNorms
        ``rnnkit.training.read_grad_norms`` of the CSV ``rnnkit train
        --log-grad-norms`` wrote: ``step``, ``global_norm``, ``clipped`` and ``params``.
    png : str or PathLike
        The ``.png`` to write (atomically), in an existing directory.
    clip_norm : float, optional
        The run's clipping threshold, drawn as a horizontal line.
    title : str
        The figure's title.
    """
    out = check_png_path(png)
    step, norm, clipped = log.step, log.global_norm, log.clipped
    fig = new_figure(9.0, 3.6)
    ax = fig.add_subplot(1, 2, 1)
    ax.plot(step, norm, "-", linewidth=1, label="global norm (before clipping)")
    if clipped.any():
        ax.plot(step[clipped], norm[clipped], "r.", markersize=4, label="clipped")
    if clip_norm:
        ax.axhline(clip_norm, color="grey", linestyle=":", label=f"clip at {clip_norm:g}")
    ax.set_title("global norm ||g||")
    right = fig.add_subplot(1, 2, 2, sharex=ax)
    for name, values in log.params.items():
        right.plot(step, values, "-", linewidth=1, label=name)
    right.set_title("norm of each parameter's gradient")
    per_param = list(log.params.values())
    for a, values in ((ax, [norm]), (right, per_param)):
        _log_scale(a, np.concatenate(values) if values else norm)
        a.set_xlabel("step")
        a.legend(fontsize=7)
    fig.suptitle(title)
    return save_png(fig, out)
