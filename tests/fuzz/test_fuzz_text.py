"""Fuzz: tokenizers and the Vocabulary on any string, bytes or JSON-like object.

The tokenizers take any string (lone surrogates included) and refuse anything else
with a DataError; the Vocabulary builds, encodes, decodes and reads back
(``from_dict``, ``to_dict``, ``save``, ``load``) whatever it is given, or raises a
VocabularyError or ConfigError of one line.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given

from hostile import Draw, drawn, fuzz, hostile_text, json_value
from rnnkit.errors import ConfigError, DataError, RnnkitError, VocabularyError
from rnnkit.text import Vocabulary, char_tokenize, get_tokenizer, word_tokenize

#: tokens that repeat, so that counts, min_freq and max_size matter
WORDS = ("a", "b", "<pad>", "<unk>", "<eos>", "", " ", "\x00", "\x85", "A", "é")
SPECIALS = ((), ("<pad>",), ("<pad>", "<unk>", "<sos>", "<eos>"), ("a",))
#: anything a caller may pass as a text or a level
OBJECTS = (None, 3, 1.5, b"movie", bytearray(b"x"), ["movie"], ("a",), {"a": 1}, "word", "char")


def one_line(exc: BaseException) -> None:
    assert isinstance(exc, RnnkitError) and "\n" not in str(exc), repr(exc)


def word_lists(d: Draw) -> list[list[str]]:
    return [[d.pick(WORDS) for _ in range(d.byte() % 7)] for _ in range(d.byte() % 6)]


# -- tokenizers ---------------------------------------------------------------------------


@fuzz(1500)
@given(drawn(lambda d: (d.pick(["word", "char"]), d.pick([None, True, False]), hostile_text(d))))
def test_any_text_is_tokenized(case: tuple[str, bool | None, str]) -> None:
    level, lower, text = case
    tokens = get_tokenizer(level, lower)(text)
    assert all(isinstance(t, str) and t for t in tokens)
    if level == "char":
        assert "".join(tokens) == (text.lower() if lower else text)
    else:
        assert not any(c.isspace() for t in tokens for c in t)
        assert word_tokenize(" ".join(tokens), lower=bool(lower)) == tokens  # idempotent


def level_and_text(d: Draw) -> tuple[Any, Any]:
    level = d.pick([*OBJECTS, json_value(d), hostile_text(Draw(d.raw(8)))])
    return level, d.pick([*OBJECTS, json_value(d), d.raw(4)])


@fuzz(500)
@given(drawn(level_and_text, 40))
def test_any_level_and_any_text_object(case: tuple[Any, Any]) -> None:
    level, text = case
    try:
        tokenize = get_tokenizer(level)
    except ConfigError as exc:
        assert str(exc).startswith("level: ") and "\n" not in str(exc)
        return
    try:
        tokens = tokenize(text)
    except DataError as exc:
        assert not isinstance(text, str)
        assert str(exc).startswith("text: ") and "\n" not in str(exc)
    else:
        assert isinstance(text, str) and all(isinstance(t, str) for t in tokens)


# -- Vocabulary -------------------------------------------------------------------------


def vocab_settings(d: Draw) -> tuple[list[list[str]], int, int | None, tuple[str, ...]]:
    return word_lists(d), d.pick([1, 2]), d.pick([None, 0, 1, 3]), d.pick(SPECIALS)


@fuzz(800)
@given(drawn(vocab_settings, 60))
def test_build_encode_decode(case) -> None:
    token_lists, min_freq, max_size, specials = case
    vocab = Vocabulary.build(token_lists, min_freq=min_freq, max_size=max_size, specials=specials)
    assert vocab.tokens[: len(specials)] == list(specials)
    assert len(set(vocab.tokens)) == len(vocab)
    for tokens in token_lists:
        try:
            ids = vocab.encode(tokens)
        except VocabularyError as exc:  # an unknown token and no <unk> to stand for it
            assert vocab.unk_id is None and "\n" not in str(exc)
            continue
        back = vocab.decode(ids, strip_specials=False)
        assert [t if t in vocab else "<unk>" for t in tokens] == back
    assert Vocabulary.from_dict(vocab.to_dict()) == vocab
    assert Vocabulary.from_dict(json.loads(json.dumps(vocab.to_dict()))) == vocab


def hostile_lists(d: Draw) -> Any:
    """Anything a caller may pass for lists of tokens: JSON-like values, bytes, texts."""
    kind = d.byte() % 3
    if kind == 0:
        return json_value(d)
    if kind == 1:
        return d.raw(6)
    return [[hostile_text(Draw(d.raw(6))) for _ in range(d.byte() % 3)] for _ in range(3)]


@fuzz(600)
@given(drawn(lambda d: (hostile_lists(d), json_value(d), json_value(d)), 80))
def test_any_object_for_build_encode_decode(case: tuple[Any, Any, Any]) -> None:
    token_lists, tokens, ids = case
    vocab = Vocabulary(["a", "b"])
    for call in (
        lambda: Vocabulary.build(token_lists),
        lambda: vocab.encode(tokens),
        lambda: vocab.decode(ids),
        lambda: vocab.encode(token_lists),
        lambda: vocab.decode(token_lists),
    ):
        try:
            call()
        except RnnkitError as exc:
            one_line(exc)


def vocab_record(d: Draw) -> Any:
    """Anything vocab.json may hold: any JSON-like value, or the two keys holding
    anything, or lists of tokens with a few odd ones."""
    kind = d.byte() % 3
    if kind == 0:
        return json_value(d)
    if kind == 1:
        return {"tokens": json_value(d), "specials": json_value(d)}
    specials = [d.pick(WORDS) for _ in range(d.byte() % 3)]
    tokens = [d.pick(WORDS) if d.byte() % 4 else json_value(d, 2) for _ in range(d.byte() % 7)]
    return {"tokens": specials + tokens if d.byte() % 2 else tokens, "specials": specials}


@fuzz(800)
@given(drawn(vocab_record, 60))
def test_from_dict_of_any_json_like_object(data: Any) -> None:
    try:
        vocab = Vocabulary.from_dict(data)
    except VocabularyError as exc:
        one_line(exc)
    else:
        assert vocab.to_dict() == data
        assert Vocabulary.from_dict(vocab.to_dict()) == vocab


def tokens_and_specials(d: Draw) -> tuple[list[str], tuple[str, ...]]:
    specials = d.pick(SPECIALS)
    tokens = [d.pick(WORDS) if d.byte() % 2 else hostile_text(Draw(d.raw(8))) for _ in range(6)]
    return [t for t in dict.fromkeys(tokens) if t not in specials], specials


@fuzz(200)
@given(drawn(tokens_and_specials, 80))
def test_save_and_load_any_tokens(tmp_path: Path, case: tuple[list[str], tuple]) -> None:
    tokens, specials = case
    try:
        vocab = Vocabulary(tokens, specials=specials)
    except VocabularyError as exc:  # a lone surrogate
        assert "lone surrogate" in str(exc) and "\n" not in str(exc)
        return
    vocab.save(tmp_path / "vocab.json")
    assert Vocabulary.load(tmp_path / "vocab.json") == vocab


# -- regressions: inputs the fuzz tests found ---------------------------------------------


@pytest.mark.parametrize("text", [b"movie was good", None, 3, ["movie"]])
@pytest.mark.parametrize("tokenize", [word_tokenize, char_tokenize])
def test_a_tokenizer_refuses_what_is_not_a_str(tokenize, text) -> None:
    with pytest.raises(DataError, match=rf"^text: expected a str, got {type(text).__name__}"):
        tokenize(text)


@pytest.mark.parametrize(
    ("token_lists", "message"),
    [
        ([[["a"]]], "token_lists: text 0 holds a token that is not a str"),
        ([[("a", ["b"])]], "token_lists: text 0 holds a token that is not a str"),
        ([["a"], 5], "token_lists: text 1 is int 5, not a list of tokens"),
        (None, "token_lists: expected lists of tokens, got NoneType"),
        ([b"ab"], "token_lists: expected lists of tokens, got bytes"),
    ],
)
def test_build_refuses_what_is_not_lists_of_tokens(token_lists, message: str) -> None:
    with pytest.raises(VocabularyError) as info:
        Vocabulary.build(token_lists)
    assert str(info.value) == message


@pytest.mark.parametrize("ids", [[[1], [1, 2]], [[1, [2]]]])
def test_decode_refuses_ragged_ids(ids) -> None:
    with pytest.raises(VocabularyError, match=r"^decode: expected a 1-D array of ids"):
        Vocabulary(["a", "b"]).decode(ids)


def test_encode_refuses_what_is_not_iterable() -> None:
    with pytest.raises(VocabularyError, match=r"^encode: expected a list of tokens, got NoneType"):
        Vocabulary(["a"]).encode(None)  # type: ignore[arg-type]


def test_a_token_with_a_lone_surrogate_is_refused() -> None:
    with pytest.raises(VocabularyError) as info:
        Vocabulary.build([["ok", "a\ud800"]])
    assert str(info.value) == "token 5 'a\\ud800' holds a lone surrogate, not text"


def test_build_refuses_a_mapping_for_a_text() -> None:
    with pytest.raises(VocabularyError, match=r"^token_lists: .* got dict$"):
        Vocabulary.build([{"movie": 5}])  # Counter.update would count "movie" 5 times
