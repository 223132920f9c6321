"""Pretrained embedding files: every format gives the same vectors; bad files are named.

The small files are written here, in each format, gzip-compressed and not; the real
GloVe file (100,000 words x 50, lower-cased) is read when the shared data is present.
"""

from __future__ import annotations

import gzip
import time
from pathlib import Path

import numpy as np
import pytest

from rnnkit.data import (
    EMBEDDING_FORMATS,
    embedding_matrix,
    file_words,
    load_mr,
    read_conll,
    read_embeddings,
)
from rnnkit.data.embedding_checks import MAX_DIM
from rnnkit.data.embedding_files import detect_format
from rnnkit.errors import ConfigError, DataError
from rnnkit.text import Vocabulary

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
GLOVE = SHARED / "glove_6b_50d" / "glove.6B.50d.100k.txt.gz"
WNUT_TRAIN = SHARED / "wnut17" / "wnut17train.conll"

#: the vectors every sample file holds (exactly representable in float32 and in text)
VECTORS = {
    "the": [0.5, -1.0, 2.25],
    "cat": [0.0, 1.5, -0.125],
    "New York": [3.0, 0.25, -2.0],  # a word with a space: word2vec binary only
    "café": [1.0, 2.0, 4.0],
}
TEXT_WORDS = ["the", "cat", "café"]


def text_lines(words: list[str]) -> str:
    return "".join(f"{w} {' '.join(repr(x) for x in VECTORS[w])}\n" for w in words)


def sample(fmt: str, words: list[str]) -> bytes:
    """`words` with their VECTORS in format `fmt`."""
    if fmt == "glove":
        return text_lines(words).encode()
    if fmt in ("word2vec", "fasttext"):  # fastText's .vec: a space ends each line
        body = text_lines(words)
        if fmt == "fasttext":
            body = body.replace("\n", " \n")
        return f"{len(words)} 3\n{body}".encode()
    records = b"".join(
        w.encode() + b" " + np.asarray(VECTORS[w], "<f4").tobytes() + b"\n" for w in words
    )
    return f"{len(words)} 3\n".encode() + records


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzip"])
@pytest.mark.parametrize("fmt", EMBEDDING_FORMATS)
def test_every_format_gives_the_same_vectors(write, fmt, gz):
    words = list(VECTORS) if fmt == "word2vec-binary" else TEXT_WORDS
    data = sample(fmt, words)
    # NOTE: a name that says nothing: the format and gzip are told from the bytes
    path = write("vectors.data", gzip.compress(data) if gz else data)
    result = read_embeddings(path, [*words, "dog"])
    detected = "word2vec" if fmt == "fasttext" else fmt
    assert result.format == detected and result.dim == 3
    assert result.vectors.dtype == np.float32 and result.vectors.shape == (len(words) + 1, 3)
    for i, w in enumerate(words):
        assert result.found[i]
        np.testing.assert_array_equal(result.vectors[i], np.float32(VECTORS[w]))
    assert not result.found[-1] and not result.vectors[-1].any()
    assert result.missing == ["dog"] and result.file_words == len(words)
    assert read_embeddings(path, words, format=fmt).lookup().keys() == set(words)


def test_lowercase_fallback_and_the_summary_line(write):
    path = write("glove.txt", text_lines(["the", "cat"]))
    vocab = Vocabulary(["The", "the", "CAT", "dog"])
    result = read_embeddings(path, vocab)
    assert result.words == vocab.tokens
    assert result.by_lowercase == ["The", "CAT"] and result.missing == ["dog"]
    assert result.summary() == (
        f"3 of 4 vocabulary words found (1 as written, 2 lower-cased) in {path} "
        "(glove, 2 words of 3 dimensions)"
    )
    strict = read_embeddings(path, vocab, lowercase_fallback=False)
    assert strict.missing == ["The", "CAT", "dog"] and not strict.by_lowercase


def test_a_repeated_word_keeps_its_first_vector(write):
    path = write("dup.txt", "cat 1 2\ncat 3 4\ndog 5 6\n")
    result = read_embeddings(path, ["cat"])
    assert result.vectors[0].tolist() == [1.0, 2.0] and result.duplicates == 1
    assert result.file_words == 3 and "1 repeats ignored" in result.summary()


