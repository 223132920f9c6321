"""Entity-level scores for BIO tags: a named entity counts only when found whole.

In BIO (IOB2) tagging, ``B-type`` begins an entity, ``I-type`` continues it, and ``O``
is outside every entity. An entity is right only when the prediction has the same type
and the same first and last token: finding "New" but not "York" of ``New York`` earns
nothing. Precision is the fraction of predicted entities that are right, recall the
fraction of true entities found, F1 their harmonic mean ``2 tp / (2 tp + fp + fn)``.

The spans follow conlleval and seqeval's default mode: an ``I-type`` that does not
continue an entity of the same type (after ``O``, at the start, or after another
type) begins a new entity, as if it were ``B-type``.

>>> true = [["B-person", "I-person", "O", "B-location"]]
>>> pred = [["B-person", "O", "O", "B-location"]]
>>> sorted(bio_spans(true[0]))
[('location', 3, 4), ('person', 0, 2)]
>>> scores = entity_scores(true, pred)
>>> scores["precision"], scores["recall"], scores["f1"]
(0.5, 0.5, 0.5)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from rnnkit.errors import DataError, ShapeError

__all__ = ["bio_spans", "entity_scores", "is_bio"]

Span = tuple[str, int, int]


def is_bio(labels: Iterable[str]) -> bool:
    """Whether every label is ``O`` or ``B-<type>`` / ``I-<type>`` with a non-empty type.

    An empty collection of labels is not a BIO tag set.

    Examples
    --------
    >>> is_bio(["O", "B-person", "I-person"]), is_bio(["NOUN", "VERB"]), is_bio(["O", "B-"])
    (True, False, False)
    """
    labels = list(labels)
    return bool(labels) and all(_is_bio_tag(label) for label in labels)


def _is_bio_tag(tag: str) -> bool:
    return tag == "O" or (tag[:2] in ("B-", "I-") and len(tag) > 2)


def bio_spans(tags: Sequence[str]) -> set[Span]:
    """The entities of one sentence's BIO tags, as ``(type, start, end)`` spans.

    Parameters
    ----------
    tags : sequence of str, length T
        ``O``, ``B-<type>`` or ``I-<type>``, one per token.

    Returns
    -------
    set of (str, int, int)
        One ``(type, start, end)`` per entity, ``end`` exclusive: the entity's tokens
        are ``tokens[start:end]``.

    Raises
    ------
    DataError
        A tag that is not BIO (IOBES ``E-``/``S-``, a bare ``PER``, ...).

    Examples
    --------
    An ``I-`` with nothing of its type before it starts an entity:

    >>> sorted(bio_spans(["I-group", "I-group", "B-group", "I-person", "O"]))
    [('group', 0, 2), ('group', 2, 3), ('person', 3, 4)]
    """
    return _spans(tags, "tags")


def _spans(tags: Sequence[str], name: str) -> set[Span]:
    """:func:`bio_spans`; ``name`` is what a message calls ``tags``."""
    spans: set[Span] = set()
    start, kind = 0, None  # the open entity's first token and type (None: no entity)
    for i, tag in enumerate(tags):
        if not _is_bio_tag(tag):
            raise DataError(f"{name}[{i}]: {tag!r} is not a BIO tag (O, B-<type> or I-<type>)")
        continues = tag[:2] == "I-" and tag[2:] == kind
        if kind is not None and not continues:
            spans.add((kind, start, i))
            kind = None
        if tag != "O" and not continues:
            start, kind = i, tag[2:]
    if kind is not None:
        spans.add((kind, start, len(tags)))
    return spans


def _ratio(num: int, den: int) -> float:
    """``num / den``, 0 when ``den`` is 0 (scikit-learn's and seqeval's zero_division=0)."""
    return num / den if den else 0.0


def _scores(correct: int, true: int, predicted: int) -> dict[str, Any]:
    return {
        "precision": _ratio(correct, predicted),
        "recall": _ratio(correct, true),
        "f1": _ratio(2 * correct, true + predicted),
        "support": true,
        "predicted": predicted,
        "correct": correct,
    }


def entity_scores(
    true_seqs: Sequence[Sequence[str]], pred_seqs: Sequence[Sequence[str]]
) -> dict[str, Any]:
    """Micro-averaged and per-type entity precision, recall and F1 over sentences.

    Parameters
    ----------
    true_seqs, pred_seqs : sequence of sequence of str
        The true and predicted BIO tags of each sentence; sentence i has the same
        length in both. Entities never cross a sentence boundary.

    Returns
    -------
    dict
        ``precision``, ``recall``, ``f1`` (micro: every entity counts once),
        ``support`` (true entities), ``predicted``, ``correct``, and ``per_type``:
        {type: the same six keys}, types sorted, every type seen in either side.
        An undefined ratio (nothing predicted, nothing true) is 0.

    Raises
    ------
    ShapeError
        A different number of sentences, or a sentence of different lengths.
    DataError
        A tag that is not BIO.

    Examples
    --------
    >>> s = entity_scores([["B-group", "I-group"], ["O"]], [["B-group", "B-group"], ["O"]])
    >>> s["f1"], s["support"], s["predicted"], s["per_type"]["group"]["correct"]
    (0.0, 1, 2, 0)
    """
    if len(pred_seqs) != len(true_seqs):
        raise ShapeError(
            f"pred_seqs: {len(pred_seqs)} sentences, but true_seqs has {len(true_seqs)}"
        )
    true_count: Counter[str] = Counter()
    pred_count: Counter[str] = Counter()
    correct_count: Counter[str] = Counter()
    for i, (true, pred) in enumerate(zip(true_seqs, pred_seqs, strict=True)):
        if len(pred) != len(true):
            raise ShapeError(f"pred_seqs[{i}]: {len(pred)} tags for a sentence of {len(true)}")
        true_spans = _spans(true, f"true_seqs[{i}]")
        pred_spans = _spans(pred, f"pred_seqs[{i}]")
        true_count.update(kind for kind, _, _ in true_spans)
        pred_count.update(kind for kind, _, _ in pred_spans)
        correct_count.update(kind for kind, _, _ in true_spans & pred_spans)
    types = sorted(set(true_count) | set(pred_count))
    total = _scores(sum(correct_count.values()), sum(true_count.values()), sum(pred_count.values()))
    per_type = {t: _scores(correct_count[t], true_count[t], pred_count[t]) for t in types}
    return {**total, "per_type": per_type}
