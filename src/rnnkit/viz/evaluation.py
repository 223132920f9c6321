"""The Evaluation section of the report: scores, confusion matrix and per-class tables.

A part's report is the JSON object ``rnnkit evaluate --json`` prints (a report's
``to_dict()``), whatever the task: a classifier's or tagger's holds a confusion
matrix and per-class scores, a language model's its loss and perplexity, a seq2seq
model's its exact match and token error rate, a regressor's its errors per output.
Single numbers go into one table; a confusion matrix is drawn and turned into the
per-class table; any other mapping (errors per output, scores per entity type)
becomes a table of its own.

>>> parts = {"test": {"data": "test.csv", "report": {"loss": 1.2, "perplexity": 3.3}}}
>>> body = evaluation_body(parts, lambda draw, alt: "")
>>> "<h3>test (test.csv)</h3>" in body, "perplexity" in body
(True, True)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from rnnkit.viz.html import esc, key_values, table
from rnnkit.viz.plots import plot_confusion_matrix

__all__ = ["CLASS_KEYS", "class_table", "evaluation_body", "part_body"]

#: the per-class mappings of a classification report, shown in the per-class table
CLASS_KEYS = ("per_class_accuracy", "precision", "recall", "f1")
#: what the per-class table and the confusion matrix are built from
MATRIX_KEYS = ("confusion_matrix", "labels")

Figure = Callable[[Callable[[Any], Any], str], str]


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, (int, float, str, bool))


def class_table(report: dict[str, Any]) -> str:
    """Support, accuracy, precision, recall and F1 of every class (rows = labels), from
    a report whose (K, K) confusion matrix matches its K labels."""
    labels = [str(label) for label in report["labels"]]
    support = np.asarray(report["confusion_matrix"]).sum(axis=1)  # (K,) true examples
    rows = []
    for label, n in zip(labels, support.tolist(), strict=True):
        scores = [_get(report.get(key), label) for key in CLASS_KEYS]
        rows.append([label, int(n), *scores])
    return table(["label", "support", "accuracy", "precision", "recall", "f1"], rows)


def _get(mapping: Any, key: str) -> Any:
    return mapping.get(key) if isinstance(mapping, dict) else None


def _has_matrix(report: dict[str, Any]) -> bool:
    cm, labels = report.get("confusion_matrix"), report.get("labels")
    if not isinstance(cm, list) or not isinstance(labels, list) or not labels:
        return False
    matrix = np.asarray(cm)
    return matrix.shape == (len(labels), len(labels)) and matrix.dtype.kind in "iuf"


def _mapping_table(name: str, value: dict[str, Any]) -> str:
    """A mapping that is not per class: {key: number} or {key: {column: number}}."""
    if all(isinstance(v, dict) for v in value.values()):
        columns = sorted({c for v in value.values() for c in v})
        rows = [[k, *(_plain(v.get(c)) for c in columns)] for k, v in value.items()]
        return f"<h4>{esc(name)}</h4>\n" + table([name, *columns], rows)
    return f"<h4>{esc(name)}</h4>\n" + table([name, "value"], [
        (k, _plain(v)) for k, v in value.items()
    ])  # fmt: skip


def _plain(value: Any) -> Any:
    return value if _scalar(value) else str(value)


def part_body(report: dict[str, Any], figure: Figure) -> str:
    """One part: its single numbers, its confusion matrix and per-class table, then any
    other mapping it holds."""
    out = [key_values((k, v) for k, v in report.items() if _scalar(v))]
    handled = set(CLASS_KEYS + MATRIX_KEYS) if _has_matrix(report) else set()
    if handled:
        cm, labels = np.asarray(report["confusion_matrix"]), list(map(str, report["labels"]))
        out.append(figure(lambda png: plot_confusion_matrix(cm, labels, png), "confusion matrix"))
        out.append(class_table(report))
    for key, value in report.items():
        if key not in handled and isinstance(value, dict) and value:
            out.append(_mapping_table(key, value))
    return "\n".join(out)


def evaluation_body(parts: dict[str, Any], figure: Figure) -> str:
    """Every part (``{name: {"data": path, "report": dict}}``) under its own heading.

    `figure(draw, alt)` turns a function that draws a PNG at a path into HTML (an
    embedded image, or a sentence saying why there is none).
    """
    out = []
    for name, part in parts.items():
        part = part if isinstance(part, dict) else {}
        data = part.get("data")
        heading = esc(name) + (f" ({esc(data)})" if data else "")
        report = part.get("report")
        body = part_body(report, figure) if isinstance(report, dict) else "<p>no report</p>"
        out.append(f"<h3>{heading}</h3>\n{body}")
    return "\n".join(out)