def test_embedding_matrix_in_vocabulary_order(write):
    path = write("glove.txt", text_lines(["the", "cat"]))
    vocab = Vocabulary(["cat", "zebu", "the"])
    E = embedding_matrix(vocab, read_embeddings(path, vocab), np.random.default_rng(0))
    assert E.shape == (len(vocab), 3) and E.dtype == np.float32
    np.testing.assert_array_equal(E[vocab["the"]], np.float32(VECTORS["the"]))
    np.testing.assert_array_equal(E[vocab["cat"]], np.float32(VECTORS["cat"]))
    assert not E[vocab.pad_id].any()
    # the rows of words not found: the draw an Embedding makes, U(-0.05, 0.05)
    drawn = np.random.default_rng(0).uniform(-0.05, 0.05, size=(len(vocab), 3))
    np.testing.assert_array_equal(E[vocab["zebu"]], drawn[vocab["zebu"]].astype(np.float32))
    assert embedding_matrix(vocab, read_embeddings(path, vocab), np.random.default_rng(0),
                            dtype="float64").dtype == np.float64  # fmt: skip


@pytest.mark.parametrize("fmt", EMBEDDING_FORMATS)
def test_file_words_are_the_first_words_in_file_order(write, fmt):
    words = ["New York", "the", "cat"] if fmt == "word2vec-binary" else ["the", "café", "cat"]
    path = write(f"v.{fmt}", sample(fmt, words))
    assert file_words(path, 2) == words[:2]
    assert file_words(path, 10) == words
    assert file_words(path, 0) == []


def test_file_words_stop_before_a_bad_line_they_do_not_reach(write):
    path = write("v.txt", text_lines(["the", "cat"]) + "dog 1.0\n")  # 1 value of 3
    assert file_words(path, 2) == ["the", "cat"]
    with pytest.raises(DataError, match=r"v\.txt"):
        file_words(path, 3)


def test_detect_format(write):
    assert detect_format(write("a", sample("glove", TEXT_WORDS)), "a") == "glove"
    assert detect_format(write("b", sample("fasttext", TEXT_WORDS)), "b") == "word2vec"
    assert detect_format(write("c", sample("word2vec-binary", ["cat"])), "c") == "word2vec-binary"


@pytest.mark.parametrize(
    ("contents", "message"),
    [
        (b"", "{}: empty file (no vectors)"),
        (b"the 1 2\ncat 1 2 3\n", "{}:2: 3 values after the word 'cat', expected 2 (line 1 has 2)"),
        (b"the 1 2\ncat 1 x\n", "{}:2: 'x' is not a number"),
        (b"the 1 nan\n", "{}:1: a value is NaN, infinite or beyond float32's range"),
        (b"the 1 1e39\n", "{}:1: a value is NaN, infinite or beyond float32's range"),
        (b"the 1 2\n\ncat 1 2\n", "{}:2: an empty line where a word and its vector belong"),
        (b"the 1 2\ncaf\xe9 1 2\n", "{}:2: cannot decode bytes with encoding 'utf-8'; word vectors must be utf-8 text"),  # noqa: E501
        (b"3 2\nthe 1 2\ncat 1 2\n", "{}:3: the file ends after 2 words; the header says 3"),
        (b"1 2\nthe 1 2\ncat 1 2\n", "{}:3: more words than the header's 1"),
        (b"2 3\nthe 1 2 3\ncat 1 2\n", "{}:3: 2 values after the word 'cat', expected 3 (the header says 3)"),  # noqa: E501
        (b"2 99999999\nthe 1 2\n", "{}:1: dimension 99,999,999: vectors of 1 to 10,000 values are read"),  # noqa: E501
        (b"999999999999 2\nthe 1 2\n", "{}:1: the header announces 999,999,999,999 words; 1 to 100,000,000 are read"),  # noqa: E501
    ],
)  # fmt: skip
def test_bad_text_files_are_named_with_their_line(write, contents, message):
    path = write("bad.txt", contents)
    with pytest.raises(DataError) as info:
        read_embeddings(path, ["the", "cat"])
    assert str(info.value) == message.format(path)


def binary(count: int, dim: int, records: bytes) -> bytes:
    return f"{count} {dim}\n".encode() + records


def record(word: bytes, values) -> bytes:
    return word + b" " + np.asarray(values, "<f4").tobytes() + b"\n"


