"""Vocabulary: ids, building, encoding, JSON persistence and its error messages."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rnnkit.errors import ConfigError, VocabularyError
from rnnkit.text import DEFAULT_SPECIALS, Vocabulary

tokens_st = st.lists(st.text(min_size=1, max_size=8), max_size=20)


def test_lecture_vocabulary(lecture_vocab: Vocabulary) -> None:
    v = lecture_vocab
    assert len(v) == 5
    assert [v[w] for w in ["movie", "was", "good", "bad", "not"]] == [0, 1, 2, 3, 4]
    assert [v.token(i) for i in range(5)] == v.tokens == ["movie", "was", "good", "bad", "not"]
    assert (v.pad_id, v.unk_id, v.sos_id, v.eos_id) == (None, None, None, None)
    assert v.specials == ()
    np.testing.assert_array_equal(v.encode(["movie", "was", "not", "good"]), [0, 1, 4, 2])


def test_unknown_token_without_unk_names_the_token(lecture_vocab: Vocabulary) -> None:
    with pytest.raises(VocabularyError) as info:
        lecture_vocab["great"]
    assert str(info.value) == "token 'great' is not in the vocabulary, which has no <unk>"


def test_default_specials_take_ids_0_to_3() -> None:
    v = Vocabulary(["movie"])
    assert DEFAULT_SPECIALS == ("<pad>", "<unk>", "<sos>", "<eos>")
    assert v.tokens == ["<pad>", "<unk>", "<sos>", "<eos>", "movie"]
    assert (v.pad_id, v.unk_id, v.sos_id, v.eos_id) == (0, 1, 2, 3)
    assert v["movie"] == 4
    assert v["never-seen"] == 1


def test_custom_specials() -> None:
    v = Vocabulary(["a", "<unk>"], specials=("<eos>", "<pad>"))
    assert (v.eos_id, v.pad_id, v.unk_id, v.sos_id) == (0, 1, None, None)
    # "<unk>" here is an ordinary token, so unknown words are still an error.
    assert v["<unk>"] == 3
    with pytest.raises(VocabularyError, match=r"^token 'b' is not in the vocabulary"):
        v["b"]


def test_contains() -> None:
    v = Vocabulary(["movie"])
    assert "movie" in v and "<pad>" in v
    assert "film" not in v and 4 not in v


def test_build_orders_by_frequency_then_first_occurrence() -> None:
    texts = [["b", "a", "c"], ["a", "d", "c", "b"], ["e", "a"]]
    v = Vocabulary.build(texts, specials=())
    # a: 3; b, c: 2 (b seen first); d, e: 1 (d seen first)
    assert v.tokens == ["a", "b", "c", "d", "e"]
    assert Vocabulary.build(texts, specials=()) == v
    assert Vocabulary.build(texts, min_freq=2, specials=()).tokens == ["a", "b", "c"]


def test_build_max_size_counts_only_ordinary_tokens() -> None:
    texts = [["x", "y", "y", "z", "z", "z"]]
    v = Vocabulary.build(texts, max_size=2)
    assert v.tokens == ["<pad>", "<unk>", "<sos>", "<eos>", "z", "y"]
    assert Vocabulary.build(texts, max_size=0).tokens == list(DEFAULT_SPECIALS)


def test_build_skips_specials_found_in_texts() -> None:
    v = Vocabulary.build([["<unk>", "a", "<pad>", "<unk>"]])
    assert v.tokens == [*DEFAULT_SPECIALS, "a"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"min_freq": 0}, "min_freq: expected an integer >= 1, got 0"),
        ({"min_freq": 1.5}, "min_freq: expected an integer >= 1, got 1.5"),
        ({"max_size": -1}, "max_size: expected an integer >= 0, got -1"),
        ({"max_size": True}, "max_size: expected an integer >= 0, got True"),
    ],
)
def test_build_rejects_bad_limits(kwargs: dict, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        Vocabulary.build([["a"]], **kwargs)
    assert str(info.value) == message


def test_build_rejects_untokenised_text() -> None:
    with pytest.raises(VocabularyError, match="expected lists of tokens, got a str"):
        Vocabulary.build(["movie was good"])


@pytest.mark.parametrize(
    ("tokens", "specials", "message"),
    [
        (["a", "b", "a"], (), "token 'a' appears twice (ids 0 and 2)"),
        (["<pad>"], ("<pad>",), "token '<pad>' appears twice (ids 0 and 1)"),
        (["a", 7], (), "token 1 is int 7, not str"),
        (["a"], (None,), "token 0 is NoneType None, not str"),
        ("abc", (), "tokens and specials must be sequences of strings, not a str"),
        (["a"], "<pad>", "tokens and specials must be sequences of strings, not a str"),
    ],
)
def test_constructor_rejects_malformed_tokens(
    tokens: object, specials: object, message: str
) -> None:
    with pytest.raises(VocabularyError) as info:
        Vocabulary(tokens, specials=specials)  # type: ignore[arg-type]
    assert str(info.value) == message


def test_encode_adds_sos_and_eos() -> None:
    v = Vocabulary(["movie", "was", "good"])
    ids = v.encode(["movie", "was", "great"], add_sos=True, add_eos=True)
    assert ids.dtype == np.int64
    np.testing.assert_array_equal(ids, [2, 4, 5, 1, 3])
    assert v.encode([]).shape == (0,)


def test_encode_errors(lecture_vocab: Vocabulary) -> None:
    with pytest.raises(VocabularyError, match=r"^the vocabulary has no <sos> \(specials: \(\)\)$"):
        lecture_vocab.encode(["movie"], add_sos=True)
    with pytest.raises(VocabularyError, match="got a str; tokenize it first"):
        lecture_vocab.encode("movie")
    with pytest.raises(VocabularyError, match=r"^token must be a str, got int 3$"):
        lecture_vocab.encode([3])  # type: ignore[list-item]


def test_decode_strips_specials_but_keeps_unk() -> None:
    v = Vocabulary(["movie", "good"])
    ids = np.array([2, 4, 1, 5, 3, 0, 0], dtype=np.int32)
    assert v.decode(ids) == ["movie", "<unk>", "good"]
    assert v.decode(ids, strip_specials=False) == [
        "<sos>",
        "movie",
        "<unk>",
        "good",
        "<eos>",
        "<pad>",
        "<pad>",
    ]
    assert v.decode([]) == []


@pytest.mark.parametrize(
    ("ids", "message"),
    [
        ([0, 5], "id 5 out of range for a vocabulary of 5 tokens"),
        ([-1], "id -1 out of range for a vocabulary of 5 tokens"),
        ([1.0], "id must be an integer, got float 1.0"),
        ([[0, 1]], "decode: expected a 1-D array of ids, got shape (1, 2)"),
    ],
)
def test_decode_errors(lecture_vocab: Vocabulary, ids: list, message: str) -> None:
    with pytest.raises(VocabularyError) as info:
        lecture_vocab.decode(ids)
    assert str(info.value) == message


def test_token_accepts_numpy_integers_and_rejects_bools(lecture_vocab: Vocabulary) -> None:
    assert lecture_vocab.token(np.int64(4)) == "not"
    with pytest.raises(VocabularyError, match=r"^id must be an integer, got bool True$"):
        lecture_vocab.token(True)


def test_equality_and_hash() -> None:
    a = Vocabulary(["x", "y"])
    assert a == Vocabulary(["x", "y"])
    assert a != Vocabulary(["y", "x"])
    assert Vocabulary(["<pad>", "x"], specials=()) != Vocabulary(["x"], specials=("<pad>",))
    assert a != ["<pad>", "<unk>", "<sos>", "<eos>", "x", "y"]
    assert len({a, Vocabulary(["x", "y"])}) == 1
    assert repr(a) == "Vocabulary(6 tokens, specials=('<pad>', '<unk>', '<sos>', '<eos>'))"


def test_to_dict_lists_every_token_in_id_order() -> None:
    v = Vocabulary(["movie"], specials=("<pad>", "<unk>"))
    assert v.to_dict() == {"tokens": ["<pad>", "<unk>", "movie"], "specials": ["<pad>", "<unk>"]}
    assert Vocabulary.from_dict(v.to_dict()) == v


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (["a"], "expected a JSON object, got list"),
        ({"tokens": ["a"]}, "expected the keys 'specials' and 'tokens', got ['tokens']"),
        (
            {"tokens": [], "specials": [], "extra": 1},
            "expected the keys 'specials' and 'tokens', got ['extra', 'specials', 'tokens']",
        ),
        ({"tokens": "ab", "specials": []}, "'tokens' must be a list, got str"),
        ({"tokens": [], "specials": None}, "'specials' must be a list, got NoneType"),
        ({"tokens": ["a", "b", "a"], "specials": []}, "token 'a' appears twice (ids 0 and 2)"),
        ({"tokens": ["a", 1.5], "specials": []}, "token 1 is float 1.5, not str"),
        ({"tokens": ["a", "<pad>"], "specials": ["<pad>"]}, "'tokens' must start with the "),
    ],
)
def test_from_dict_rejects_malformed_input(data: object, message: str) -> None:
    with pytest.raises(VocabularyError) as info:
        Vocabulary.from_dict(data)
    assert str(info.value).startswith(message)


def test_save_and_load(tmp_path: Path) -> None:
    v = Vocabulary(["movie", "épatant", "日本"])
    path = tmp_path / "vocab.json"
    v.save(path)
    assert json.loads(path.read_text(encoding="utf-8")) == v.to_dict()
    assert "épatant" in path.read_text(encoding="utf-8")  # readable, not \u-escaped
    assert Vocabulary.load(path) == v
    assert Vocabulary.load(str(path)) == v
    assert os.listdir(tmp_path) == ["vocab.json"]


def test_save_replaces_an_old_file_only_when_complete(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "vocab.json"
    old = Vocabulary(["old"])
    old.save(path)
    Vocabulary(["new"]).save(path)
    assert Vocabulary.load(path) == Vocabulary(["new"])

    def crash(src: object, dst: object) -> None:
        raise OSError("disk unplugged")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk unplugged"):
        Vocabulary(["newer"]).save(path)
    monkeypatch.undo()
    assert Vocabulary.load(path) == Vocabulary(["new"])
    assert os.listdir(tmp_path) == ["vocab.json"]  # no temporary file left behind


def test_load_errors_name_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "missing.json"
    with pytest.raises(VocabularyError) as info:
        Vocabulary.load(missing)
    assert str(info.value) == f"{missing}: missing"

    bad_json = tmp_path / "bad.json"
    bad_json.write_text('{\n "tokens": [,\n}', encoding="utf-8")
    with pytest.raises(VocabularyError) as info:
        Vocabulary.load(bad_json)
    assert str(info.value) == f"{bad_json}: invalid JSON at line 2 column 13"

    latin = tmp_path / "latin.json"
    latin.write_bytes(b'{"tokens": ["caf\xe9"], "specials": []}')
    with pytest.raises(VocabularyError) as info:
        Vocabulary.load(latin)
    assert str(info.value) == f"{latin}: not UTF-8 text (bad byte at offset 16)"

    wrong = tmp_path / "wrong.json"
    wrong.write_text('{"tokens": ["a", "a"], "specials": []}', encoding="utf-8")
    with pytest.raises(VocabularyError) as info:
        Vocabulary.load(wrong)
    assert str(info.value) == f"{wrong}: token 'a' appears twice (ids 0 and 1)"

    with pytest.raises(VocabularyError, match="is a directory"):
        Vocabulary.load(tmp_path)


@given(tokens_st)
def test_encode_decode_round_trip(tokens: list[str]) -> None:
    v = Vocabulary.build([tokens])
    ordinary = [tok for tok in tokens if tok not in DEFAULT_SPECIALS]
    ids = v.encode(ordinary, add_sos=True, add_eos=True)
    assert v.decode(ids) == ordinary
    assert v.decode(ids, strip_specials=False) == ["<sos>", *ordinary, "<eos>"]


@given(st.lists(st.text(max_size=8), unique=True, max_size=20), st.integers(0, 20))
def test_json_round_trip(tokens: list[str], n_specials: int) -> None:
    v = Vocabulary(tokens[n_specials:], specials=tokens[:n_specials])
    data = json.loads(json.dumps(v.to_dict()))
    assert Vocabulary.from_dict(data) == v
    assert Vocabulary.from_dict(data).tokens == tokens


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=25)
@given(st.lists(st.text(max_size=8), unique=True, max_size=20))
def test_file_round_trip(tmp_path: Path, tokens: list[str]) -> None:
    path = tmp_path / "vocab.json"
    v = Vocabulary(tokens, specials=())
    v.save(path)
    assert Vocabulary.load(path) == v
