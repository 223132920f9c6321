"""Metrics: classification and labelling scores, entity F1 for BIO and IOBES tags, reports.

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
from rnnkit.metrics.entities import bio_spans, entity_scores, iobes_spans, is_bio, tag_scheme
from rnnkit.metrics.labelling import UNKNOWN_TAG, LabellingReport
from rnnkit.metrics.language import LanguageModelReport
from rnnkit.metrics.regression import RegressionReport
from rnnkit.metrics.report import ClassificationReport

__all__ = [
    "UNKNOWN_TAG",
    "ClassificationReport",
    "LabellingReport",
    "LanguageModelReport",
    "RegressionReport",
    "accuracy",
    "bio_spans",
    "confusion_matrix",
    "entity_scores",
    "iobes_spans",
    "is_bio",
    "macro_f1",
    "per_class_accuracy",
    "precision_recall_f1",
    "tag_scheme",
]
