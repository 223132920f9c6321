"""Reading text files: their bytes, their encoding, their lines, and where they go wrong.

What every reader of rnnkit.data shares, so that each names a missing file, an unknown
encoding and an undecodable byte the same way: ``path: no such file``,
``encoding: unknown text encoding 'x'`` (a ConfigError), and
``path:line: cannot decode bytes with encoding 'utf-8'; try --encoding latin-1``.

A binary file is refused before it is decoded, whatever the encoding (latin-1 decodes
any bytes): ``path looks binary (NUL bytes at offset 24): rnnkit reads text``. A text
file holds no NUL, and few control characters besides tab, line and page breaks.

>>> decode_bytes(b"\\x7fELF\\x02\\x01\\x01\\x00", "latin-1", "a.out")
Traceback (most recent call last):
...
rnnkit.errors.DataError: a.out looks binary (NUL bytes at offset 7): rnnkit reads text

>>> decode_bytes("ok\\nnaïve".encode("latin-1"), "utf-8", "names.txt")
Traceback (most recent call last):
...
rnnkit.errors.DataError: names.txt:2: cannot decode bytes with encoding 'utf-8'; try --encoding latin-1
>>> split_lines("a\\x85b\\r\\nc")
['a\\x85b', 'c']
"""  # noqa: E501

from __future__ import annotations

import codecs
import functools
from collections.abc import Iterator
from pathlib import Path

from rnnkit.errors import ConfigError, DataError

__all__ = [
    "bad_line_of_file",
    "check_encoding",
    "check_file_not_binary",
    "check_not_binary",
    "decode_bytes",
    "read_bytes",
    "split_lines",
]

#: how much of a file's start is examined for control characters
SNIFF_SIZE = 8192
#: a larger share of control characters there, and the file is taken for binary
CONTROL_SHARE = 0.1
#: the control characters text holds: tab, line feed, vertical tab, form feed, carriage
#: return, escape (terminal colours)
TEXT_CONTROLS = frozenset("\t\n\x0b\x0c\r\x1b")
#: bytes to read at a time when a streamed file is scanned for NUL bytes
SCAN_CHUNK = 1 << 20


def decode_bytes(data: bytes, encoding: str, source: str) -> str:
    """Decode a file's bytes; on failure name the line of the first bad byte.

    A file that looks binary is a DataError first (see :func:`check_not_binary`).
    """
    check_encoding(encoding)
    if _ascii_compatible(encoding):
        check_not_binary(data, source)
    try:
        text = data.decode(encoding)
    except UnicodeError as e:
        raise DataError(
            f"{source}:{_bad_line(data, encoding, e)}: cannot decode bytes with encoding "
            f"{encoding!r}; try --encoding latin-1"
        ) from None
    if not _ascii_compatible(encoding):  # utf-16 and the like: NUL bytes are text there
        check_not_binary(text, source)
    return text.removeprefix("\ufeff")


def check_not_binary(data: bytes | str, source: str, offset: int = 0) -> None:
    """DataError when `data` (a file's bytes, or its decoded text) looks binary: it holds
    a NUL, or more than :data:`CONTROL_SHARE` of its first :data:`SNIFF_SIZE` are
    control characters. The message shows none of the content; `offset`: where
    `data` starts in the file.
    """
    nul, unit = (
        (data.find(b"\0"), "bytes") if isinstance(data, bytes) else (data.find("\0"), "characters")
    )
    if nul >= 0:
        raise DataError(
            f"{source} looks binary (NUL {unit} at offset {offset + nul:,}): rnnkit reads text"
        )
    if offset:
        return
    head = data[:SNIFF_SIZE]
    chars = head.decode("latin-1") if isinstance(head, bytes) else head
    controls = sum(1 for c in chars if (c < " " or c == "\x7f") and c not in TEXT_CONTROLS)
    if chars and controls > CONTROL_SHARE * len(chars):
        raise DataError(
            f"{source} looks binary ({controls / len(chars):.0%} of its first {len(chars):,} "
            "characters are control characters): rnnkit reads text"
        )


