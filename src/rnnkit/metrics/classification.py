"""Classification metrics from integer class ids: accuracy, confusion matrix, P/R/F1.

Every function takes integer class ids ``0 .. K-1``. ``y_true`` and ``y_pred`` may have
any shape, as long as it is the same: (N,) for sequence classification, (B, T) for
per-token labelling. The optional boolean ``mask`` of the same shape selects the real
positions, so padding never reaches a metric.

The per-class scores are read off the confusion matrix ``cm`` (rows = true class,
columns = predicted class), so a report computes the matrix once:

- recall (per-class accuracy) of class k: ``cm[k, k] / cm[k, :].sum()``
- precision of class k: ``cm[k, k] / cm[:, k].sum()``
- F1 of class k: ``2 tp / (2 tp + fp + fn)``, the harmonic mean of the two

>>> import numpy as np
>>> y_true = np.array([1, 0, 0, 0, 1, 1])
>>> y_pred = np.array([1, 0, 1, 0, 1, 0])
>>> round(accuracy(y_true, y_pred), 4)
0.6667
>>> cm = confusion_matrix(y_true, y_pred, n_classes=2)
>>> cm
array([[2, 1],
       [1, 2]])
>>> precision, recall, f1, support = precision_recall_f1(cm)
>>> f1.round(4), support
(array([0.6667, 0.6667]), array([3, 3]))
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from rnnkit.errors import ConfigError, DataError, ShapeError

__all__ = [
    "accuracy",
    "confusion_matrix",
    "macro_f1",
    "per_class_accuracy",
    "precision_recall_f1",
]


def _as_ids(y: ArrayLike, name: str) -> np.ndarray:
    """Return ``y`` as an int64 array, refusing floats and other non-integer dtypes."""
    arr = np.asarray(y)
    if arr.size == 0 and arr.dtype.kind == "f":
        arr = arr.astype(np.int64)  # an empty list arrives as float64
    if arr.dtype.kind not in "iub":
        raise ShapeError(f"{name}: expected integer class ids, got dtype {arr.dtype}")
    return arr.astype(np.int64, copy=False)


def _selected(
    y_true: ArrayLike, y_pred: ArrayLike, mask: ArrayLike | None
) -> tuple[np.ndarray, np.ndarray]:
    """Check shapes and return the flat ids of the positions ``mask`` keeps."""
    t = _as_ids(y_true, "y_true")
    p = _as_ids(y_pred, "y_pred")
    if t.shape != p.shape:
        raise ShapeError(f"y_pred: shape {p.shape} does not match y_true shape {t.shape}")
    if mask is None:
        return t.ravel(), p.ravel()
    m = np.asarray(mask)
    if m.dtype != np.bool_:
        raise ShapeError(f"mask: expected a boolean array, got dtype {m.dtype}")
    if m.shape != t.shape:
        raise ShapeError(f"mask: shape {m.shape} does not match y_true shape {t.shape}")
    return t[m], p[m]


def _check_cm(cm: ArrayLike) -> np.ndarray:
    """Return ``cm`` as a float64 (K, K) array after checking it is a count matrix."""
    arr = np.asarray(cm)
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1] or arr.shape[0] == 0:
        raise ShapeError(f"cm: expected a non-empty square (K, K) matrix, got shape {arr.shape}")
    if arr.dtype.kind not in "iuf" or np.any(arr < 0):
        raise DataError("cm: expected non-negative counts")
    return arr.astype(np.float64)


def _ratio(num: np.ndarray, den: np.ndarray, undefined: float) -> np.ndarray:
    """``num / den`` elementwise, ``undefined`` where ``den == 0`` (and no warning)."""
    out = np.full(num.shape, undefined, dtype=np.float64)
    np.divide(num, den, out=out, where=den != 0)
    return out


def accuracy(y_true: ArrayLike, y_pred: ArrayLike, mask: ArrayLike | None = None) -> float:
    """Fraction of (selected) positions where the prediction equals the truth.

    Parameters
    ----------
    y_true, y_pred : array of int, any shape, the same for both
        True and predicted class ids, e.g. (N,) or (B, T).
    mask : array of bool, same shape, optional
        True at the positions to score; padding is False.

    Returns
    -------
    float
        ``mean(y_true == y_pred)`` over the selected positions.

    Raises
    ------
    DataError
        If no position is selected.

    Examples
    --------
    >>> accuracy([[1, 2, 0], [2, 2, 0]], [[1, 0, 9], [2, 2, 9]],
    ...          mask=[[True, True, False], [True, True, False]])
    0.75
    """
    t, p = _selected(y_true, y_pred, mask)
    if t.size == 0:
        raise DataError("y_true: no positions to score (empty, or all masked out)")
    return float(np.mean(t == p))


def confusion_matrix(
    y_true: ArrayLike, y_pred: ArrayLike, n_classes: int, mask: ArrayLike | None = None
) -> np.ndarray:
    """Count matrix of (true class, predicted class) pairs.

    Parameters
    ----------
    y_true, y_pred : array of int, any shape, the same for both
        Class ids in ``0 .. n_classes - 1``.
    n_classes : int
        K, the number of classes; classes that never occur still get a row and column.
    mask : array of bool, same shape, optional
        True at the positions to count.

    Returns
    -------
    cm : ndarray of int64, shape (K, K)
        ``cm[i, j]`` = number of positions with true class i predicted as j
        (rows = true, columns = predicted, as in scikit-learn).

    Examples
    --------
    >>> confusion_matrix([0, 1, 2, 2], [0, 2, 2, 2], n_classes=3)
    array([[1, 0, 0],
           [0, 0, 1],
           [0, 0, 2]])
    """
    if isinstance(n_classes, bool) or not isinstance(n_classes, (int, np.integer)):
        raise ConfigError(f"n_classes: expected an int, got {type(n_classes).__name__}")
    if n_classes < 1:
        raise ConfigError(f"n_classes: must be at least 1, got {n_classes}")
    t, p = _selected(y_true, y_pred, mask)
    for name, ids in (("y_true", t), ("y_pred", p)):
        if ids.size and (ids.min() < 0 or ids.max() >= n_classes):
            bad = ids[(ids < 0) | (ids >= n_classes)][0]
            raise DataError(f"{name}: class id {bad} outside 0..{n_classes - 1}")
    k = int(n_classes)
    # NOTE: one bincount over the pair index i*K + j; no Python loop over examples.
    counts = np.bincount(t * k + p, minlength=k * k)
    return counts.reshape(k, k).astype(np.int64, copy=False)


def per_class_accuracy(cm: ArrayLike) -> np.ndarray:
    """Accuracy within each true class (its recall), read off a confusion matrix.

    Parameters
    ----------
    cm : array of int, shape (K, K)
        Confusion matrix, rows = true class.

    Returns
    -------
    ndarray of float64, shape (K,)
        ``cm[k, k] / cm[k, :].sum()``; ``nan`` for a class with no true examples.

    Examples
    --------
    >>> per_class_accuracy([[3, 1, 0], [0, 0, 0], [1, 1, 2]])
    array([0.75, nan, 0.5 ])
    """
    m = _check_cm(cm)
    return _ratio(np.diag(m), m.sum(axis=1), undefined=np.nan)


def precision_recall_f1(
    cm: ArrayLike,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per-class precision, recall, F1 and support from a confusion matrix.

    Parameters
    ----------
    cm : array of int, shape (K, K)
        Confusion matrix, rows = true class, columns = predicted class.

    Returns
    -------
    precision, recall, f1 : ndarray of float64, shape (K,)
        0 where a score is undefined (a class never predicted has precision 0, a class
        never true has recall 0), as scikit-learn's ``zero_division=0``.
    support : ndarray of int64, shape (K,)
        Number of true examples of each class.

    Notes
    -----
    With ``tp = cm[k, k]``, ``fp = cm[:, k].sum() - tp``, ``fn = cm[k, :].sum() - tp``:
    precision = tp / (tp + fp), recall = tp / (tp + fn), F1 = 2 tp / (2 tp + fp + fn).

    Examples
    --------
    >>> p, r, f1, support = precision_recall_f1([[2, 0], [2, 0]])
    >>> p, r, f1.round(4), support
    (array([0.5, 0. ]), array([1., 0.]), array([0.6667, 0.    ]), array([2, 2]))
    """
    m = _check_cm(cm)
    tp = np.diag(m)
    predicted = m.sum(axis=0)  # tp + fp
    true = m.sum(axis=1)  # tp + fn
    precision = _ratio(tp, predicted, undefined=0.0)
    recall = _ratio(tp, true, undefined=0.0)
    f1 = _ratio(2.0 * tp, predicted + true, undefined=0.0)
    return precision, recall, f1, true.astype(np.int64)


def macro_f1(cm: ArrayLike) -> float:
    """Unweighted mean of the per-class F1 over the classes that occur.

    A class counts if it occurs in the truth or in the predictions (a non-zero row or
    column); a class absent from both has no F1 to average. This matches
    ``sklearn.metrics.f1_score(y_true, y_pred, average="macro")``.

    Parameters
    ----------
    cm : array of int, shape (K, K)
        Confusion matrix, rows = true class.

    Returns
    -------
    float
        Macro-averaged F1; ``nan`` if the matrix is all zeros.

    Examples
    --------
    >>> round(macro_f1([[2, 0, 0], [2, 0, 0], [0, 0, 0]]), 4)
    0.3333
    """
    m = _check_cm(cm)
    _, _, f1, _ = precision_recall_f1(m)
    seen = (m.sum(axis=0) + m.sum(axis=1)) > 0
    if not seen.any():
        return float("nan")
    return float(f1[seen].mean())
