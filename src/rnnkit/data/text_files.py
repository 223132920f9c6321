"""Reading text files: their bytes, their encoding, their lines, and where they go wrong.

What every reader of rnnkit.data shares, so that each names a missing file, an unknown
encoding and an undecodable byte the same way: ``path: no such file``,
``encoding: unknown text encoding 'x'`` (a ConfigError), and
``path:line: cannot decode bytes with encoding 'utf-8'; try --encoding latin-1``.

>>> decode_bytes("ok\\nnaïve".encode("latin-1"), "utf-8", "names.txt")
Traceback (most recent call last):
...
rnnkit.errors.DataError: names.txt:2: cannot decode bytes with encoding 'utf-8'; try --encoding latin-1
>>> split_lines("a\\x85b\\r\\nc")
['a\\x85b', 'c']
"""  # noqa: E501

from __future__ import annotations

import codecs
from pathlib import Path

from rnnkit.errors import ConfigError, DataError

__all__ = ["bad_line_of_file", "check_encoding", "decode_bytes", "read_bytes", "split_lines"]


def decode_bytes(data: bytes, encoding: str, source: str) -> str:
    """Decode a file's bytes; on failure name the line of the first bad byte."""
    check_encoding(encoding)
    try:
        text = data.decode(encoding)
    except UnicodeError as e:
        raise DataError(
            f"{source}:{_bad_line(data, encoding, e)}: cannot decode bytes with encoding "
            f"{encoding!r}; try --encoding latin-1"
        ) from None
    return text.removeprefix("\ufeff")


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
