"""``rnnkit report DIR [--data FILE] [--out HTML]``: one HTML page about a trained model.

The page (see :mod:`rnnkit.viz.report`) is written to DIR/report.html, or to --out,
and holds everything in one file: the model and how it was trained, its parameters
by layer, the training curves, the evaluation, and the gradients through time. It
reads what ``rnnkit train`` and ``rnnkit diagnose`` left beside the model:

- ``config.json``: the settings, the command line and the per-epoch history;
- ``evaluation.json``: the reports of the validation part and of --test;
- ``gradients.png`` (and ``gradients.json``): ``rnnkit diagnose``'s plot of the
  gradient through time (and its tables);
- ``grad_norms.csv``: the per-step gradient norms of a run with --log-grad-norms.

With ``--data FILE`` the model is evaluated on FILE as ``rnnkit evaluate`` does (the
same format flags), and its gradients through time are measured on FILE afresh.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

from rnnkit.cli.data_flags import add_format_flags
from rnnkit.cli.data_format import with_data_format
from rnnkit.cli.diagnose import GRADIENTS_JSON, GRADIENTS_PNG, diagnose_path
from rnnkit.cli.evaluate import score
from rnnkit.cli.outputs import EVALUATION_FILE
from rnnkit.cli.report_params import layer_rows
from rnnkit.errors import ConfigError, ModelFileError, RnnkitError
from rnnkit.io import json_safe, read_config, read_json
from rnnkit.models import load_model
from rnnkit.training import read_grad_norms
from rnnkit.viz import GradientDiagnosis, plot_gradients
from rnnkit.viz.report import ReportInputs, write_report

__all__ = ["add_parser", "run"]

REPORT_FILE = "report.html"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def add_parser(sub: Any) -> argparse.ArgumentParser:
    """The ``report`` verb, with the data-format flags of ``evaluate``."""
    p = sub.add_parser("report", help="write one self-contained HTML page about a saved model")
    p.add_argument("model_dir", help="a model directory written by rnnkit train")
    p.add_argument(
        "--data", metavar="FILE", help="evaluate on FILE and measure its gradients through time"
    )
    p.add_argument("--out", metavar="HTML", help=f"the page to write (DIR/{REPORT_FILE})")
    add_format_flags(p)
    return p


def run(args: argparse.Namespace) -> int:
    """Write the page: the model, its run, its evaluation and its gradients."""
    directory = Path(args.model_dir)
    out = _out_path(args, directory)
    model = load_model(directory)  # ModelFileError: no such directory, not a model, damaged
    args = with_data_format(args, args.model_dir, args.data, model.task)
    inputs = ReportInputs(directory, read_config(directory))
    network = getattr(model, "model_", None)
    inputs.layers = layer_rows(network) if hasattr(network, "layers") else []
    _evaluation(args, model, inputs)
    _gradients(args, model, inputs)
    _grad_norms(inputs)
    write_report(inputs, out)
    print(f"report: {out}")
    return 0


def _out_path(args: argparse.Namespace, directory: Path) -> Path:
    """--out, or DIR/report.html; ConfigError if it cannot be written there."""
    out = Path(args.out) if args.out else directory / REPORT_FILE
    if args.out:
        if out.is_dir():
            raise ConfigError(f"--out {args.out}: a directory; give the name of an HTML file")
        if not out.parent.is_dir():
            raise ConfigError(f"--out {args.out}: directory {str(out.parent)!r} does not exist")
    return out


def _evaluation(args: argparse.Namespace, model: Any, inputs: ReportInputs) -> None:
    """--data evaluated now, else the evaluation.json that training wrote (if any)."""
    task = inputs.config.get("task")
    if args.data:
        report = json_safe(score(args, model).to_dict())
        inputs.evaluation = {"task": task, "parts": {"data": {"data": args.data, "report": report}}}
        inputs.evaluation_source = f"--data {args.data}, evaluated when this page was made"
        return
    path = inputs.directory / EVALUATION_FILE
    if not path.is_file():
        return
    try:
        inputs.evaluation = read_json(path, error=ModelFileError)
    except RnnkitError as exc:
        inputs.evaluation_note = f"{EVALUATION_FILE} could not be read: {exc}"
        return
    inputs.evaluation_source = f"{EVALUATION_FILE}, written by rnnkit train"


def _gradients(args: argparse.Namespace, model: Any, inputs: ReportInputs) -> None:
    """--data: the gradients through time measured now; else what rnnkit diagnose left:
    its plot (which may compare several models) and its numbers, or a plot drawn from
    the numbers when the plot is gone."""
    diag = _diagnosis(args, model, inputs)
    png = inputs.directory / GRADIENTS_PNG
    if not args.data and png.is_file() and png.read_bytes().startswith(PNG_SIGNATURE):
        inputs.gradients_png = png.read_bytes()
        inputs.gradients_source = f"{GRADIENTS_PNG}, written by rnnkit diagnose"
    if diag is None:
        return
    inputs.gradients_text = diag.format()
    if inputs.gradients_png is not None:
        return
    with tempfile.TemporaryDirectory() as tmp:
        try:
            inputs.gradients_png = plot_gradients([diag], Path(tmp) / GRADIENTS_PNG).read_bytes()
        except ConfigError as exc:
            if not isinstance(exc.__cause__, ImportError):
                raise
            inputs.gradients_note = "The plot needs matplotlib: pip install 'rnnkit[plot]'."


def _diagnosis(args: argparse.Namespace, model: Any, inputs: ReportInputs) -> Any:
    """The GradientDiagnosis measured on --data, or the one gradients.json records."""
    recorded = inputs.directory / GRADIENTS_JSON
    if args.data:
        try:
            diag = diagnose_path(model, args.data, args, inputs.directory.name)
        except RnnkitError as exc:
            inputs.gradients_note = f"Not measured on {args.data}: {exc}"
            return None
        inputs.gradients_source = f"--data {args.data}, measured when this page was made"
        return diag
    if not recorded.is_file():
        return None
    try:
        diag = GradientDiagnosis.from_dict(read_json(recorded, error=ModelFileError))
    except (RnnkitError, AttributeError, TypeError) as exc:
        inputs.gradients_note = f"{GRADIENTS_JSON} is unreadable ({exc}): diagnose again"
        return None
    inputs.gradients_source = f"{GRADIENTS_JSON}, written by rnnkit diagnose"
    return diag


def _grad_norms(inputs: ReportInputs) -> None:
    """The run's gradient-norm log, when config.json says the run kept one."""
    training = inputs.config.get("training")
    name = training.get("grad_norms") if isinstance(training, dict) else None
    if not isinstance(name, str) or not name:
        return
    path = inputs.directory / name
    if Path(name).name != name or not path.is_file():
        inputs.grad_norms_note = f"The run logged its gradient norms to {name}, which is gone."
        return
    try:
        inputs.grad_norms = read_grad_norms(path)
    except (RnnkitError, OSError) as exc:
        inputs.grad_norms_note = f"{path.name} could not be read: {exc}"
