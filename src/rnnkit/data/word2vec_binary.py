"""word2vec's binary format, read one record at a time with its byte offset.

The header ``count dim\\n``, then per word: its bytes, a space, ``dim`` float32
little-endian numbers, and optionally a newline. A word may hold spaces (see
:meth:`Records.word`). Problems are named by byte offset: ``vectors.bin: byte 1234: ...``.

>>> import io, numpy as np
>>> data = b"1 2\\nNew York " + np.float32([1.5, -2]).tobytes() + b"\\n"
>>> [(w, v.tolist()) for w, _, v in binary_records(io.BytesIO(data), "v.bin", "utf-8", ["1"])]
[('New York', [1.5, -2.0])]
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

import numpy as np

from rnnkit.data.embedding_checks import (
    MAX_WORD_BYTES,
    WordVector,
    decode_word,
    parse_header,
    shown,
)
from rnnkit.errors import DataError

__all__ = ["Records", "binary_records"]


def binary_records(
    f: BinaryIO, source: str, encoding: str, where: list[str]
) -> Iterator[WordVector]:
    """The records of a word2vec binary file, each checked at its byte offset.

    `where` holds the offset being read (for the message of a failed read).
    """
    first = f.readline(4096)
    if not first:
        raise DataError(f"{source}: empty file (no vectors)")
    count, dim = parse_header(first, f"{source}:1")
    reader = Records(f, len(first), source)
    for i in range(count):
        reader.skip_newline()
        at = f"{source}: byte {reader.offset}"
        where[0] = f"byte {reader.offset}"
        word_bytes = reader.word(dim)
        if word_bytes is None:
            raise DataError(f"{at}: the file ends after {i:,} words; the header says {count:,}")
        word = decode_word(word_bytes, encoding, at)
        if not word or word.isspace():
            raise DataError(f"{at}: an empty word (binary junk, or a header that lies)")
        data = reader.take(4 * dim)
        if len(data) < 4 * dim:
            raise DataError(f"{at}: the record of {shown(word)} is cut short (truncated file)")
        vector = np.frombuffer(data, dtype="<f4").astype(np.float32)
        if not np.isfinite(vector).all():
            raise DataError(f"{at}: the vector of {shown(word)} holds NaN or infinity")
        yield WordVector(word, dim, vector)
    reader.skip_newline()
    if reader.rest().strip(b"\n\r\t "):
        raise DataError(
            f"{source}: byte {reader.offset}: more data after the header's {count:,} words"
        )


class Records:
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
