"""A labelling report: scores of a tagger over real tokens, and over entities for BIO or IOBES tags.

:class:`LabellingReport` scores one tag per token (POS tagging, NER). Token-level
figures come from a :class:`~rnnkit.metrics.report.ClassificationReport` over the real
tokens only (padding never counts): accuracy, per-tag accuracy, the confusion matrix,
per-tag precision, recall and F1, macro-F1. When the labels are BIO (every label ``O``,
``B-<type>`` or ``I-<type>``) or IOBES (``E-<type>`` and ``S-<type>`` besides),
entity-level precision, recall and F1 are added
(:func:`~rnnkit.metrics.entities.entity_scores`, in the labels' scheme).
:meth:`LabellingReport.to_dict` is what ``rnnkit evaluate --json`` prints for the tag
task.

A gold tag outside the label set (a tag the model never saw in training) cannot be
predicted: such tokens are counted in ``unknown_tags``, get a row of their own in the
confusion matrix (``<unknown>``, never predicted) and are scored as errors.

>>> report = LabellingReport.from_sequences(
...     [["B-person", "I-person", "O"], ["B-location", "O"]],
...     [["B-person", "O", "O"], ["B-location", "O"]],
...     labels=["O", "B-person", "I-person", "B-location"])
>>> round(report.accuracy, 4), report.n, round(report.entity_f1, 4)
(0.8, 5, 0.5)
>>> print(report.format(digits=2))
accuracy 0.80  n 5  macro F1 0.70
<BLANKLINE>
label       support  accuracy  precision  recall    f1
O                 2      1.00       0.67    1.00  0.80
B-person          1      1.00       1.00    1.00  1.00
I-person          1      0.00       0.00    0.00  0.00
B-location        1      1.00       1.00    1.00  1.00
<BLANKLINE>
true \\ predicted  O  B-person  I-person  B-location
O                 2         0         0           0
B-person          0         1         0           0
I-person          1         0         0           0
B-location        0         0         0           1
<BLANKLINE>
entity    support  predicted  correct  precision  recall    f1
location        1          1        1       1.00    1.00  1.00
person          1          1        0       0.00    0.00  0.00
(all)           2          2        1       0.50    0.50  0.50
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from rnnkit.errors import ConfigError, DataError, ShapeError, VocabularyError
from rnnkit.metrics.entities import entity_scores, tag_scheme
from rnnkit.metrics.report import ClassificationReport, align_columns, format_score

__all__ = ["UNKNOWN_TAG", "LabellingReport"]

#: the confusion-matrix label of gold tags outside the label set
UNKNOWN_TAG = "<unknown>"


@dataclass(frozen=True, eq=False)
class LabellingReport:
    """Scores of a tagger on one data set: tokens, and entities when the tags are BIO or IOBES.

    Build it with :meth:`from_sequences` (tag strings) or :meth:`from_ids` (padded
    id arrays and a mask).

    Parameters
    ----------
    tokens : ClassificationReport
        Token-level scores over real tokens. When some gold tags were outside the label
        set, its last class is :data:`UNKNOWN_TAG` (their row; never predicted).
    unknown_tags : int
        Number of tokens whose gold tag is outside the label set.
    entities : dict or None
        :func:`~rnnkit.metrics.entities.entity_scores` of the sentences when the labels
        are BIO or IOBES (:func:`~rnnkit.metrics.entities.tag_scheme`), else None.
    """

    tokens: ClassificationReport
    unknown_tags: int = 0
    entities: dict[str, Any] | None = None

    @classmethod
    def from_sequences(
        cls,
        true_tag_seqs: Sequence[Sequence[str]],
        pred_tag_seqs: Sequence[Sequence[str]],
        labels: Sequence[str],
    ) -> LabellingReport:
        """Build the report from the true and predicted tags of each sentence.

        Parameters
        ----------
        true_tag_seqs, pred_tag_seqs : sequence of sequence of str
            One tag per token; sentence i has the same length in both.
        labels : sequence of str, length K
            The tags the model can predict, in class-id order.

        Raises
        ------
        ShapeError
            A different number of sentences, or a sentence of different lengths.
        VocabularyError
            A predicted tag outside ``labels`` (a gold one is counted as unknown).
        """
        labels = _check_labels(labels)
        _check_pairs(true_tag_seqs, pred_tag_seqs)
        index = {label: k for k, label in enumerate(labels)}
        for i, seq in enumerate(pred_tag_seqs):
            for j, tag in enumerate(seq):
                if tag not in index:
                    raise VocabularyError(f"pred_tag_seqs[{i}][{j}]: {tag!r} is not a label")
        y_true = np.array([index.get(t, -1) for seq in true_tag_seqs for t in seq], np.int64)
        y_pred = np.array([index[t] for seq in pred_tag_seqs for t in seq], np.int64)
        entities = None
        scheme = tag_scheme(labels)
        if scheme is not None:
            # NOTE: an unknown gold tag of the labels' scheme (B-newtype) stays, so its
            # entity is missed; one that is not (MISC; S-x for BIO labels) cannot be
            # part of an entity: O.
            true_tags = [
                [t if _in_scheme(t, scheme) else "O" for t in seq] for seq in true_tag_seqs
            ]
            entities = entity_scores(true_tags, pred_tag_seqs, scheme=scheme)
        return cls._build(y_true, y_pred, labels, entities)

    @classmethod
    def from_ids(
        cls,
        y_true: ArrayLike,
        y_pred: ArrayLike,
        labels: Sequence[str],
        mask: ArrayLike | None = None,
    ) -> LabellingReport:
        """Build the report from padded arrays of tag ids.

        Parameters
        ----------
        y_true, y_pred : array of int, shape (B, T)
            Gold and predicted tag ids, one sentence per row. A gold id outside
            ``0 .. K-1`` (for instance -1) marks a tag outside the label set.
        labels : sequence of str, length K
        mask : array of bool, shape (B, T), optional
            True at real tokens; padding is False. By default every position is real.

        Notes
        -----
        The name of an unknown gold tag is not in the arrays, so for entity scores it
        counts as ``O`` here; :meth:`from_sequences` keeps it.

        Examples
        --------
        >>> r = LabellingReport.from_ids([[1, 2, 0], [-1, 0, 0]], [[1, 2, 0], [1, 0, 2]],
        ...                              labels=["O", "B-x", "I-x"],
        ...                              mask=[[True, True, True], [True, True, False]])
        >>> r.n, r.unknown_tags, r.labels, round(r.accuracy, 4)
        (5, 1, ['O', 'B-x', 'I-x', '<unknown>'], 0.8)
        """
        labels = _check_labels(labels)
        t, p, m = _check_ids(y_true, y_pred, mask, len(labels))
        known = (t >= 0) & (t < len(labels))
        entities = None
        scheme = tag_scheme(labels)
        if scheme is not None:
            tags = np.array([*labels, "O"], dtype=object)  # id K: an unknown gold tag
            gold = np.where(known, t, len(labels))
            true_seqs = [list(tags[row[r]]) for row, r in zip(gold, m, strict=True)]
            pred_seqs = [list(tags[row[r]]) for row, r in zip(p, m, strict=True)]
            entities = entity_scores(true_seqs, pred_seqs, scheme=scheme)
        return cls._build(np.where(known, t, -1)[m], p[m], labels, entities)

    @classmethod
    def _build(
        cls,
        y_true: np.ndarray,
        y_pred: np.ndarray,
        labels: list[str],
        entities: dict[str, Any] | None,
    ) -> LabellingReport:
        """The report from flat ids of real tokens; a gold id of -1 is an unknown tag."""
        unknown = y_true < 0
        n_unknown = int(unknown.sum())
        if n_unknown == 0:
            tokens = ClassificationReport.from_predictions(y_true, y_pred, labels)
        else:
            name = UNKNOWN_TAG
            while name in labels:  # NOTE: a label set may hold "<unknown>" itself
                name = f"<{name}>"
            y_true = np.where(unknown, len(labels), y_true)
            tokens = ClassificationReport.from_predictions(y_true, y_pred, [*labels, name])
        return cls(tokens=tokens, unknown_tags=n_unknown, entities=entities)

    @property
    def cm(self) -> np.ndarray:
        """(K, K) confusion matrix over real tokens (K + 1 with unknown gold tags)."""
        return self.tokens.cm

    @property
    def labels(self) -> list[str]:
        """The confusion matrix's labels: the label set, then ``<unknown>`` if needed."""
        return self.tokens.labels

    @property
    def n(self) -> int:
        """Number of real tokens scored, unknown gold tags included."""
        return self.tokens.n

    @property
    def accuracy(self) -> float:
        """Token accuracy; a token with an unknown gold tag is always wrong."""
        return self.tokens.accuracy

    @property
    def per_class_accuracy(self) -> np.ndarray:
        """(K,) accuracy within each gold tag (its recall); nan for a tag never true."""
        return self.tokens.per_class_accuracy

    @property
    def macro_f1(self) -> float:
        """Mean token-level F1 over the tags that occur in the truth or the predictions."""
        return self.tokens.macro_f1

    @property
    def entity_f1(self) -> float | None:
        """Micro-averaged entity F1; None when the labels are neither BIO nor IOBES."""
        return None if self.entities is None else float(self.entities["f1"])

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of ``rnnkit evaluate --json`` (tag); nan becomes ``None``.

        Returns
        -------
        dict
            The classify keys over real tokens (``accuracy``, ``per_class_accuracy``,
            ``confusion_matrix``, ``labels``, ``n``, ``precision``, ``recall``, ``f1``),
            ``macro_f1``, ``unknown_tags``, and when the labels are BIO or
            IOBES ``entity_precision``, ``entity_recall``, ``entity_f1`` and
            ``entity_per_type`` {type: {precision, recall, f1, support, predicted,
            correct}}.
        """
        out = {**self.tokens.to_dict(), "unknown_tags": self.unknown_tags}
        if self.entities is not None:
            for key in ("precision", "recall", "f1"):
                out[f"entity_{key}"] = float(self.entities[key])
            out["entity_per_type"] = {k: dict(v) for k, v in self.entities["per_type"].items()}
        return out

    def format(self, digits: int = 4) -> str:
        """The tables of :meth:`ClassificationReport.format`, the unknown-tag count when
        there are any, and the per-type entity table when the labels are BIO or IOBES."""
        lines = self.tokens.format(digits).split("\n")
        if self.unknown_tags:
            lines.insert(1, f"unknown gold tags {self.unknown_tags} (not among the labels; errors)")
        if self.entities is not None:
            rows = [*self.entities["per_type"].items(), ("(all)", self.entities)]
            lines += ["", *_entity_table(rows, digits)]
        return "\n".join(lines)


def _entity_table(rows: list[tuple[str, dict[str, Any]]], digits: int) -> list[str]:
    keys = ("support", "predicted", "correct", "precision", "recall", "f1")
    return align_columns(
        ["entity", *keys],
        [
            [name, *(str(s[k]) for k in keys[:3]), *(format_score(s[k], digits) for k in keys[3:])]
            for name, s in rows
        ],
    )


def _in_scheme(tag: str, scheme: str) -> bool:
    """Whether one tag is of `scheme`: IOBES tags of BIO labels are not."""
    return tag_scheme([tag]) in ("BIO", scheme)


def _check_labels(labels: Sequence[str]) -> list[str]:
    if isinstance(labels, str) or not all(isinstance(label, str) for label in labels):
        raise ConfigError("labels: expected a sequence of tag names (str)")
    if len(labels) == 0:
        raise ConfigError("labels: empty; a tagger has at least one tag")
    return list(labels)


def _check_pairs(true_seqs: Sequence[Sequence[str]], pred_seqs: Sequence[Sequence[str]]) -> None:
    if len(pred_seqs) != len(true_seqs):
        raise ShapeError(
            f"pred_tag_seqs: {len(pred_seqs)} sentences, but true_tag_seqs has {len(true_seqs)}"
        )
    for i, (true, pred) in enumerate(zip(true_seqs, pred_seqs, strict=True)):
        if len(pred) != len(true):
            raise ShapeError(f"pred_tag_seqs[{i}]: {len(pred)} tags for a sentence of {len(true)}")


def _check_ids(
    y_true: ArrayLike, y_pred: ArrayLike, mask: ArrayLike | None, n_labels: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(B, T) gold ids, predicted ids and boolean mask, after checking them."""
    t, p = np.asarray(y_true), np.asarray(y_pred)
    for name, arr in (("y_true", t), ("y_pred", p)):
        if arr.dtype.kind not in "iu":
            raise ShapeError(f"{name}: expected integer tag ids, got dtype {arr.dtype}")
    if t.ndim != 2 or p.shape != t.shape:
        raise ShapeError(f"y_true, y_pred: expected two (B, T) arrays, got {t.shape}, {p.shape}")
    m = np.ones(t.shape, dtype=bool) if mask is None else np.asarray(mask)
    if m.dtype != np.bool_ or m.shape != t.shape:
        raise ShapeError(
            f"mask: expected a boolean array of shape {t.shape}, got {m.dtype} {m.shape}"
        )
    bad = m & ((p < 0) | (p >= n_labels))
    if bad.any():
        raise DataError(f"y_pred: tag id {p[bad][0]} outside 0..{n_labels - 1}")
    return t.astype(np.int64), p.astype(np.int64), m
