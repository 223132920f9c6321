"""BIO <-> IOBES conversion: the same entities either way, ill-formed tags included.

Specified here: the spans of the converted tags are the spans of the given ones (as
bio_spans and iobes_spans read them, which follow seqeval), for any tag sequence;
well-formed BIO comes back unchanged from a round trip; every converted tag set is
well-formed IOBES (an E- or S- closes each entity); tags of no scheme stay as given;
bio_labels names the BIO tags the IOBES labels came from.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rnnkit.errors import DataError
from rnnkit.metrics import bio_spans, iobes_spans
from rnnkit.metrics.schemes import bio_labels, bio_to_iobes, iobes_to_bio

TYPES = ("a", "b")
BIO_TAGS = ["O", *(f"{p}-{t}" for p in "BI" for t in TYPES)]
IOBES_TAGS = ["O", *(f"{p}-{t}" for p in "BIES" for t in TYPES)]
bio_seqs = st.lists(st.sampled_from(BIO_TAGS), max_size=14)
iobes_seqs = st.lists(st.sampled_from(IOBES_TAGS), max_size=14)


def _well_formed_bio(tags: list[str]) -> bool:
    """Every I-x continues a B-x or I-x."""
    return all(
        t[:2] != "I-" or (i > 0 and tags[i - 1][2:] == t[2:] and tags[i - 1] != "O")
        for i, t in enumerate(tags)
    )


@given(tags=bio_seqs)
def test_bio_to_iobes_keeps_the_entities(tags: list[str]) -> None:
    iobes = bio_to_iobes(tags)
    assert len(iobes) == len(tags) and iobes_spans(iobes) == bio_spans(tags)
    # each entity written whole: B- (I-)* E- or a lone S-, nothing ill-formed left
    assert iobes_to_bio(iobes) == iobes_to_bio(bio_to_iobes(iobes_to_bio(iobes)))
    for kind, start, end in iobes_spans(iobes):
        inside = iobes[start:end]
        expected = [f"S-{kind}"] if end - start == 1 else (
            [f"B-{kind}", *[f"I-{kind}"] * (end - start - 2), f"E-{kind}"])  # fmt: skip
        assert inside == expected


@given(tags=bio_seqs)
def test_well_formed_bio_survives_a_round_trip(tags: list[str]) -> None:
    back = iobes_to_bio(bio_to_iobes(tags))
    assert bio_spans(back) == bio_spans(tags) and _well_formed_bio(back)
    if _well_formed_bio(tags):
        assert back == tags


@given(tags=iobes_seqs)
def test_iobes_to_bio_keeps_the_entities(tags: list[str]) -> None:
    bio = iobes_to_bio(tags)
    assert len(bio) == len(tags) and bio_spans(bio) == iobes_spans(tags)
    assert _well_formed_bio(bio)


@pytest.mark.parametrize(
    ("bio", "iobes"),
    [
        ([], []),
        (["O"], ["O"]),
        (["B-a"], ["S-a"]),
        (["B-a", "I-a", "I-a", "O"], ["B-a", "I-a", "E-a", "O"]),
        (["B-a", "B-a", "I-b", "I-a"], ["S-a", "S-a", "S-b", "S-a"]),
        (["O", "I-a", "I-a"], ["O", "B-a", "E-a"]),
    ],
)
def test_conversion_by_hand(bio: list[str], iobes: list[str]) -> None:
    assert bio_to_iobes(bio) == iobes


def test_tags_of_no_scheme_stay_and_end_an_entity() -> None:
    # a tag a damaged file might hold, in a validation set: kept, so that it stays unseen
    assert bio_to_iobes(["B-a", "I-a", "PER", "I-a"]) == ["B-a", "E-a", "PER", "S-a"]


def test_iobes_to_bio_refuses_other_tags() -> None:
    with pytest.raises(DataError, match=r"tags\[1\]: 'PER' is not an IOBES tag"):
        iobes_to_bio(["O", "PER"])


def test_bio_labels_names_the_given_tags() -> None:
    iobes = sorted({t for seq in (["B-a", "I-a"], ["B-b"], ["O"]) for t in bio_to_iobes(seq)})
    assert iobes == ["B-a", "E-a", "O", "S-b"]
    assert bio_labels(iobes) == ["B-a", "B-b", "I-a", "O"]
