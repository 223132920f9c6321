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
from collections.abc import Container, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, NamedTuple

import numpy as np

from rnnkit.errors import ConfigError, DataError

__all__ = [
    "EMBEDDING_FORMATS",
    "MAX_DIM",
    "MAX_WORDS",
    "WordVector",
    "detect_format",
    "iter_vectors",
]

#: format names :func:`iter_vectors` reads; ``fasttext`` is ``word2vec`` under its own name
EMBEDDING_FORMATS = ("glove", "word2vec", "fasttext", "word2vec-binary")
#: the largest dimension accepted; published vectors have 25 to 1,024 (refused before
#: anything of that size is allocated, so a lying header cannot ask for gigabytes)
MAX_DIM = 10_000
#: the most words a header may announce (the largest published files hold a few million)
MAX_WORDS = 100_000_000
#: the longest word a binary record may hold, in bytes, before it is taken for junk
MAX_WORD_BYTES = 1_000
_F32_MAX = float(np.finfo(np.float32).max)


class WordVector(NamedTuple):
    """One record of an embedding file."""

    word: str
    dim: int  # d, the same for every record of a file
    vector: np.ndarray | None  # (d,) float32; None for a text line whose word was not asked for


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
        header = _header_numbers(first)
        if header is None:
            return "glove"
        second = f.readline(64 * (min(header[1], MAX_DIM) + 1) + MAX_WORD_BYTES)
    # NOTE: latin-1 decodes any bytes, and the numbers are ASCII whatever the encoding
    fields = second.decode("latin-1").rstrip("\r\n").rstrip(" ").split(" ")
    if len(fields) > 1 and all(_is_number(x) for x in fields[1:]):
        return "word2vec"  # of any length: the reader names a line of the wrong length
    return "word2vec-binary"


def iter_vectors(
    path: Path,
    source: str,
    fmt: str,
    encoding: str = "utf-8",
    keep: Container[str] | None = None,
) -> Iterator[WordVector]:
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
            yield from _binary_records(f, source, encoding, where)
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
        text = _decode(raw, encoding, f"{source}:{line}")
        if line == 1:
            text = text.removeprefix("\ufeff")
            if has_header:
                count, dim = _parse_header(raw, f"{source}:1")
                continue
        if not text.strip():
            raise DataError(f"{source}:{line}: an empty line where a word and its vector belong")
        fields = text.rstrip("\r\n").rstrip(" ").split(" ")
        if dim is None:  # GloVe: the first line sets the dimension
            dim = _check_dim(len(fields) - 1, f"{source}:{line}")
        if len(fields) - 1 != dim:
            said = "the header says" if has_header else "line 1 has"
            raise DataError(
                f"{source}:{line}: {len(fields) - 1} values after the word "
                f"{_shown(fields[0])}, expected {dim} ({said} {dim})"
            )
        if not fields[0]:
            raise DataError(f"{source}:{line}: a line with no word before its values")
        n_words += 1
        if count is not None and n_words > count:
            raise DataError(f"{source}:{line}: more words than the header's {count:,}")
        if keep is None or fields[0] in keep:
            yield WordVector(fields[0], dim, _numbers(fields[1:], f"{source}:{line}"))
        else:
            yield WordVector(fields[0], dim, None)
    if line == 0:
        raise DataError(f"{source}: empty file (no vectors)")
    if count is not None and n_words != count:
        raise DataError(
            f"{source}:{line}: the file ends after {n_words:,} words; the header says {count:,}"
        )


def _binary_records(
    f: BinaryIO, source: str, encoding: str, where: list[str]
) -> Iterator[WordVector]:
    """The records of a word2vec binary file, each checked at its byte offset."""
    first = f.readline(4096)
    if not first:
        raise DataError(f"{source}: empty file (no vectors)")
    count, dim = _parse_header(first, f"{source}:1")
    reader = _Records(f, len(first), source)
    for i in range(count):
        reader.skip_newline()
        at = f"{source}: byte {reader.offset}"
        where[0] = f"byte {reader.offset}"
        word_bytes = reader.word(dim)
        if word_bytes is None:
            raise DataError(f"{at}: the file ends after {i:,} words; the header says {count:,}")
        word = _decode(word_bytes, encoding, at)
        if not word or word.isspace():
            raise DataError(f"{at}: an empty word (binary junk, or a header that lies)")
        data = reader.take(4 * dim)
        if len(data) < 4 * dim:
            raise DataError(f"{at}: the record of {_shown(word)} is cut short (truncated file)")
        vector = np.frombuffer(data, dtype="<f4").astype(np.float32)
        if not np.isfinite(vector).all():
            raise DataError(f"{at}: the vector of {_shown(word)} holds NaN or infinity")
        yield WordVector(word, dim, vector)
    reader.skip_newline()
    if reader.rest().strip(b"\n\r\t "):
        raise DataError(
            f"{source}: byte {reader.offset}: more data after the header's {count:,} words"
        )


