"""The report of one trained model: a single self-contained HTML page.

``rnnkit report DIR`` gathers what a model directory and its run left behind into a
:class:`ReportInputs` and renders it with :func:`render_report`. The page has five
sections, always in this order and always present; a section with nothing to show
says why, and how to fill it:

========================  =================================================================
section (id)              shows
========================  =================================================================
Model (``model``)         task, command line, data, seed, training time, settings
Parameters                every layer's parameters: the lecture's name (U, W, b, V, c, E),
(``parameters``)          Keras's and PyTorch's names, shape, count, and the total
Training curves           loss (and accuracy) by epoch from config.json's history, and
(``curves``)              the per-epoch table
Evaluation                per part: the scores, the confusion matrix and the per-class
(``evaluation``)          table (evaluation.json, or ``--data FILE`` evaluated afresh)
Gradients through time    ``rnnkit diagnose``'s plot, and the per-step gradient norms of
(``gradients``)           a run trained with ``--log-grad-norms``
========================  =================================================================

Every image is a PNG embedded as a ``data:`` URI and the only style sheet is inline,
so the page is one file that opens anywhere, offline. The figures need matplotlib
(``rnnkit[plot]``); without it the tables are still there, and each figure is
replaced by a sentence saying so.

>>> page = render_report(ReportInputs(Path("m"), {"task": "classify"}))
>>> [s in page for s in ('id="model"', 'id="parameters"', 'id="curves"',
...                      'id="evaluation"', 'id="gradients"')]
[True, True, True, True, True]
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rnnkit.errors import ConfigError, RnnkitError
from rnnkit.io import atomic_write_text
from rnnkit.viz.curves import history_records, plot_grad_norms, plot_history
from rnnkit.viz.evaluation import evaluation_body
from rnnkit.viz.html import esc, key_values, note, page, png_img, table

__all__ = ["LayerRow", "ParamRow", "ReportInputs", "render_report", "write_report"]

#: where a figure would be, when matplotlib is missing
NO_PLOT = "Figures need matplotlib: pip install 'rnnkit[plot]', then run rnnkit report again."
#: the per-epoch table's columns, in this order when the history has them
EPOCH_COLUMNS = ("epoch", "loss", "accuracy", "val_loss", "val_accuracy", "lr", "seconds",
                 "tokens_per_s")  # fmt: skip


@dataclass(frozen=True)
class ParamRow:
    """One parameter of a layer, with its names in the lecture, Keras and PyTorch."""

    name: str  # rnnkit's key in layer.params: "U", "forward_W", "E", ...
    lecture: str  # the notes' symbol ("U", "W (backward)"), "" where they have none
    keras: str  # the Keras weight ("kernel", "recurrent_kernel", ...), "" if none
    pytorch: str  # the PyTorch state_dict entry ("weight_ih_l0 = U.T", ...), "" if none
    shape: tuple[int, ...]
    count: int


@dataclass(frozen=True)
class LayerRow:
    """One layer of the network: its name, its type and its parameters (maybe none)."""

    name: str
    kind: str
    params: list[ParamRow] = field(default_factory=list)


@dataclass
class ReportInputs:
    """Everything the page shows, gathered by its caller (see ``rnnkit report``).

    ``config`` is the model directory's config.json; ``evaluation`` has the form of
    evaluation.json (``{"task", "parts": {name: {"data", "report"}}}``);
    ``gradients_png`` is a gradient-through-time plot and ``grad_norms`` the run's
    gradient-norm log. Each ``*_note`` says why its part is missing, when it is.
    """

    directory: Path
    config: dict[str, Any]
    layers: list[LayerRow] | None = None
    evaluation: dict[str, Any] | None = None
    evaluation_source: str = ""
    evaluation_note: str | None = None
    gradients_png: bytes | None = None
    gradients_source: str = ""
    gradients_text: str | None = None
    gradients_note: str | None = None
    grad_norms: Any = None  # a GradNorms (rnnkit.training.read_grad_norms)
    grad_norms_note: str | None = None


def figure(draw: Callable[[Path], Any], alt: str) -> str:
    """An embedded PNG drawn by ``draw(path)``, or a sentence saying why there is none."""
    with tempfile.TemporaryDirectory() as tmp:
        png = Path(tmp) / "figure.png"
        try:
            draw(png)
        except ConfigError as exc:
            if isinstance(exc.__cause__, ImportError):
                return note(NO_PLOT)
            raise
        return png_img(png.read_bytes(), alt)


def _object(value: Any) -> dict[str, Any]:
    """`value` if it is a JSON object, else an empty one (a config read from a file)."""
    return value if isinstance(value, dict) else {}


def _training(config: dict[str, Any]) -> dict[str, Any]:
    return _object(config.get("training"))


def model_section(inputs: ReportInputs) -> str:
    """Task, command line, data, seed, time and the settings config.json records."""
    config, training = inputs.config, _training(inputs.config)
    history, arch = _object(training.get("history")), _object(config.get("architecture"))
    seconds = training.get("train_seconds")
    rows = key_values([
        ("task", config.get("task")),
        ("network", arch.get("class")),
        ("command", training.get("command")),
        ("data", training.get("data")),
        ("seed", training.get("seed")),
        ("training time", f"{seconds:.1f} s" if isinstance(seconds, (int, float)) else None),
        ("stopped by", history.get("stopped")),
        ("best epoch", history.get("best_epoch")),
        ("rnnkit", config.get("rnnkit")),
        ("model directory", str(inputs.directory)),
    ])  # fmt: skip
    settings = training.get("settings")
    if isinstance(settings, dict) and settings:
        body = table(["setting", "value"], [(k, _plain(v)) for k, v in settings.items()])
        return rows + "\n<h3>Settings</h3>\n" + body
    return rows + note(
        "config.json records no training settings: this model was not trained by a task "
        "model of rnnkit (rnnkit train records them)."
    )


def _plain(value: Any) -> Any:
    """A setting as a table cell: numbers and text as they are, anything else as text."""
    return value if isinstance(value, (str, int, float, bool)) or value is None else str(value)


def parameters_section(inputs: ReportInputs) -> str:
    """The layer table: every parameter with its names, shape and count; the total."""
    layers = inputs.layers or []
    if not any(layer.params for layer in layers):
        return note(
            "This model has no trained layers to list (the bag-of-words baseline counts "
            "n-grams instead; rnnkit summary DIR describes it)."
        )
    rows: list[list[Any]] = []
    for layer in layers:
        params = layer.params or [ParamRow("-", "", "", "", (), 0)]
        for i, p in enumerate(params):
            head = [layer.name, layer.kind] if i == 0 else ["", ""]
            shape = str(p.shape) if p.shape else "-"
            rows.append([*head, p.name, p.lecture, p.keras, p.pytorch, shape, p.count])
    total = sum(p.count for layer in layers for p in layer.params)
    rows.append(["Total params", "", "", "", "", "", "", total])
    headers = ["layer", "type", "parameter", "lecture", "Keras", "PyTorch", "shape", "count"]
    classes = [""] * (len(rows) - 1) + ["total"]
    return table(headers, rows, classes) + f"\n<p>Total params: {total:,}</p>"


def curves_section(inputs: ReportInputs) -> str:
    """The curves drawn from config.json's history, and its per-epoch table."""
    training = _training(inputs.config)
    history = training.get("history")
    try:
        records = history_records(history)
    except RnnkitError:
        return note(
            "config.json records no epochs, so there are no curves: the bag-of-words "
            "baseline trains in one pass, and a recurrent model records its epochs when "
            "rnnkit train (or fit) trains it."
        )
    assert isinstance(history, dict)
    lm = inputs.config.get("task") == "lm"
    image = figure(lambda png: plot_history(history, png, "Training curves", perplexity=lm),
                   "loss and accuracy by epoch")  # fmt: skip
    columns = [c for c in EPOCH_COLUMNS if any(c in r for r in records)]
    columns += sorted({k for r in records for k in r} - set(columns))
    best = history.get("best_epoch")
    classes = ["best" if r.get("epoch") == best else "" for r in records]
    rows = [[r.get(c) for c in columns] for r in records]
    caption = "" if best is None else f"<p>The best validation epoch ({best}) is highlighted.</p>"
    return image + "\n" + caption + table(columns, rows, classes)


