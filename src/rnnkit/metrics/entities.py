"""Entity-level scores for BIO and IOBES tags: a named entity counts only when found whole.

In BIO (IOB2) tagging, ``B-type`` begins an entity, ``I-type`` continues it, and ``O``
is outside every entity. IOBES (BIOES) adds ``E-type``, the last token of an entity of
two or more, and ``S-type``, an entity of one token; :func:`tag_scheme` tells the two
apart (a tag set with any ``E-`` or ``S-`` tag is IOBES). An entity is right only when
the prediction has the same type and the same first and last token: finding "New" but
not "York" of ``New York`` earns nothing. Precision is the fraction of predicted
entities that are right, recall the fraction of true entities found, F1 their harmonic
mean ``2 tp / (2 tp + fp + fn)``.

The spans follow conlleval and seqeval's default mode: an ``I-type`` that does not
continue an entity of the same type (after ``O``, at the start, or after another
type) begins a new entity, as if it were ``B-type``. In IOBES the same holds for
``E-type``, and an entity also ends after every ``E-`` and ``S-``: an ``I-`` or ``E-``
after an ``E-`` or ``S-`` begins a new entity, and an entity left open (``B-x I-x O``)
still counts, ending where the next tag does not continue it. seqeval reads both
schemes with one rule, so on tags with no ``E-`` or ``S-`` the IOBES spans are the
BIO spans.

>>> true = [["B-person", "I-person", "O", "B-location"]]
>>> pred = [["B-person", "O", "O", "B-location"]]
>>> sorted(bio_spans(true[0]))
[('location', 3, 4), ('person', 0, 2)]
>>> scores = entity_scores(true, pred)
>>> scores["precision"], scores["recall"], scores["f1"]
(0.5, 0.5, 0.5)
>>> sorted(iobes_spans(["B-person", "E-person", "O", "S-location"]))
[('location', 3, 4), ('person', 0, 2)]
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from rnnkit.errors import ConfigError, DataError, ShapeError

__all__ = ["bio_spans", "entity_scores", "iobes_spans", "is_bio", "tag_scheme"]

Span = tuple[str, int, int]
#: scheme name -> the prefixes of its entity tags
PREFIXES = {"BIO": ("B-", "I-"), "IOBES": ("B-", "I-", "E-", "S-")}
#: scheme name -> the tags it allows, in words (for messages)
IN_WORDS = {
    "BIO": "O, B-<type> or I-<type>",
    "IOBES": "O, B-<type>, I-<type>, E-<type> or S-<type>",
}


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
    return _is_tag(tag, "BIO")


def _is_tag(tag: str, scheme: str) -> bool:
    return tag == "O" or (tag[:2] in PREFIXES[scheme] and len(tag) > 2)


def tag_scheme(labels: Iterable[str]) -> str | None:
    """ "BIO" or "IOBES", the entity scheme of a tag set; None for tags of neither.

    Every label must be ``O`` or a prefix and a non-empty type. Only ``O``, ``B-`` and
    ``I-``: BIO (``is_bio`` is true for exactly these); some ``E-`` or ``S-`` besides:
    IOBES. An empty collection has no scheme.

    Examples
    --------
    >>> tag_scheme(["O", "B-person", "I-person"]), tag_scheme(["O", "S-person", "B-x", "E-x"])
    ('BIO', 'IOBES')
    >>> tag_scheme(["NOUN", "VERB"]), tag_scheme(["O", "E-"]), tag_scheme([])
    (None, None, None)
    """
    labels = list(labels)
    if not labels or not all(_is_tag(label, "IOBES") for label in labels):
        return None
    return "BIO" if all(_is_bio_tag(label) for label in labels) else "IOBES"


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
    return _spans(tags, "tags", "BIO")


def iobes_spans(tags: Sequence[str]) -> set[Span]:
    """The entities of one sentence's IOBES tags, as ``(type, start, end)`` spans.

    Parameters
    ----------
    tags : sequence of str, length T
        ``O``, ``B-<type>``, ``I-<type>``, ``E-<type>`` or ``S-<type>``, one per token.

    Returns
    -------
    set of (str, int, int)
        One ``(type, start, end)`` per entity, ``end`` exclusive, as :func:`bio_spans`.

    Raises
    ------
    DataError
        A tag that is not IOBES (a bare ``PER``, ``X-person``, ...).

    Notes
    -----
    Ill-formed tags are read as seqeval's default mode reads them: an ``I-`` or ``E-``
    that does not continue an open entity of its type (after ``O``, ``E-``, ``S-``,
    another type, or at the start) begins one; ``E-`` and ``S-`` always end the
    entity they are in; an entity without its ``E-`` ends before the next tag that
    does not continue it (``O``, ``B-``, ``S-``, another type) or at the sentence end.

    Examples
    --------
    >>> sorted(iobes_spans(["B-a", "I-a", "E-a", "S-a", "E-a", "I-a", "O"]))
    [('a', 0, 3), ('a', 3, 4), ('a', 4, 5), ('a', 5, 6)]
    """
    return _spans(tags, "tags", "IOBES")


def _spans(tags: Sequence[str], name: str, scheme: str) -> set[Span]:
    """:func:`bio_spans` or :func:`iobes_spans`; ``name`` is what a message calls ``tags``."""
    spans: set[Span] = set()
    start, kind = 0, None  # the open entity's first token and type (None: no entity)
    for i, tag in enumerate(tags):
        if not _is_tag(tag, scheme):
            article = "an" if scheme == "IOBES" else "a"
            raise DataError(
                f"{name}[{i}]: {tag!r} is not {article} {scheme} tag ({IN_WORDS[scheme]})"
            )
        continues = tag[:2] in ("I-", "E-") and tag[2:] == kind
        if kind is not None and not continues:
            spans.add((kind, start, i))
            kind = None
        if tag != "O" and not continues:
            start, kind = i, tag[2:]
        if tag[:2] in ("E-", "S-"):  # NOTE: never in BIO, where only the next tag ends one
            spans.add((tag[2:], start, i + 1))
            kind = None
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
    true_seqs: Sequence[Sequence[str]],
    pred_seqs: Sequence[Sequence[str]],
    scheme: str | None = None,
) -> dict[str, Any]:
    """Micro-averaged and per-type entity precision, recall and F1 over sentences.

    Parameters
    ----------
    true_seqs, pred_seqs : sequence of sequence of str
        The true and predicted BIO or IOBES tags of each sentence; sentence i has the
        same length in both. Entities never cross a sentence boundary.
    scheme : {"BIO", "IOBES"}, optional
        How to read the tags. By default, :func:`tag_scheme` of the true and predicted
        tags together: IOBES when either side has an ``E-`` or ``S-`` tag, else BIO.

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
        A tag that is not of the scheme (not BIO when ``scheme`` is None and no tag is
        ``E-`` or ``S-``; not IOBES when some is).
    ConfigError
        A ``scheme`` other than "BIO" or "IOBES".

    Examples
    --------
    >>> s = entity_scores([["B-group", "I-group"], ["O"]], [["B-group", "B-group"], ["O"]])
    >>> s["f1"], s["support"], s["predicted"], s["per_type"]["group"]["correct"]
    (0.0, 1, 2, 0)
    >>> entity_scores([["B-group", "E-group"]], [["S-group", "S-group"]])["predicted"]
    2
    """
    if scheme is None:
        scheme = _scheme_of(true_seqs, pred_seqs)
    elif scheme not in PREFIXES:
        raise ConfigError(f"scheme={scheme!r}: use 'BIO' or 'IOBES'")
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
        true_spans = _spans(true, f"true_seqs[{i}]", scheme)
        pred_spans = _spans(pred, f"pred_seqs[{i}]", scheme)
        true_count.update(kind for kind, _, _ in true_spans)
        pred_count.update(kind for kind, _, _ in pred_spans)
        correct_count.update(kind for kind, _, _ in true_spans & pred_spans)
    types = sorted(set(true_count) | set(pred_count))
    total = _scores(sum(correct_count.values()), sum(true_count.values()), sum(pred_count.values()))
    per_type = {t: _scores(correct_count[t], true_count[t], pred_count[t]) for t in types}
    return {**total, "per_type": per_type}


def _scheme_of(*sides: Sequence[Sequence[str]]) -> str:
    """IOBES when some tag of `sides` is ``E-`` or ``S-``, else BIO (a tag of neither is
    refused later, with its place)."""
    iobes = any(t[:2] in ("E-", "S-") for seqs in sides for seq in seqs for t in seq)
    return "IOBES" if iobes else "BIO"
