"""ClassificationReport: the JSON keys of `evaluate --json`, the scores, the printed tables."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rnnkit.errors import ConfigError, ShapeError
from rnnkit.metrics import ClassificationReport, macro_f1, precision_recall_f1

CLASSIFY_KEYS = {"accuracy", "per_class_accuracy", "confusion_matrix", "labels", "n"}
EXTRA_KEYS = {"precision", "recall", "f1", "macro_f1"}


@pytest.fixture
def lecture_report(lecture_example) -> ClassificationReport:
    y_true, y_pred, labels = lecture_example
    return ClassificationReport.from_predictions(y_true, y_pred, labels=labels)


def test_lecture_example_scores(lecture_report: ClassificationReport) -> None:
    assert lecture_report.n == 6
    assert lecture_report.accuracy == pytest.approx(4 / 6, abs=1e-15)
    np.testing.assert_array_equal(lecture_report.cm, [[2, 1], [1, 2]])
    np.testing.assert_allclose(lecture_report.per_class_accuracy, [2 / 3, 2 / 3], atol=1e-15)
    np.testing.assert_array_equal(lecture_report.support, [3, 3])


def test_to_dict_has_exactly_the_design_keys(lecture_report: ClassificationReport) -> None:
    d = lecture_report.to_dict()
    assert set(d) == CLASSIFY_KEYS | EXTRA_KEYS
    assert d["labels"] == ["negative", "positive"]
    assert d["n"] == 6 and isinstance(d["n"], int)
    assert d["accuracy"] == pytest.approx(4 / 6)
    assert d["confusion_matrix"] == [[2, 1], [1, 2]]
    assert all(type(x) is int for row in d["confusion_matrix"] for x in row)
    for key in ("per_class_accuracy", "precision", "recall", "f1"):
        assert list(d[key]) == d["labels"]
        assert d[key]["negative"] == pytest.approx(2 / 3)
    assert d["macro_f1"] == pytest.approx(2 / 3)
    assert json.loads(json.dumps(d, allow_nan=False)) == d


def test_to_dict_is_json_safe_with_an_absent_class() -> None:
    # "neutral" never occurs in the truth: its accuracy is undefined, not 0.
    report = ClassificationReport.from_predictions(
        [0, 0, 2, 2], [0, 1, 2, 2], labels=["neg", "neutral", "pos"]
    )
    d = report.to_dict()
    assert d["per_class_accuracy"] == {"neg": 0.5, "neutral": None, "pos": 1.0}
    assert d["precision"]["neutral"] == 0.0 and d["recall"]["neutral"] == 0.0
    text = json.dumps(d, allow_nan=False)  # raises on nan
    assert json.loads(text)["per_class_accuracy"]["neutral"] is None


def test_scores_equal_the_functions(rng: np.random.Generator) -> None:
    labels = ["a", "b", "c", "d"]
    y_true = rng.integers(0, 4, size=(6, 9))  # (B, T)
    y_pred = rng.integers(0, 4, size=(6, 9))
    mask = rng.random((6, 9)) < 0.8
    report = ClassificationReport.from_predictions(y_true, y_pred, labels=labels, mask=mask)
    assert report.n == mask.sum()
    assert report.accuracy == pytest.approx(np.mean(y_true[mask] == y_pred[mask]), abs=1e-15)
    precision, recall, f1, support = precision_recall_f1(report.cm)
    np.testing.assert_array_equal(report.precision, precision)
    np.testing.assert_array_equal(report.recall, recall)
    np.testing.assert_array_equal(report.f1, f1)
    np.testing.assert_array_equal(report.support, support)
    assert report.macro_f1 == macro_f1(report.cm)


def test_format_lecture_example(lecture_report: ClassificationReport) -> None:
    assert lecture_report.format() == (
        "accuracy 0.6667  n 6  macro F1 0.6667\n"
        "\n"
        "label     support  accuracy  precision  recall      f1\n"
        "negative        3    0.6667     0.6667  0.6667  0.6667\n"
        "positive        3    0.6667     0.6667  0.6667  0.6667\n"
        "\n"
        "true \\ predicted  negative  positive\n"
        "negative                 2         1\n"
        "positive                 1         2"
    )


def test_format_widths_follow_the_longest_label_and_show_nan_as_dash() -> None:
    labels = ["a", "a much longer label", "zz"]
    report = ClassificationReport.from_predictions([0, 0, 1, 1, 1], [0, 1, 1, 1, 1], labels=labels)
    assert report.format(digits=2) == (
        "accuracy 0.80  n 5  macro F1 0.76\n"
        "\n"
        "label                support  accuracy  precision  recall    f1\n"
        "a                          2      0.50       1.00    0.50  0.67\n"
        "a much longer label        3      1.00       0.75    1.00  0.86\n"
        "zz                         0         -       0.00    0.00  0.00\n"
        "\n"
        "true \\ predicted     a  a much longer label  zz\n"
        "a                    1                    1   0\n"
        "a much longer label  0                    3   0\n"
        "zz                   0                    0   0"
    )


def test_format_right_aligns_large_counts() -> None:
    cm = np.array([[12345, 7], [0, 3]])
    lines = ClassificationReport(cm=cm, labels=["x", "y"]).format().splitlines()
    matrix = lines[lines.index("") + 1 :][lines[lines.index("") + 1 :].index("") + 1 :]
    assert matrix == [
        "true \\ predicted      x  y",
        "x                 12345  7",
        "y                     0  3",
    ]


@pytest.mark.parametrize(
    ("make", "error", "argument"),
    [
        (lambda: ClassificationReport(np.zeros((2, 3), np.int64), ["a", "b"]), ShapeError, "cm"),
        (lambda: ClassificationReport(np.zeros((2, 2)), ["a", "b"]), ShapeError, "cm"),
        (lambda: ClassificationReport(np.zeros((2, 2), np.int64), ["a"]), ShapeError, "labels"),
        (
            lambda: ClassificationReport(np.zeros((2, 2), np.int64), ["a", "a"]),
            ConfigError,
            "labels",
        ),
        (
            lambda: ClassificationReport.from_predictions([0, 2], [0, 1], ["a", "b"]),
            ValueError,
            "y_true",
        ),
    ],
)
def test_errors_name_the_argument(make, error: type[Exception], argument: str) -> None:
    with pytest.raises(error) as info:
        make()
    assert str(info.value).startswith(f"{argument}:") and "\n" not in str(info.value)


def test_empty_report_is_nan_not_an_error() -> None:
    report = ClassificationReport.from_predictions([0], [1], labels=["a", "b"], mask=[False])
    assert report.n == 0 and np.isnan(report.accuracy)
    d = report.to_dict()
    assert d["accuracy"] is None and d["macro_f1"] is None
    assert report.format().startswith("accuracy -  n 0  macro F1 -")