def evaluation_section(inputs: ReportInputs) -> str:
    """Each evaluated part's scores, confusion matrix and per-class table."""
    parts = (inputs.evaluation or {}).get("parts")
    if not isinstance(parts, dict) or not parts:
        return note(
            inputs.evaluation_note
            or "Nothing was evaluated: train with a validation part (--valid or "
            "--valid-split) or --test to record evaluation.json, or run rnnkit report "
            "DIR --data FILE to evaluate on FILE now."
        )
    source = f"<p>From {esc(inputs.evaluation_source)}.</p>\n" if inputs.evaluation_source else ""
    return source + evaluation_body(parts, figure)


def gradients_section(inputs: ReportInputs) -> str:
    """The gradient-through-time plot, and the plot of the run's per-step norms."""
    out = ["<h3>Gradient norm through time</h3>"]
    if inputs.gradients_png is not None:
        out.append(png_img(inputs.gradients_png, "gradient norm through time"))
    else:
        out.append(note(inputs.gradients_note or (
            "Not measured: run rnnkit diagnose DIR --data FILE (it writes gradients.png "
            "beside the model), or rnnkit report DIR --data FILE to measure it now."
        )))  # fmt: skip
    if inputs.gradients_source and (inputs.gradients_png or inputs.gradients_text):
        out.append(f"<p>From {esc(inputs.gradients_source)}.</p>")
    if inputs.gradients_text:
        out.append(f"<pre>{esc(inputs.gradients_text)}</pre>")
    out.append("<h3>Gradient norms by step</h3>")
    out.append(_grad_norms(inputs))
    return "\n".join(out)


