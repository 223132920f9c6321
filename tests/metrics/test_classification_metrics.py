"""rnnkit.metrics.classification against scikit-learn, by hand, with masks and errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics as skm

from rnnkit.errors import ConfigError, DataError, RnnkitError, ShapeError
from rnnkit.metrics import (
    accuracy,
    confusion_matrix,
    macro_f1,
    per_class_accuracy,
    precision_recall_f1,
)


@st.composite
def predictions(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, int]:
    """Random (y_true, y_pred, K), K in 2..6, 1..60 examples (sklearn warns when K is 1)."""
    k = draw(st.integers(2, 6))
    n = draw(st.integers(1, 60))
    ids = st.lists(st.integers(0, k - 1), min_size=n, max_size=n)
    return np.array(draw(ids)), np.array(draw(ids)), k


@settings(deadline=None, max_examples=200)
@given(predictions())
def test_matches_sklearn(case: tuple[np.ndarray, np.ndarray, int]) -> None:
    y_true, y_pred, k = case
    labels = list(range(k))
    cm = confusion_matrix(y_true, y_pred, n_classes=k)
    assert cm.dtype == np.int64 and cm.shape == (k, k)
    np.testing.assert_array_equal(cm, skm.confusion_matrix(y_true, y_pred, labels=labels))
    assert accuracy(y_true, y_pred) == pytest.approx(skm.accuracy_score(y_true, y_pred), abs=1e-15)

    precision, recall, f1, support = precision_recall_f1(cm)
    expected = skm.precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=0, average=None
    )
    for ours, theirs in zip((precision, recall, f1, support), expected, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-12)
    assert support.dtype == np.int64

    sk_macro = skm.f1_score(y_true, y_pred, average="macro", zero_division=0)
    assert macro_f1(cm) == pytest.approx(sk_macro, abs=1e-12)

    per_class = per_class_accuracy(cm)
    has_truth = support > 0
    np.testing.assert_allclose(per_class[has_truth], recall[has_truth], rtol=0, atol=1e-15)
    assert np.isnan(per_class[~has_truth]).all()


def test_lecture_example(lecture_example: tuple[np.ndarray, np.ndarray, list[str]]) -> None:
    y_true, y_pred, _ = lecture_example
    assert accuracy(y_true, y_pred) == pytest.approx(4 / 6, abs=1e-15)
    cm = confusion_matrix(y_true, y_pred, n_classes=2)
    np.testing.assert_array_equal(cm, [[2, 1], [1, 2]])
    precision, recall, f1, support = precision_recall_f1(cm)
    np.testing.assert_allclose(precision, [2 / 3, 2 / 3], rtol=0, atol=1e-15)
    np.testing.assert_allclose(recall, [2 / 3, 2 / 3], rtol=0, atol=1e-15)
    np.testing.assert_allclose(f1, [2 / 3, 2 / 3], rtol=0, atol=1e-15)
    np.testing.assert_array_equal(support, [3, 3])


def test_mask_selects_positions_like_flattening(rng: np.random.Generator) -> None:
    k = 5
    y_true = rng.integers(0, k, size=(8, 12))  # (B, T) per-token labels
    y_pred = rng.integers(0, k, size=(8, 12))
    lengths = rng.integers(1, 13, size=8)
    mask = np.arange(12)[None, :] < lengths[:, None]  # (B, T)
    # Pads carry ids no class has: the mask must keep them away from every metric.
    y_true[~mask] = -1
    y_pred[~mask] = 99
    cm = confusion_matrix(y_true, y_pred, n_classes=k, mask=mask)
    flat_true, flat_pred = y_true[mask], y_pred[mask]
    np.testing.assert_array_equal(cm, skm.confusion_matrix(flat_true, flat_pred, labels=range(k)))
    assert cm.sum() == lengths.sum()
    assert accuracy(y_true, y_pred, mask=mask) == pytest.approx(
        skm.accuracy_score(flat_true, flat_pred), abs=1e-15
    )


def test_class_absent_from_truth_and_from_predictions() -> None:
    # Class 2 is never true; class 1 is never predicted; class 3 never occurs at all.
    y_true = np.array([0, 0, 1, 1, 0])
    y_pred = np.array([0, 2, 0, 0, 0])
    cm = confusion_matrix(y_true, y_pred, n_classes=4)
    per_class = per_class_accuracy(cm)
    assert per_class[0] == pytest.approx(2 / 3)
    assert per_class[1] == 0.0
    assert np.isnan(per_class[2]) and np.isnan(per_class[3])
    precision, recall, f1, support = precision_recall_f1(cm)
    # Class 0: tp 2, fp 2 (two 1s predicted as 0), fn 1 (a 0 predicted as 2).
    np.testing.assert_allclose(precision, [0.5, 0.0, 0.0, 0.0], rtol=0, atol=1e-15)
    np.testing.assert_allclose(recall, [2 / 3, 0.0, 0.0, 0.0], rtol=0, atol=1e-15)
    np.testing.assert_allclose(f1, [4 / 7, 0.0, 0.0, 0.0], rtol=0, atol=1e-15)
    np.testing.assert_array_equal(support, [3, 2, 0, 0])
    # Class 3 occurs nowhere, so it does not dilute the macro average; classes 0-2 do.
    assert macro_f1(cm) == pytest.approx(f1[:3].mean(), abs=1e-15)


def test_empty_matrix_macro_f1_is_nan() -> None:
    assert np.isnan(macro_f1(np.zeros((3, 3), dtype=np.int64)))


def test_single_class() -> None:
    cm = confusion_matrix([0, 0, 0], [0, 0, 0], n_classes=1)
    np.testing.assert_array_equal(cm, [[3]])
    assert macro_f1(cm) == 1.0 and per_class_accuracy(cm)[0] == 1.0


def test_bool_ids_and_lists_are_accepted() -> None:
    assert accuracy([True, False], [True, True]) == 0.5
    np.testing.assert_array_equal(confusion_matrix([1, 0], [1, 1], n_classes=2), [[0, 1], [0, 1]])


@pytest.mark.parametrize(
    ("call", "error", "argument"),
    [
        (lambda: accuracy([0, 1], [0, 1, 1]), ShapeError, "y_pred"),
        (lambda: accuracy([0.0, 1.0], [0, 1]), ShapeError, "y_true"),
        (lambda: accuracy([0, 1], [0, 1], mask=[1, 0]), ShapeError, "mask"),
        (lambda: accuracy([0, 1], [0, 1], mask=[True]), ShapeError, "mask"),
        (lambda: accuracy([0, 1], [0, 1], mask=[False, False]), DataError, "y_true"),
        (lambda: accuracy([], []), DataError, "y_true"),
        (lambda: confusion_matrix([0, 3], [0, 1], n_classes=3), DataError, "y_true"),
        (lambda: confusion_matrix([0, 1], [0, -1], n_classes=3), DataError, "y_pred"),
        (lambda: confusion_matrix([0], [0], n_classes=0), ConfigError, "n_classes"),
        (lambda: confusion_matrix([0], [0], n_classes=2.0), ConfigError, "n_classes"),
        (lambda: per_class_accuracy([[1, 2, 3]]), ShapeError, "cm"),
        (lambda: precision_recall_f1([[1, -1], [0, 1]]), DataError, "cm"),
        (lambda: macro_f1(np.zeros((0, 0))), ShapeError, "cm"),
    ],
)
def test_errors_name_the_argument(call, error: type[RnnkitError], argument: str) -> None:
    with pytest.raises(error) as info:
        call()
    message = str(info.value)
    assert message.startswith(f"{argument}:") and "\n" not in message


def test_inputs_are_not_modified(rng: np.random.Generator) -> None:
    y_true = rng.integers(0, 3, size=20)
    y_pred = rng.integers(0, 3, size=20)
    mask = rng.random(20) < 0.7
    copies = (y_true.copy(), y_pred.copy(), mask.copy())
    cm = confusion_matrix(y_true, y_pred, n_classes=3, mask=mask)
    cm_copy = cm.copy()
    precision_recall_f1(cm)
    per_class_accuracy(cm)
    macro_f1(cm)
    for before, after in zip(copies, (y_true, y_pred, mask), strict=True):
        np.testing.assert_array_equal(before, after)
    np.testing.assert_array_equal(cm, cm_copy)
