"""Character vocabularies and the (B, T, L) character ids of tokenised sentences."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rnnkit.errors import ConfigError, DataError
from rnnkit.text import CHAR_SPECIALS, Vocabulary, char_vocabulary, encode_chars

SENTENCES = [["EU", "rejects", "German", "call"], ["Peter", "Blackburn"], []]


def test_the_vocabulary_has_pad_and_unk_then_characters_by_frequency() -> None:
    chars = char_vocabulary(SENTENCES)
    assert chars.specials == CHAR_SPECIALS == ("<pad>", "<unk>")
    assert chars.pad_id == 0 and chars.unk_id == 1
    assert chars.tokens[2] == "e"  # the most frequent character
    assert "E" in chars and "G" in chars  # capitals are characters of their own
    assert len(chars) == 2 + len(set("".join(w for s in SENTENCES for w in s)))


def test_a_batch_of_sentences_becomes_padded_character_ids() -> None:
    chars = char_vocabulary(SENTENCES)
    ids, lengths = encode_chars(SENTENCES, chars)
    assert ids.shape == (3, 4, 9) and ids.dtype == lengths.dtype == np.int64
    assert lengths.tolist() == [[2, 7, 6, 4], [5, 9, 0, 0], [0, 0, 0, 0]]
    assert chars.decode(ids[1, 1]) == list("Blackburn")
    assert chars.decode(ids[0, 0]) == ["E", "U"] and not ids[0, 0, 2:].any()
    assert not ids[1, 2:].any() and not ids[2].any()


def test_unknown_characters_map_to_unk() -> None:
    chars = char_vocabulary([["ab"]])
    ids, _ = encode_chars([["abz"]], chars)
    assert ids[0, 0].tolist() == [chars["a"], chars["b"], chars.unk_id]


def test_long_words_keep_their_first_and_last_characters() -> None:
    chars = char_vocabulary([["unbelievably"]])
    ids, lengths = encode_chars([["unbelievably", "ok"]], chars, max_chars=6)
    assert ids.shape == (1, 2, 6) and lengths.tolist() == [[6, 2]]
    assert "".join(chars.decode(ids[0, 0])) == "unbbly"
    ids, _ = encode_chars([["unbelievably"]], chars, max_chars=1)
    assert chars.decode(ids[0, 0]) == ["u"]


@given(
    st.lists(st.lists(st.text(alphabet="abcXYZ-", max_size=9), max_size=5), max_size=4),
    st.one_of(st.none(), st.integers(1, 6)),
)
def test_every_word_is_its_characters_then_pads(sentences, max_chars) -> None:
    chars = char_vocabulary([["abcXYZ-"]])
    ids, lengths = encode_chars(sentences, chars, max_chars=max_chars)
    B, T = len(sentences), max((len(s) for s in sentences), default=0)
    assert ids.shape[:2] == lengths.shape == (B, T)
    assert ((ids != 0).sum(axis=-1) == lengths).all()
    assert (ids != 0).sum() == lengths.sum()  # pads only after each word's characters
    for b, sentence in enumerate(sentences):
        for t, word in enumerate(sentence):
            kept = "".join(chars.decode(ids[b, t]))
            assert len(kept) == (len(word) if max_chars is None else min(len(word), max_chars))
            if max_chars is None or len(word) <= max_chars:
                assert kept == word
            else:
                assert word.startswith(kept[: (max_chars + 1) // 2])
                assert word.endswith(kept[(max_chars + 1) // 2 :])


@pytest.mark.parametrize("max_chars", [0, -1, 2.0, True])
def test_bad_caps_are_refused(max_chars) -> None:
    with pytest.raises(ConfigError, match="max_chars"):
        encode_chars([["a"]], char_vocabulary([["a"]]), max_chars=max_chars)


def test_a_vocabulary_without_pad_at_zero_is_refused() -> None:
    with pytest.raises(ConfigError, match="<pad> at id 0"):
        encode_chars([["a"]], Vocabulary(["a"], specials=("<unk>", "<pad>")))


@pytest.mark.parametrize("sentences", ["a text", ["a text"], [[1, 2]]])
def test_untokenised_sentences_are_refused(sentences) -> None:
    with pytest.raises(DataError, match="encode_chars"):
        encode_chars(sentences, char_vocabulary([["a"]]))