def _grad_norms(inputs: ReportInputs) -> str:
    log = inputs.grad_norms
    if log is None:
        return note(inputs.grad_norms_note or (
            "The run did not log its gradient norms: train with --log-grad-norms to "
            "record grad_norms.csv beside the model."
        ))  # fmt: skip
    settings = _training(inputs.config).get("settings")
    clip = settings.get("clip_norm") if isinstance(settings, dict) else None
    clip = clip if isinstance(clip, (int, float)) and not isinstance(clip, bool) else None
    image = figure(lambda png: plot_grad_norms(log, png, clip_norm=clip), "gradient norms")
    summary = key_values([
        ("steps logged", len(log.step)),
        ("steps clipped", int(log.clipped.sum())),
        ("largest global norm", float(log.global_norm.max())),
        ("clipping threshold", clip),
    ])  # fmt: skip
    return image + "\n" + summary


def render_report(inputs: ReportInputs) -> str:
    """The whole page, as a string of HTML5."""
    task = inputs.config.get("task", "?")
    title = f"rnnkit report: {inputs.directory.name or inputs.directory} ({task})"
    return page(title, [
        ("model", "Model", model_section(inputs)),
        ("parameters", "Parameters", parameters_section(inputs)),
        ("curves", "Training curves", curves_section(inputs)),
        ("evaluation", "Evaluation", evaluation_section(inputs)),
        ("gradients", "Gradients through time", gradients_section(inputs)),
    ])  # fmt: skip


def write_report(inputs: ReportInputs, path: str | os.PathLike[str]) -> Path:
    """Render the page and write it to `path` atomically; returns `path`."""
    out = Path(path)
    atomic_write_text(out, render_report(inputs))
    return out
