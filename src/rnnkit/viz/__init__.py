"""Visualisation: plots written to PNG files (needs the ``rnnkit[plot]`` extra).

Importing this package does not import matplotlib; drawing a plot does.
"""

from rnnkit.viz.attention import plot_attention
from rnnkit.viz.plots import plot_confusion_matrix

__all__ = ["plot_attention", "plot_confusion_matrix"]
