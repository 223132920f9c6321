"""Seeing inside a model: plots, the forward trace, gradients through time, the report.

Importing this package does not import matplotlib; drawing a plot does (the ``plot``
extra).
"""

from rnnkit.viz.attention import plot_attention
from rnnkit.viz.curves import plot_grad_norms, plot_history
from rnnkit.viz.gradient_plot import plot_gradients
from rnnkit.viz.gradients import GradientDiagnosis, measure_gradients
from rnnkit.viz.plots import plot_confusion_matrix
from rnnkit.viz.report import ReportInputs, render_report, write_report
from rnnkit.viz.trace import Trace, trace

__all__ = [
    "GradientDiagnosis",
    "ReportInputs",
    "Trace",
    "measure_gradients",
    "plot_attention",
    "plot_confusion_matrix",
    "plot_grad_norms",
    "plot_gradients",
    "plot_history",
    "render_report",
    "trace",
    "write_report",
]
