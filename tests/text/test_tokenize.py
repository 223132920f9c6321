"""Tokenizers: golden cases, the MR corpus, and properties over arbitrary text."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rnnkit.errors import ConfigError
from rnnkit.text import char_tokenize, get_tokenizer, word_tokenize

PLAIN_WORD = re.compile(r"\w+(?:['’-]\w+)*")


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("movie was good", ["movie", "was", "good"]),
        ("Movie was NOT good.", ["movie", "was", "not", "good", "."]),
        ("it isn't a well-made film", ["it", "isn't", "a", "well-made", "film"]),
        ("Don’t rock'n'roll", ["don’t", "rock'n'roll"]),
        ("good,bad;ugly!", ["good", ",", "bad", ";", "ugly", "!"]),
        ('he said "wow"', ["he", "said", '"', "wow", '"']),
        ("wait -- what...?!", ["wait", "--", "what", "...", "?", "!"]),
        ("'70s parents'", ["'", "70s", "parents", "'"]),
        ("well- made -ish", ["well", "-", "made", "-", "ish"]),
        ("[a] writer/director", ["[", "a", "]", "writer", "/", "director"]),
        ("21st $9 3.5", ["21st", "$", "9", "3", ".", "5"]),
        ("café Über", ["café", "über"]),
        ("a\tb\nc\u00a0d\x85e", ["a", "b", "c", "d", "e"]),
        ("", []),
        (" \t\n ", []),
    ],
)
def test_word_tokenize_golden(text: str, tokens: list[str]) -> None:
    assert word_tokenize(text) == tokens


def test_word_tokenize_keeps_case_when_asked() -> None:
    assert word_tokenize("Movie WAS Good", lower=False) == ["Movie", "WAS", "Good"]


def test_char_tokenize_keeps_every_character() -> None:
    assert char_tokenize("Hi, you!\n") == ["H", "i", ",", " ", "y", "o", "u", "!", "\n"]
    assert char_tokenize("AbC", lower=True) == ["a", "b", "c"]
    assert char_tokenize("") == []


def test_get_tokenizer_levels_and_lowercasing() -> None:
    assert get_tokenizer("word") is word_tokenize
    assert get_tokenizer("char") is char_tokenize
    assert get_tokenizer("word", lower=False)("Good Movie") == ["Good", "Movie"]
    assert get_tokenizer("char", lower=True)("Ab") == ["a", "b"]


@pytest.mark.parametrize("level", ["sentence", "Word", "", None, 1])
def test_get_tokenizer_rejects_other_levels(level: object) -> None:
    with pytest.raises(ConfigError, match=r"^level: expected 'word' or 'char', got ") as info:
        get_tokenizer(level)  # type: ignore[arg-type]
    assert str(info.value).endswith(repr(level))


def test_mr_snippets_round_trip(mr_snippets: list[str]) -> None:
    """MR is already tokenised with spaces: its tokens come back, marks glued on split off."""
    assert len(mr_snippets) == 10662
    piece_tokens: dict[str, list[str]] = {}  # the corpus has ~20k distinct pieces
    unchanged = 0
    for snippet in mr_snippets:
        tokens = word_tokenize(snippet, lower=False)
        pieces = snippet.split()
        for piece in pieces:
            if piece not in piece_tokens:
                piece_tokens[piece] = word_tokenize(piece, lower=False)
        # No token crosses a space and no character is lost: the tokens are the
        # space-separated pieces, each possibly cut further.
        assert tokens == [tok for piece in pieces for tok in piece_tokens[piece]]
        assert "".join(tokens) == "".join(pieces)
        unchanged += tokens == pieces
    for piece, tokens in piece_tokens.items():
        if PLAIN_WORD.fullmatch(piece) or len(set(piece)) == 1:
            assert tokens == [piece]
    # Most snippets contain no glued-on mark ("[a]", "writer/director", "kids'") at all.
    assert unchanged / len(mr_snippets) > 0.9


def test_mr_first_snippet(mr_snippets: list[str]) -> None:
    tokens = word_tokenize(mr_snippets[0])
    assert tokens[:8] == ["the", "rock", "is", "destined", "to", "be", "the", "21st"]
    assert tokens[8:10] == ["century's", "new"]
    assert tokens[10:13] == ['"', "conan", '"']
    assert tokens[-1] == "."


@given(st.text())
def test_word_tokenize_loses_only_whitespace(text: str) -> None:
    tokens = word_tokenize(text, lower=False)
    assert "".join(tokens) == "".join(text.split())
    assert all(tok and tok == "".join(tok.split()) for tok in tokens)


@given(st.text())
def test_word_tokenize_is_idempotent(text: str) -> None:
    tokens = word_tokenize(text)
    assert word_tokenize(" ".join(tokens)) == tokens


@given(st.text(), st.booleans())
def test_char_tokenize_round_trips(text: str, lower: bool) -> None:
    tokens = char_tokenize(text, lower=lower)
    assert "".join(tokens) == (text.lower() if lower else text)
    assert all(len(tok) == 1 for tok in tokens)
