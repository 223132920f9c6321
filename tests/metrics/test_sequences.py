"""Exact match, token error rate and the edit distance under them."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rnnkit.metrics.sequences import SequenceReport, edit_distance


def _brute_distance(a, b) -> int:
    """The textbook recursion, for small inputs."""
    if not a or not b:
        return len(a) + len(b)
    return min(
        _brute_distance(a[1:], b) + 1,
        _brute_distance(a, b[1:]) + 1,
        _brute_distance(a[1:], b[1:]) + (a[0] != b[0]),
    )


@pytest.mark.parametrize(
    ("a", "b", "d"),
    [("", "", 0), ("abc", "", 3), ("", "ab", 2), ("kitten", "sitting", 3), ("flaw", "lawn", 2)],
)
def test_known_distances(a: str, b: str, d: int) -> None:
    assert edit_distance(a, b) == edit_distance(b, a) == d


@given(st.lists(st.sampled_from("abc"), max_size=6), st.lists(st.sampled_from("abc"), max_size=6))
def test_distance_matches_the_recursion(a, b) -> None:
    assert edit_distance(a, b) == _brute_distance(a, b)


def test_report_over_phones() -> None:
    refs = [["K", "AE1", "T"], ["D", "AO1", "G"], ["AY1"]]
    outs = [["K", "AE1", "T"], ["D", "AA1", "G", "Z"], []]
    r = SequenceReport.from_sequences(refs, outs)
    assert (r.n, r.exact, r.edits, r.reference_tokens) == (3, 1, 3, 7)
    assert r.exact_match == pytest.approx(1 / 3)
    assert r.word_error_rate == pytest.approx(2 / 3)
    assert r.token_error_rate == pytest.approx(3 / 7)
    d = r.to_dict()
    assert {"exact_match", "token_error_rate", "n"} <= set(d)  # the evaluate --json keys
    assert "word error rate 66.67%" in r.format()


def test_perfect_and_mismatched() -> None:
    seqs = [list(p) for p in itertools.permutations("abc")]
    r = SequenceReport.from_sequences(seqs, seqs)
    assert r.exact_match == 1.0 and r.token_error_rate == 0.0
    with pytest.raises(ValueError, match="2 references but 1 outputs"):
        SequenceReport.from_sequences([["a"], ["b"]], [["a"]])
