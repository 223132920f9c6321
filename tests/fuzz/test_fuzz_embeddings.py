"""Fuzz: pretrained embedding files (GloVe, word2vec text and binary, gzip or not).

``read_embeddings`` returns sound vectors or raises one line naming the file and a line
it has (or a byte offset); see ``hostile.py`` for the inputs. Near-valid files are made
of the pieces these formats trip over: headers that lie about the count or dimension,
huge dimensions, lines of the wrong length, non-numbers, NaN and infinities, binary
records cut short or followed by junk.
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given

from hostile import ENCODINGS, PIECES, Draw, check_error, drawn, fuzz, hostile_bytes, n_lines
from rnnkit.data import EMBEDDING_FORMATS, PretrainedVectors, read_embeddings
from rnnkit.data.embedding_checks import MAX_DIM
from rnnkit.errors import ConfigError, DataError, RnnkitError

WORDS = ["the", "The", "a", "Bc", "é😀", "<unk>", "New York"]
FORMATS = ("auto", *EMBEDDING_FORMATS)
#: pieces of text embedding files: words, numbers good and bad, separators, headers
TEXT_PIECES = (
    *PIECES[:30],
    b"the",
    b"a",
    b" 0.5",
    b" -1e-3",
    b" 1e39",
    b" nan",
    b" inf",
    b" x",
    b"\n",
    b"2 3\n",
    b"1 1\n",
    b"3 99999999999\n",
    b"999999999999 2\n",
)
#: binary headers: honest, lying about the count or the dimension, huge, malformed
HEADERS = (b"2 2\n", b"1 2\n", b"3 2\n", b"2 3\n", b"2 1\n", b"1 100000\n", b"9" * 20 + b" 2\n")


def check_vectors(result: PretrainedVectors) -> None:
    """What every result promises: one finite float32 row per word, zeros where not found."""
    assert 1 <= result.dim <= MAX_DIM and result.file_words >= 1
    assert result.vectors.shape == (len(result.words), result.dim)
    assert result.vectors.dtype == np.float32 and np.isfinite(result.vectors).all()
    assert not result.vectors[~result.found].any()
    assert "\n" not in result.summary()


def read_or_error(path: Path, data: bytes, fmt: str = "auto", encoding: str = "utf-8") -> None:
    path.write_bytes(data)
    lines = n_lines(unzipped(data))
    try:
        result = read_embeddings(path, WORDS, format=fmt, encoding=encoding)
    except ConfigError as exc:
        assert str(exc).startswith("encoding: ") and "\n" not in str(exc)
    except RnnkitError as exc:
        check_error(exc, str(path), lines)
    else:
        check_vectors(result)


def unzipped(data: bytes) -> bytes:
    """The bytes the reader sees: gzip data decompressed as far as it goes."""
    if data[:2] != b"\x1f\x8b":
        return data
    try:
        return zlib.decompressobj(wbits=31).decompress(data)
    except zlib.error:
        return b""


def near_valid_text(d: Draw) -> bytes:
    return d.rest(TEXT_PIECES)


def near_valid_binary(d: Draw) -> bytes:
    """A header, then records of words and float32 bytes (some NaN), cut anywhere."""
    out = [d.pick(HEADERS)]
    for _ in range(d.byte() % 4):
        values = np.array([d.pick([0.5, -2.0, np.nan, np.inf, 1e-3]) for _ in range(d.byte() % 4)])
        out += [d.pick([w.encode() for w in WORDS] + [b"", b"\xff"]), d.pick([b" ", b"", b"\n"])]
        out += [values.astype("<f4").tobytes(), d.pick([b"\n", b"", b"\n\n", b"junk"])]
    data = b"".join(out)
    return data[: len(data) - d.byte() % 3]


def maybe_gzip(d: Draw, data: bytes) -> bytes:
    """`data` as it is, gzip-compressed, or compressed and then cut short."""
    kind = d.byte() % 4
    if kind < 2:
        return data
    packed = gzip.compress(data, mtime=0)
    return packed if kind == 2 else packed[: len(packed) // 2]


@fuzz(500)
@given(drawn(lambda d: (d.pick(FORMATS), hostile_bytes(d)), 300))
def test_any_bytes(tmp_path: Path, case: tuple[str, bytes]) -> None:
    fmt, data = case
    read_or_error(tmp_path / "vectors.txt", data, fmt)


@fuzz(800)
@given(drawn(lambda d: (d.pick(FORMATS), maybe_gzip(d, near_valid_text(d))), 80))
def test_near_valid_text_files(tmp_path: Path, case: tuple[str, bytes]) -> None:
    fmt, data = case
    read_or_error(tmp_path / "vectors.vec", data, fmt)


@fuzz(800)
@given(drawn(lambda d: (d.pick(FORMATS), maybe_gzip(d, near_valid_binary(d))), 80))
def test_near_valid_binary_files(tmp_path: Path, case: tuple[str, bytes]) -> None:
    fmt, data = case
    read_or_error(tmp_path / "vectors.bin", data, fmt)


@fuzz(200)
@given(drawn(lambda d: (d.pick(ENCODINGS), near_valid_text(d)), 80))
def test_any_encoding(tmp_path: Path, case: tuple[str, bytes]) -> None:
    encoding, data = case
    read_or_error(tmp_path / "vectors.txt", data, encoding=encoding)


# -- the cases the brief of every reader names, one line each ---------------------------


@pytest.mark.parametrize(
    ("data", "fmt", "start"),
    [
        (b"3 2\nthe 1 2\n", "auto", ":2: the file ends after 1 words; the header says 3"),
        (b"2 5\nthe 1 2\na 1 2\n", "auto", ":2: 2 values after the word 'the', expected 5"),
        (b"2 123456789\n", "auto", ":1: dimension 123,456,789: vectors of 1 to 10,000"),
        (b"1 2\n" + b"\xff" * 5000, "word2vec-binary", ": byte 4: no space within 1,000 bytes"),
        (b"the 1 inf\n", "glove", ":1: a value is NaN, infinite or beyond float32's range"),
    ],
)
def test_one_clear_line(tmp_path: Path, data: bytes, fmt: str, start: str) -> None:
    path = tmp_path / "v.txt"
    path.write_bytes(data)
    with pytest.raises(DataError) as info:
        read_embeddings(path, WORDS, format=fmt)
    check_error(info.value, str(path), n_lines(data))
    assert str(info.value).startswith(f"{path}{start}")
