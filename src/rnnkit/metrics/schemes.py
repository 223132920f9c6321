"""Converting entity tags between BIO and IOBES, entity for entity.

BIO marks where an entity begins (``B-``) and that it goes on (``I-``); where it ends
is left to the next tag. IOBES says it at the token itself: ``E-`` is the last token
of an entity of two or more, ``S-`` an entity of a single token. A tagger that learns
IOBES tags must decide, at every token, whether the entity stops there, which BIO
never asks of it; Lample et al. (2016) and Ratinov and Roth (2009) found taggers
learn entities better that way. The two schemes hold the same entities, so a tagger
can learn BIO tags as IOBES and give its predictions back in BIO.

Both directions keep every entity as :func:`~rnnkit.metrics.bio_spans` and
:func:`~rnnkit.metrics.iobes_spans` read it (seqeval's default mode): the spans of
the converted tags are the spans of the given ones, ill-formed tags included (an
``I-x`` after ``O`` begins an entity, and becomes ``B-x`` or ``S-x``).

>>> bio_to_iobes(["B-person", "I-person", "O", "B-location", "I-group"])
['B-person', 'E-person', 'O', 'S-location', 'S-group']
>>> iobes_to_bio(["B-person", "E-person", "O", "S-location", "S-location"])
['B-person', 'I-person', 'O', 'B-location', 'B-location']
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rnnkit.metrics.entities import iobes_spans, is_bio

__all__ = ["bio_labels", "bio_to_iobes", "iobes_to_bio"]


def bio_to_iobes(tags: Sequence[str]) -> list[str]:
    """One sentence's BIO tags in IOBES, with the same entities.

    Parameters
    ----------
    tags : sequence of str, length T
        One tag per token. ``O`` and any tag that is not ``B-<type>`` or ``I-<type>``
        (a tag of no scheme, such as one read from a damaged file) stay as they are
        and end an open entity, as ``O`` does.

    Returns
    -------
    list of str, length T
        The first token of an entity of two or more tokens ``B-``, its last ``E-``,
        those between ``I-``; an entity of one token ``S-``.

    Examples
    --------
    >>> bio_to_iobes(["I-group", "I-group", "B-group", "O", "B-person"])
    ['B-group', 'E-group', 'S-group', 'O', 'S-person']
    """
    out = list(tags)
    entity = [tag != "O" and is_bio([tag]) for tag in tags]
    for t, tag in enumerate(tags):
        if not entity[t]:
            continue
        kind = tag[2:]
        # an I-x continues only an entity of type x open at t - 1 (any B-/I- opens one)
        begins = tag[:2] == "B-" or t == 0 or not entity[t - 1] or tags[t - 1][2:] != kind
        ends = t + 1 == len(tags) or not (entity[t + 1] and tags[t + 1] == "I-" + kind)
        prefix = ("S-" if ends else "B-") if begins else ("E-" if ends else "I-")
        out[t] = prefix + kind
    return out


def iobes_to_bio(tags: Sequence[str]) -> list[str]:
    """One sentence's IOBES tags in BIO, with the same entities.

    Parameters
    ----------
    tags : sequence of str, length T
        ``O``, ``B-<type>``, ``I-<type>``, ``E-<type>`` or ``S-<type>``, one per
        token; ill-formed sequences are read as :func:`~rnnkit.metrics.iobes_spans`
        reads them.

    Returns
    -------
    list of str, length T
        ``B-`` on the first token of each entity, ``I-`` on the rest, ``O`` outside.

    Raises
    ------
    DataError
        A tag that is not IOBES.

    Examples
    --------
    An ``E-`` ends its entity, so the ``I-`` after it begins a new one:

    >>> iobes_to_bio(["B-a", "E-a", "I-a", "E-a", "O"])
    ['B-a', 'I-a', 'B-a', 'I-a', 'O']
    """
    out = ["O"] * len(tags)
    for kind, start, end in iobes_spans(tags):
        out[start] = "B-" + kind
        out[start + 1 : end] = ["I-" + kind] * (end - start - 1)
    return out


def bio_labels(labels: Iterable[str]) -> list[str]:
    """The BIO tag set whose IOBES conversion is `labels`, sorted.

    ``S-x`` comes from ``B-x`` and ``E-x`` from ``I-x``, so the IOBES tags a tagger
    learnt name the BIO tags it gives back.

    Examples
    --------
    >>> bio_labels(["B-person", "E-person", "O", "S-group", "S-person"])
    ['B-group', 'B-person', 'I-person', 'O']
    """
    back = {"S-": "B-", "E-": "I-"}
    return sorted({back.get(label[:2], label[:2]) + label[2:] for label in labels})