def check_file_not_binary(path: Path, source: str, encoding: str) -> None:
    """:func:`check_not_binary` on a file too large to hold, read in chunks; a file that
    cannot be opened is left to its reader, which names the reason."""
    if not _ascii_compatible(encoding):
        try:
            with open(path, encoding=encoding, errors="replace") as f:
                head = f.read(SNIFF_SIZE)
        except (OSError, ValueError, UnicodeError):  # ValueError: a path holding a NUL
            return
        check_not_binary(head, source)
        return
    offset = 0
    for chunk in _chunks(path):
        check_not_binary(chunk, source, offset)
        offset += len(chunk)


def _chunks(path: Path) -> Iterator[bytes]:
    """The file's bytes, :data:`SCAN_CHUNK` at a time; none when it cannot be read."""
    try:
        with open(path, "rb") as f:
            while chunk := f.read(SCAN_CHUNK):
                yield chunk
    except (OSError, ValueError):  # ValueError: a path holding a NUL
        return


@functools.lru_cache(maxsize=32)
def _ascii_compatible(encoding: str) -> bool:
    """Whether `encoding` writes ASCII (NUL, tab, newline, letters) as ASCII bytes, so
    that a NUL byte is a NUL character (not so in utf-16 or utf-32)."""
    try:
        return "\0\t\n az".encode(encoding) == b"\0\t\n az"
    except (UnicodeError, LookupError):
        return False


def _bad_line(data: bytes, encoding: str, error: UnicodeError) -> int:
    """The line holding the byte `error` points at; 1 when it points at none.

    NOTE: a few codecs raise a bare UnicodeError (punycode, undefined), or one about a
    piece of the input (idna), and some refuse ``errors="replace"`` (idna).
    """
    if not isinstance(error, UnicodeDecodeError) or bytes(error.object) != data:
        return 1
    try:
        return data[: error.start].decode(encoding, errors="replace").count("\n") + 1
    except UnicodeError:
        return 1


def check_encoding(encoding: str) -> None:
    """ConfigError unless `encoding` names a text encoding (not rot13, hex, ...)."""
    try:
        codecs.lookup(encoding)
    except (LookupError, TypeError, ValueError):  # ValueError: a name holding a NUL
        raise ConfigError(f"encoding: unknown text encoding {encoding!r}") from None
    try:
        b"\0".decode(encoding)  # not b"": that is decoded without asking the codec
    except LookupError:  # a bytes-to-bytes or str-to-str codec
        raise ConfigError(f"encoding: {encoding!r} is not a text encoding") from None
    except UnicodeError:
        pass  # a text encoding in which a lone NUL byte is not text (utf-16, ...)


def split_lines(text: str) -> list[str]:
    """The lines of `text`, ended by ``\\r\\n``, ``\\r`` or ``\\n`` as editors end them.

    NOTE: not str.splitlines, which also breaks at \\x0b, \\x0c, \\x1c-\\x1e, \\x85 (NEL in
    a latin-1 file), \\u2028 and \\u2029: characters a token may hold, and lines an editor
    does not count.

    >>> split_lines("a\\x85b\\r\\nc\\rd\\n")
    ['a\\x85b', 'c', 'd', '']
    """
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def read_bytes(path: Path, source: str, kind: str = "table file") -> bytes:
    """The file's bytes; DataError naming `source` when it is missing, a directory or unreadable."""
    if path.is_dir():
        raise DataError(f"{source}: is a directory, not a {kind}")
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{source}: no such file") from None
    except OSError as e:
        raise DataError(f"{source}: cannot read: {e.strerror or e}") from None
    except ValueError as e:  # a path holding a NUL
        raise DataError(f"{source}: cannot read: {e}") from None


def bad_line_of_file(path: Path, encoding: str) -> int:
    """1-based line of the first bytes of `path` that `encoding` cannot decode.

    Reads the file again, in binary lines, on the error path only, so that a large
    file still never sits in memory whole.
    """
    decoder = codecs.getincrementaldecoder(encoding)()
    newlines = 0
    try:
        with open(path, "rb") as f:
            for raw in f:
                newlines += decoder.decode(raw).count("\n")
    except (UnicodeError, OSError):
        pass
    return newlines + 1
