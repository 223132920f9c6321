"""Metrics: classification scores from integer class ids, and a report that prints them.

>>> from rnnkit.metrics import ClassificationReport, accuracy
>>> accuracy([1, 0, 0, 0, 1, 1], [1, 0, 1, 0, 1, 0])
0.6666666666666666
"""

from rnnkit.metrics.classification import (
    accuracy,
    confusion_matrix,
    macro_f1,
    per_class_accuracy,
    precision_recall_f1,
)
from rnnkit.metrics.report import ClassificationReport

__all__ = [
    "ClassificationReport",
    "accuracy",
    "confusion_matrix",
    "macro_f1",
    "per_class_accuracy",
    "precision_recall_f1",
]
