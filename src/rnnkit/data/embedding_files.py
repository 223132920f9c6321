"""The files pretrained word vectors come in, read one word at a time.

Three layouts, each gzip-compressed or not (recognised by the gzip magic bytes, not
the name):

- ``glove``: ``word v1 ... vd`` per line, no header; d is set by the first line.
- ``word2vec``: the same lines after a header line ``count dim``; fastText's ``.vec``
  files are this format (``fasttext`` is accepted as a name for it).
- ``word2vec-binary``: the header ``count dim\\n``, then per word its bytes, a space,
  and d float32 little-endian numbers, optionally followed by a newline. A word may
  hold spaces in no format but this one.

:func:`detect_format` tells them apart from the first two lines; :func:`iter_vectors`
yields one :class:`WordVector` per word and checks the file as it goes, holding one
line (or one binary record) at a time. Every problem is one
:class:`~rnnkit.errors.DataError` naming the file and the line (in binary records, the
byte offset).

>>> import tempfile, pathlib
>>> with tempfile.TemporaryDirectory() as d:
...     path = pathlib.Path(d) / "tiny.vec"
...     _ = path.write_text("2 3\\nthe 0.5 1 -1\\ncat 0 0 2.5\\n")
...     fmt = detect_format(path, "tiny.vec")
...     pairs = [(w, v.tolist()) for w, _, v in iter_vectors(path, "tiny.vec", fmt)]
>>> fmt, pairs
('word2vec', [('the', [0.5, 1.0, -1.0]), ('cat', [0.0, 0.0, 2.5])])
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Container, Generator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from rnnkit.data.embedding_checks import (
    MAX_DIM,
    MAX_WORD_BYTES,
    WordVector,
    check_dim,
    decode_word,
    header_numbers,
    is_number,
    parse_header,
    parse_values,
    shown,
)
from rnnkit.data.word2vec_binary import binary_records
from rnnkit.errors import ConfigError, DataError

__all__ = ["EMBEDDING_FORMATS", "detect_format", "iter_vectors", "open_stream"]

#: format names :func:`iter_vectors` reads; ``fasttext`` is ``word2vec`` under its own name
EMBEDDING_FORMATS = ("glove", "word2vec", "fasttext", "word2vec-binary")


@contextmanager
def open_stream(path: Path, source: str) -> Iterator[BinaryIO]:
    """The file's bytes, decompressed when it starts with the gzip magic bytes."""
    if path.is_dir():
        raise DataError(f"{source}: is a directory, not an embedding file")
    try:
        raw = open(path, "rb")  # closed below, after the gzip wrapper
    except FileNotFoundError:
        raise DataError(f"{source}: no such file") from None
    except (OSError, ValueError) as e:
        raise DataError(f"{source}: cannot read: {getattr(e, 'strerror', None) or e}") from None
    with raw:
        gzipped = raw.read(2) == b"\x1f\x8b"
        raw.seek(0)
        if not gzipped:
            yield raw
            return
        with gzip.GzipFile(fileobj=raw, mode="rb") as stream:
            yield stream  # type: ignore[misc]


def detect_format(path: Path, source: str) -> str:
    """``glove``, ``word2vec`` or ``word2vec-binary``, from the file's first lines.

    A first line of two whole numbers is a word2vec header; the record after it is text
    when it is one line of a word and numbers, else binary.
    """
    with _reading(source, "1"), open_stream(path, source) as f:
        first = f.readline(4096)
        header = header_numbers(first)
        if header is None:
            return "glove"
        second = f.readline(64 * (min(header[1], MAX_DIM) + 1) + MAX_WORD_BYTES)
    # NOTE: latin-1 decodes any bytes, and the numbers are ASCII whatever the encoding
    fields = second.decode("latin-1").rstrip("\r\n").rstrip(" ").split(" ")
    if len(fields) > 1 and all(is_number(x) for x in fields[1:]):
        return "word2vec"  # of any length: the reader names a line of the wrong length
    return "word2vec-binary"


def iter_vectors(
    path: Path,
    source: str,
    fmt: str,
    encoding: str = "utf-8",
    keep: Container[str] | None = None,
) -> Generator[WordVector, None, None]:
    """Every record of the file in order, checked as it is read.

    With `keep`, a text line whose word is not in it yields no vector: its values are
    counted, not parsed. NOTE: parsing is most of the time spent on a large file, and
    the values of a word nobody asked for are never used, so a non-number there passes.

    DataError naming `source` and the line (or the byte offset in a binary file) for a
    line with the wrong number of values, a value that is not a finite float32 number,
    a header that does not fit the file (its count of words, its dimension), a
    dimension above :data:`MAX_DIM`, binary junk or a truncated record, bytes that
    `encoding` cannot decode, an empty file, or damaged gzip data.
    """
    if fmt not in EMBEDDING_FORMATS:
        raise ConfigError(f"format={fmt!r} is not one of {', '.join(EMBEDDING_FORMATS)}")
    where = ["1"]  # the line or offset being read, for the message of a gzip failure
    with _reading(source, where), open_stream(path, source) as f:
        if fmt == "word2vec-binary":
            yield from binary_records(f, source, encoding, where)
        else:
            yield from _text_lines(f, source, encoding, fmt != "glove", where, keep)


@contextmanager
def _reading(source: str, where: str | list[str]) -> Iterator[None]:
    """Turn a failed read (damaged gzip data, mostly) into a DataError naming the place."""
    try:
        yield
    except (OSError, EOFError, zlib.error) as e:
        at = where if isinstance(where, str) else where[0]
        sep = ":" if at.isdigit() else ": "
        detail = getattr(e, "strerror", None) or str(e) or type(e).__name__
        raise DataError(f"{source}{sep}{at}: cannot read ({detail})") from None


def _text_lines(
    f: BinaryIO,
    source: str,
    encoding: str,
    has_header: bool,
    where: list[str],
    keep: Container[str] | None,
) -> Iterator[WordVector]:
    """The records of a GloVe or word2vec text file (the header, if any, checked)."""
    count = dim = None
    n_words = 0
    line = 0
    for line, raw in enumerate(f, 1):
        where[0] = str(line)
        text = decode_word(raw, encoding, f"{source}:{line}")
        if line == 1:
            text = text.removeprefix("\ufeff")
            if has_header:
                count, dim = parse_header(raw, f"{source}:1")
                continue
        if not text.strip():
            raise DataError(f"{source}:{line}: an empty line where a word and its vector belong")
        fields = text.rstrip("\r\n").rstrip(" ").split(" ")
        if dim is None:  # GloVe: the first line sets the dimension
            dim = check_dim(len(fields) - 1, f"{source}:{line}")
        if len(fields) - 1 != dim:
            said = "the header says" if has_header else "line 1 has"
            raise DataError(
                f"{source}:{line}: {len(fields) - 1} values after the word "
                f"{shown(fields[0])}, expected {dim} ({said} {dim})"
            )
        if not fields[0]:
            raise DataError(f"{source}:{line}: a line with no word before its values")
        n_words += 1
        if count is not None and n_words > count:
            raise DataError(f"{source}:{line}: more words than the header's {count:,}")
        if keep is None or fields[0] in keep:
            yield WordVector(fields[0], dim, parse_values(fields[1:], f"{source}:{line}"))
        else:
            yield WordVector(fields[0], dim, None)
    if line == 0:
        raise DataError(f"{source}: empty file (no vectors)")
    if count is not None and n_words != count:
        raise DataError(
            f"{source}:{line}: the file ends after {n_words:,} words; the header says {count:,}"
        )
