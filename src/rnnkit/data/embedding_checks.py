"""The checks every reader of embedding files shares: limits, headers, words, values.

Each raises one :class:`~rnnkit.errors.DataError` that starts with the place it is
given (``file:line`` or ``file: byte N``), so text and binary files are named alike.

>>> parse_header(b"400000 50\\n", "glove.txt:1")
(400000, 50)
>>> parse_values(["0.5", "-1e-3"], "glove.txt:7").tolist()
[0.5, -0.0010000000474974513]
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from rnnkit.errors import DataError

__all__ = [
    "F32_MAX",
    "MAX_DIM",
    "MAX_WORDS",
    "MAX_WORD_BYTES",
    "WordVector",
    "check_dim",
    "decode_word",
    "header_numbers",
    "is_number",
    "parse_header",
    "parse_values",
    "shown",
]

#: the largest dimension accepted; published vectors have 25 to 1,024 (refused before
#: anything of that size is allocated, so a lying header cannot ask for gigabytes)
MAX_DIM = 10_000
#: the most words a header may announce (the largest published files hold a few million)
MAX_WORDS = 100_000_000
#: the longest word a binary record may hold, in bytes, before it is taken for junk
MAX_WORD_BYTES = 1_000
#: the largest float32: a value beyond it would become infinite
F32_MAX = float(np.finfo(np.float32).max)


class WordVector(NamedTuple):
    """One record of an embedding file."""

    word: str
    dim: int  # d, the same for every record of a file
    vector: np.ndarray | None  # (d,) float32; None for a text line whose word was not asked for


def header_numbers(first: bytes) -> tuple[int, int] | None:
    """(count, dim) when `first` is two whole numbers, else None."""
    fields = first.removeprefix(b"\xef\xbb\xbf").split()
    if len(fields) == 2 and all(x.isdigit() and len(x) <= 12 for x in fields):
        return int(fields[0]), int(fields[1])
    return None


def parse_header(first: bytes, at: str) -> tuple[int, int]:
    """(count, dim) from a word2vec header line, both within their limits."""
    header = header_numbers(first)
    if header is None:
        shown = first[:40].decode("latin-1").rstrip("\r\n")
        raise DataError(f"{at}: expected the header 'count dim', found {shown!r}")
    count, dim = header
    if not 1 <= count <= MAX_WORDS:
        raise DataError(f"{at}: the header announces {count:,} words; 1 to {MAX_WORDS:,} are read")
    return count, check_dim(dim, at)


def check_dim(dim: int, at: str) -> int:
    """`dim`, unless it lies outside 1 to MAX_DIM."""
    if not 1 <= dim <= MAX_DIM:
        raise DataError(f"{at}: dimension {dim:,}: vectors of 1 to {MAX_DIM:,} values are read")
    return dim


def decode_word(raw: bytes, encoding: str, at: str) -> str:
    """`raw` decoded, or a DataError naming the encoding that failed.

    NOTE: no flag is suggested: the command line's --encoding is the data file's, and
    the vectors' (read_embeddings(encoding=...)) is not a flag.
    """
    try:
        return raw.decode(encoding)
    except UnicodeError:
        raise DataError(
            f"{at}: cannot decode bytes with encoding {encoding!r}; "
            f"word vectors must be {encoding} text"
        ) from None


def parse_values(values: list[str], at: str) -> np.ndarray:
    """The values as float32, refusing non-numbers, NaN, infinities and overflow."""
    try:
        vector = np.array(values, dtype=np.float64)
    except ValueError:
        bad = next((x for x in values if not is_number(x)), values[0])
        raise DataError(f"{at}: {shown(bad)} is not a number") from None
    if not np.isfinite(vector).all() or np.abs(vector).max() > F32_MAX:
        raise DataError(f"{at}: a value is NaN, infinite or beyond float32's range")
    return vector.astype(np.float32)


def is_number(text: str) -> bool:
    """Whether float() reads `text`."""
    try:
        float(text)
    except ValueError:
        return False
    return True


def shown(text: str, limit: int = 40) -> str:
    """`text` quoted, cut at `limit` characters, for a message."""
    return repr(text if len(text) <= limit else text[:limit] + "...")
