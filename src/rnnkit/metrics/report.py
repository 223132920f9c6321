"""A classification report: one confusion matrix, every score, JSON and a plain-text table.

:class:`ClassificationReport` keeps the confusion matrix and the class labels; every
score is computed from them on demand. :meth:`ClassificationReport.to_dict` gives the
object that ``rnnkit evaluate --json`` prints for the classify task, and
:meth:`ClassificationReport.format` the tables it prints for a person.

The lecture's six-review example: the model predicts ``[1, 0, 1, 0, 1, 0]`` where the
truth is ``[1, 0, 0, 0, 1, 1]``, so four of six are right.

>>> report = ClassificationReport.from_predictions(
...     [1, 0, 0, 0, 1, 1], [1, 0, 1, 0, 1, 0], labels=["negative", "positive"])
>>> print(report.format())
accuracy 0.6667  n 6  macro F1 0.6667
<BLANKLINE>
label     support  accuracy  precision  recall      f1
negative        3    0.6667     0.6667  0.6667  0.6667
positive        3    0.6667     0.6667  0.6667  0.6667
<BLANKLINE>
true \\ predicted  negative  positive
negative                 2         1
positive                 1         2
>>> report.to_dict()["confusion_matrix"]
[[2, 1], [1, 2]]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from rnnkit.errors import ConfigError, ShapeError
from rnnkit.metrics.classification import (
    confusion_matrix,
    macro_f1,
    per_class_accuracy,
    precision_recall_f1,
)

__all__ = ["ClassificationReport", "align_columns", "format_score"]


def _json_float(x: float) -> float | None:
    """A plain float for JSON, ``None`` for nan (JSON has no nan)."""
    x = float(x)
    return None if math.isnan(x) else x


def format_score(x: float, digits: int) -> str:
    """A score as text, ``-`` when it is undefined (nan)."""
    return "-" if math.isnan(x) else f"{x:.{digits}f}"


def align_columns(header: list[str], rows: list[list[str]]) -> list[str]:
    """Align columns: the first left-aligned, the rest right-aligned, two spaces apart."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = []
    for r in [header, *rows]:
        cells = [r[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(r[1:], widths[1:], strict=True)
        ]
        lines.append("  ".join(cells).rstrip())
    return lines


@dataclass(frozen=True, eq=False)
class ClassificationReport:
    """Scores of a classifier on one data set, all derived from its confusion matrix.

    Parameters
    ----------
    cm : ndarray of int64, shape (K, K)
        Confusion matrix, rows = true class, columns = predicted class.
    labels : list of str, length K
        Class names, in class-id order.

    Attributes
    ----------
    n : int
        Number of scored examples (or tokens), ``cm.sum()``.

    Examples
    --------
    >>> r = ClassificationReport.from_predictions([0, 1, 1], [0, 1, 0], labels=["a", "b"])
    >>> round(r.accuracy, 4), r.n, r.per_class_accuracy
    (0.6667, 3, array([1. , 0.5]))
    """

    cm: np.ndarray
    labels: list[str]

    def __post_init__(self) -> None:
        cm = np.asarray(self.cm)
        if cm.ndim != 2 or cm.shape[0] != cm.shape[1] or cm.dtype.kind not in "iu":
            raise ShapeError(f"cm: expected a square integer matrix, got {cm.dtype} {cm.shape}")
        labels = [str(label) for label in self.labels]
        if len(labels) != cm.shape[0]:
            raise ShapeError(f"labels: {len(labels)} labels for a {cm.shape[0]}-class matrix")
        if len(set(labels)) != len(labels):
            duplicate = next(label for label in labels if labels.count(label) > 1)
            raise ConfigError(f"labels: duplicate label {duplicate!r}")
        object.__setattr__(self, "cm", cm.astype(np.int64))
        object.__setattr__(self, "labels", labels)

    @classmethod
    def from_predictions(
        cls,
        y_true: ArrayLike,
        y_pred: ArrayLike,
        labels: Sequence[str],
        mask: ArrayLike | None = None,
    ) -> ClassificationReport:
        """Build the report from class ids.

        Parameters
        ----------
        y_true, y_pred : array of int, any shape, the same for both
            True and predicted class ids in ``0 .. len(labels) - 1``, e.g. (N,) or (B, T).
        labels : sequence of str, length K
            Class names; ``labels[k]`` names class id k.
        mask : array of bool, same shape, optional
            True at the positions to score (real tokens, not padding).
        """
        cm = confusion_matrix(y_true, y_pred, n_classes=len(labels), mask=mask)
        return cls(cm=cm, labels=list(labels))

    @property
    def n(self) -> int:
        """Number of scored examples."""
        return int(self.cm.sum())

    @property
    def accuracy(self) -> float:
        """Fraction correct, ``trace(cm) / n`` (nan when n is 0)."""
        return float(np.trace(self.cm) / self.n) if self.n else float("nan")

    @property
    def per_class_accuracy(self) -> np.ndarray:
        """(K,) accuracy within each true class (recall); nan for a class never true."""
        return per_class_accuracy(self.cm)

    @property
    def precision(self) -> np.ndarray:
        """(K,) precision of each class; 0 for a class never predicted."""
        return precision_recall_f1(self.cm)[0]

    @property
    def recall(self) -> np.ndarray:
        """(K,) recall of each class; 0 for a class never true."""
        return precision_recall_f1(self.cm)[1]

    @property
    def f1(self) -> np.ndarray:
        """(K,) F1 of each class; 0 where undefined."""
        return precision_recall_f1(self.cm)[2]

    @property
    def support(self) -> np.ndarray:
        """(K,) number of true examples of each class."""
        return self.cm.sum(axis=1)

    @property
    def macro_f1(self) -> float:
        """Mean F1 over the classes that occur in the truth or the predictions."""
        return macro_f1(self.cm)

    def _by_label(self, values: np.ndarray) -> dict[str, float | None]:
        return {label: _json_float(v) for label, v in zip(self.labels, values, strict=True)}

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of ``rnnkit evaluate --json`` (classify); nan becomes ``None``.

        Returns
        -------
        dict
            ``accuracy``, ``per_class_accuracy`` {label: x}, ``confusion_matrix`` (list
            of lists, rows = true), ``labels``, ``n``, then ``precision``, ``recall``,
            ``f1`` ({label: x}) and ``macro_f1``.
        """
        precision, recall, f1, _ = precision_recall_f1(self.cm)
        return {
            "accuracy": _json_float(self.accuracy),
            "per_class_accuracy": self._by_label(self.per_class_accuracy),
            "confusion_matrix": self.cm.tolist(),
            "labels": list(self.labels),
            "n": self.n,
            "precision": self._by_label(precision),
            "recall": self._by_label(recall),
            "f1": self._by_label(f1),
            "macro_f1": _json_float(self.macro_f1),
        }

    def format(self, digits: int = 4) -> str:
        """Plain-text tables: the overall line, the per-class scores, the confusion matrix.

        Parameters
        ----------
        digits : int, default 4
            Decimals of every score; an undefined score (nan) shows as ``-``.

        Returns
        -------
        str
            Lines without trailing spaces, label columns left-aligned, numbers
            right-aligned, widths fitted to the longest label.
        """
        if digits < 0:
            raise ConfigError(f"digits: must be non-negative, got {digits}")
        precision, recall, f1, support = precision_recall_f1(self.cm)
        overall = (
            f"accuracy {format_score(self.accuracy, digits)}  n {self.n}  "
            f"macro F1 {format_score(self.macro_f1, digits)}"
        )
        scores = zip(self.per_class_accuracy, precision, recall, f1, strict=True)
        per_class = align_columns(
            ["label", "support", "accuracy", "precision", "recall", "f1"],
            [
                [label, str(s), *(format_score(x, digits) for x in xs)]
                for label, s, xs in zip(self.labels, support, scores, strict=True)
            ],
        )
        matrix = align_columns(
            ["true \\ predicted", *self.labels],
            [
                [label, *map(str, row)]
                for label, row in zip(self.labels, self.cm.tolist(), strict=True)
            ],
        )
        return "\n".join([overall, "", *per_class, "", *matrix])