@pytest.mark.parametrize(
    ("contents", "message"),
    [
        (binary(2, 2, record(b"a", [1, 2])), "{}: byte 15: the file ends after 1 words; the header says 2"),  # noqa: E501
        (binary(1, 2, record(b"a", [1, 2])[:-3]), "{}: byte 4: the record of 'a' is cut short (truncated file)"),  # noqa: E501
        (binary(1, 2, record(b"a", [1, np.nan])), "{}: byte 4: the vector of 'a' holds NaN or infinity"),  # noqa: E501
        (binary(1, 2, record(b"a", [1, 2]) + record(b"b", [1, 2])), "{}: byte 15: more data after the header's 1 words"),  # noqa: E501
        (binary(1, 2, b"\xff" * 2000), "{}: byte 4: no space within 1,000 bytes where a word was expected (binary junk, or a header that lies)"),  # noqa: E501
        (binary(1, 2, b"\xff\xfe " + b"\0" * 8), "{}: byte 4: cannot decode bytes with encoding 'utf-8'; word vectors must be utf-8 text"),  # noqa: E501
        (binary(1, 200000, record(b"a", [1, 2])), "{}:1: dimension 200,000: vectors of 1 to 10,000 values are read"),  # noqa: E501
    ],
)  # fmt: skip
def test_bad_binary_files_are_named_with_their_byte_offset(write, contents, message):
    path = write("bad.bin", contents)
    with pytest.raises(DataError) as info:
        read_embeddings(path, ["a"], format="word2vec-binary")
    assert str(info.value) == message.format(path)


def test_damaged_gzip_data_is_named(write):
    data = gzip.compress(sample("glove", TEXT_WORDS) * 50)
    path = write("cut.txt.gz", data[: len(data) // 2])
    with pytest.raises(DataError, match=r"^.*cut\.txt\.gz:\d+: cannot read \("):
        read_embeddings(path, ["the"])


def test_missing_files_and_bad_arguments(write, tmp_path):
    with pytest.raises(DataError, match="no such file"):
        read_embeddings(tmp_path / "absent.txt", ["the"])
    with pytest.raises(DataError, match="is a directory"):
        read_embeddings(tmp_path, ["the"])
    path = write("v.txt", sample("glove", TEXT_WORDS))
    with pytest.raises(ConfigError, match="format='bin' is not one of auto, glove"):
        read_embeddings(path, ["the"], format="bin")
    with pytest.raises(ConfigError, match="unknown text encoding"):
        read_embeddings(path, ["the"], encoding="no-such-codec")
    assert MAX_DIM == 10_000


def test_a_latin1_file_reads_with_its_encoding(write):
    path = write("latin.txt", "café 1 2\n".encode("latin-1"))
    assert read_embeddings(path, ["café"], encoding="latin-1").found.all()


# -- the real GloVe file --------------------------------------------------------------------


@pytest.fixture(scope="module")
def glove() -> Path:
    if not GLOVE.is_file():
        pytest.skip(f"GloVe vectors not found at {GLOVE}")
    return GLOVE


def test_real_glove_covers_the_wnut17_vocabulary(glove):
    if not WNUT_TRAIN.is_file():
        pytest.skip(f"WNUT-17 not found at {WNUT_TRAIN}")
    vocab = Vocabulary.build(read_conll(WNUT_TRAIN).sentences)
    start = time.perf_counter()
    result = read_embeddings(glove, vocab)
    seconds = time.perf_counter() - start
    print(f"{result.summary()} in {seconds:.2f} s")  # shown with -s; timed in benchmarks/
    assert result.format == "glove" and result.dim == 50 and result.file_words == 100_000
    n = len(vocab) - len(vocab.specials)
    found = int(result.found.sum())
    # tweets: a third of the word types are handles, hashtags, typos, emoji
    assert (found, n) == (8_747, 14_878)
    assert len(result.by_lowercase) > 3000  # GloVe is lower-cased: "The", "London", ...
    assert result.summary().startswith(f"{found:,} of {n:,} vocabulary words found")


def test_real_glove_known_vector(glove):
    # the first line of the file: "the 0.418 0.24968 -0.41242 0.1217 ... -0.78581"
    vocab = Vocabulary(["The", "the", "movie"])
    result = read_embeddings(glove, vocab)
    the = result.vectors[vocab["the"]]
    np.testing.assert_array_equal(the[:4], np.float32([0.418, 0.24968, -0.41242, 0.1217]))
    assert the[-1] == np.float32(-0.78581)
    np.testing.assert_array_equal(result.vectors[vocab["The"]], the)
    assert result.missing == []


def test_real_glove_covers_the_bundled_mr_reviews(glove):
    texts = load_mr("train").texts
    vocab = Vocabulary.build([t.split() for t in texts])
    result = read_embeddings(glove, vocab)
    n = len(vocab) - len(vocab.specials)
    # reviews: mostly dictionary words; the rest names, misspellings and rare words
    assert (int(result.found.sum()), n) == (14_260, 19_097)
