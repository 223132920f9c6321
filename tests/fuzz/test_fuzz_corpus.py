"""Fuzz: language-model corpora (characters and words) from any text, bytes and vocabulary.

``corpus_from_text`` takes any string (lone surrogates included) and ``read_corpus``
any file; both give ids that decode back to the text, or one line naming the place.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given

from hostile import (
    ENCODINGS,
    TEXT_PIECES,
    Draw,
    check_error,
    drawn,
    fuzz,
    hostile_bytes,
    hostile_text,
    n_lines,
)
from rnnkit.data.corpus import TextCorpus, corpus_from_text, read_corpus, tokenize
from rnnkit.errors import ConfigError, DataError, RnnkitError
from rnnkit.text import Vocabulary

#: min_freq and max_vocab arguments, good and bad
COUNTS = (None, -1, 0, 1, 2, 3, 1.5, "2")


def check_corpus(corpus: TextCorpus) -> None:
    assert len(corpus.ids) >= 1 and corpus.ids.ndim == 1
    assert corpus.ids.dtype.kind == "u" and int(corpus.ids.max()) < len(corpus.vocab)


def vocab_of(text: str, level: str) -> Vocabulary:
    """The vocabulary a model trained on `text` would have."""
    try:
        return corpus_from_text(text, level).vocab
    except RnnkitError:
        return Vocabulary(["a"], specials=() if level == "char" else ("<unk>",))


def text_and_limits(d: Draw) -> tuple[str, str, dict]:
    level, min_freq, max_vocab = d.pick(["char", "word"]), d.pick(COUNTS), d.pick(COUNTS)
    return hostile_text(d), level, {"min_freq": min_freq or 1, "max_vocab": max_vocab}


@fuzz(1000)
@given(drawn(text_and_limits, 80))
def test_any_text(case: tuple[str, str, dict]) -> None:
    text, level, kwargs = case
    try:
        corpus = corpus_from_text(text, level, **kwargs)
    except ConfigError as exc:
        assert str(exc).startswith(("min_freq=", "max_vocab=")) and "\n" not in str(exc)
        return
    except RnnkitError as exc:
        check_error(exc, "<text>", n_lines(text.encode("utf-8", "surrogatepass")))
        return
    check_corpus(corpus)
    if level == "char":
        assert corpus.decode(corpus.ids) == text
    elif kwargs["max_vocab"] is None and kwargs["min_freq"] == 1:
        assert corpus.vocab.decode(corpus.ids, strip_specials=False) == tokenize(text, "word")


def two_texts(d: Draw) -> tuple[str, str, str]:
    level = d.pick(["char", "word"])
    other = d.join(TEXT_PIECES, d.byte() % 16)
    return hostile_text(d), other, level


@fuzz(400)
@given(drawn(two_texts, 80))
def test_any_text_with_another_texts_vocabulary(case: tuple[str, str, str]) -> None:
    text, other, level = case
    vocab = vocab_of(other, level)
    try:
        corpus = corpus_from_text(text, level, vocab=vocab)
    except RnnkitError as exc:
        check_error(exc, "<text>", n_lines(text.encode("utf-8", "surrogatepass")))
    else:
        check_corpus(corpus)
        assert corpus.vocab is vocab


CHAR_VOCAB, WORD_VOCAB = vocab_of("abc\n d e", "char"), vocab_of("abc\n d e", "word")


@fuzz(500)
@given(drawn(lambda d: (d.pick(ENCODINGS[:10]), d.pick([True, False]), hostile_bytes(d)), 200))
def test_any_file(tmp_path: Path, case: tuple[str, bool, bytes]) -> None:
    encoding, own_vocab, data = case
    path = tmp_path / "corpus.txt"
    path.write_bytes(data)
    for level, vocab in (("char", CHAR_VOCAB), ("word", WORD_VOCAB)):
        try:
            corpus = read_corpus(path, level, vocab=None if own_vocab else vocab, encoding=encoding)
        except ConfigError as exc:
            check_error(exc, "encoding: ")
        except RnnkitError as exc:
            check_error(exc, str(path), n_lines(data))
        else:
            check_corpus(corpus)
            if level == "char" and own_vocab and encoding == "utf-8":
                text = data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
                assert corpus.decode(corpus.ids) == text


#: vocabularies a caller may give for characters: of characters, of words, empty
VOCABS = (CHAR_VOCAB, WORD_VOCAB, Vocabulary(), Vocabulary([], specials=()), Vocabulary(["ab"]))


@fuzz(200)
@given(drawn(lambda d: (d.pick(VOCABS), hostile_text(d)), 40))
def test_any_vocabulary_for_characters(case: tuple[Vocabulary, str]) -> None:
    vocab, text = case
    try:
        corpus = corpus_from_text(text, "char", vocab=vocab)
    except RnnkitError as exc:
        check_error(exc, "<text>")
    else:
        assert np.array_equal(corpus.ids, [vocab[c] for c in text])


# -- regressions: inputs the fuzz tests found ---------------------------------------------


@pytest.mark.parametrize("word", ["<unk>", "<pad>", "<sos>", "<eos>"])
def test_a_text_that_says_a_special_token(word: str) -> None:
    corpus = corpus_from_text(f"a {word} b\n", "word")
    assert corpus.vocab.tokens == ["<pad>", "<unk>", "<sos>", "<eos>", "a", "b"]
    assert corpus.vocab.decode(corpus.ids, strip_specials=False) == ["a", word, "b", "<eos>"]


@pytest.mark.parametrize("vocab", [WORD_VOCAB, Vocabulary([], specials=())])
def test_a_vocabulary_without_characters(vocab: Vocabulary) -> None:
    with pytest.raises(DataError, match=r"^<text>:1: character 'x' is not in the model's"):
        corpus_from_text("x", "char", vocab=vocab)


def test_a_word_the_vocabulary_lacks_and_no_unk() -> None:
    vocab = Vocabulary(["a"], specials=("<eos>",))
    with pytest.raises(DataError, match=r"^<text>:2: word 'b' is not in the model's vocabulary"):
        corpus_from_text("a\na b\n", "word", vocab=vocab)


@pytest.mark.parametrize(
    ("data", "encoding", "line"),
    [
        (b"ok\n" * 5000 + b"\xff\n", "utf-8", 5001),  # past the first read of the file
        (b"\x00\x00", "utf-16", 1),  # a bare UnicodeError: no byte-order mark
        (b"x", "punycode", 1),
    ],
)
def test_an_undecodable_file_names_the_line(tmp_path: Path, data, encoding, line) -> None:
    path = tmp_path / "corpus.txt"
    path.write_bytes(data)
    with pytest.raises(DataError) as info:
        read_corpus(path, "char", encoding=encoding)
    assert str(info.value) == (
        f"{path}:{line}: cannot decode bytes with encoding {encoding!r}; try --encoding latin-1"
    )


@pytest.mark.parametrize("encoding", ["rot13", "no-such-codec", "utf\x00-8"])
def test_an_encoding_that_is_no_text_encoding(tmp_path: Path, encoding: str) -> None:
    with pytest.raises(ConfigError, match=r"^encoding: "):
        read_corpus(tmp_path / "corpus.txt", "word", encoding=encoding)


def test_a_text_holding_a_lone_surrogate() -> None:
    with pytest.raises(DataError) as info:
        corpus_from_text("ab\nc\ud800", "char")
    assert str(info.value) == "<text>:2: character '\\ud800' is a lone surrogate, not text"


@pytest.mark.parametrize(("min_freq", "max_vocab"), [(0, None), ("2", None), (1, -1), (1, 2.5)])
def test_word_limits_out_of_range(min_freq, max_vocab) -> None:
    with pytest.raises(ConfigError, match=r"^(min_freq|max_vocab)="):
        corpus_from_text("a b\n", "word", min_freq=min_freq, max_vocab=max_vocab)