class _Records:
    """A binary stream read in chunks, with the byte offset of what comes next."""

    def __init__(self, f: BinaryIO, offset: int, source: str) -> None:
        self.f, self.offset, self.source = f, offset, source
        self.buf, self.pos = b"", 0
        self.newlines: bool | None = None  # do records end in a newline? (set by the first)

    def _fill(self, n: int) -> bool:
        """At least `n` bytes buffered after ``pos`` (False at the end of the file)."""
        while len(self.buf) - self.pos < n:
            chunk = self.f.read(max(1 << 16, n))
            if not chunk:
                return False
            self.buf = self.buf[self.pos :] + chunk
            self.pos = 0
        return True

    def take(self, n: int) -> bytes:
        self._fill(n)
        data = self.buf[self.pos : self.pos + n]
        self.pos += len(data)
        self.offset += len(data)
        return data

    def word(self, dim: int) -> bytes | None:
        """The word of the next record (a newline before it skipped); None at the end.

        NOTE: a word may hold spaces. Where records end in a newline (as word2vec
        writes them), the word ends at the first space that puts the end of a
        ``dim``-float vector on a newline (or the end of the file); elsewhere it ends
        at the first space, as gensim reads it.
        """
        self.skip_newline()
        if not self._fill(MAX_WORD_BYTES + 2 + 4 * dim) and self.pos == len(self.buf):
            return None
        limit = self.pos + MAX_WORD_BYTES + 1
        first = end = self.buf.find(b" ", self.pos, limit)
        if end < 0:
            raise DataError(
                f"{self.source}: byte {self.offset}: no space within {MAX_WORD_BYTES:,} bytes "
                "where a word was expected (binary junk, or a header that lies)"
            )
        while self.newlines is not False:
            after = end + 1 + 4 * dim
            if after >= len(self.buf) or self.buf[after] == 0x0A:
                break
            end = self.buf.find(b" ", end + 1, limit)
            if end < 0:
                end = first
                break
        if self.newlines is None:  # the first record tells whether records end in one
            after = end + 1 + 4 * dim
            self.newlines = after >= len(self.buf) or self.buf[after] == 0x0A
        word = self.take(end - self.pos)
        self.take(1)
        return word

    def skip_newline(self) -> None:
        """Step over the newline that may end a record."""
        self._fill(1)
        if self.buf[self.pos : self.pos + 1] == b"\n":
            self.take(1)

    def rest(self) -> bytes:
        """What is left of the file, up to 4 KiB (enough to tell junk from a newline)."""
        self._fill(4096)
        return self.buf[self.pos : self.pos + 4096]


def _header_numbers(first: bytes) -> tuple[int, int] | None:
    """(count, dim) when `first` is two whole numbers, else None."""
    fields = first.removeprefix(b"\xef\xbb\xbf").split()
    if len(fields) == 2 and all(x.isdigit() and len(x) <= 12 for x in fields):
        return int(fields[0]), int(fields[1])
    return None


def _parse_header(first: bytes, at: str) -> tuple[int, int]:
    header = _header_numbers(first)
    if header is None:
        shown = first[:40].decode("latin-1").rstrip("\r\n")
        raise DataError(f"{at}: expected the header 'count dim', found {shown!r}")
    count, dim = header
    if not 1 <= count <= MAX_WORDS:
        raise DataError(f"{at}: the header announces {count:,} words; 1 to {MAX_WORDS:,} are read")
    return count, _check_dim(dim, at)


def _check_dim(dim: int, at: str) -> int:
    if not 1 <= dim <= MAX_DIM:
        raise DataError(f"{at}: dimension {dim:,}: vectors of 1 to {MAX_DIM:,} values are read")
    return dim


def _decode(raw: bytes, encoding: str, at: str) -> str:
    try:
        return raw.decode(encoding)
    except UnicodeError:
        raise DataError(
            f"{at}: cannot decode bytes with encoding {encoding!r}; try --encoding latin-1"
        ) from None


def _numbers(values: list[str], at: str) -> np.ndarray:
    """The values as float32, refusing non-numbers, NaN, infinities and overflow."""
    try:
        vector = np.array(values, dtype=np.float64)
    except ValueError:
        bad = next((x for x in values if not _is_number(x)), values[0])
        raise DataError(f"{at}: {_shown(bad)} is not a number") from None
    if not np.isfinite(vector).all() or np.abs(vector).max() > _F32_MAX:
        raise DataError(f"{at}: a value is NaN, infinite or beyond float32's range")
    return vector.astype(np.float32)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _shown(text: str, limit: int = 40) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "...")
