"""Crash-safe file writes and strict JSON reads.

Every file rnnkit writes goes through :func:`atomic_write_bytes`: the bytes go to a
temporary file in the same directory, which is flushed, synced to disk and renamed over
the target. A crash, a full disk or an exception at any point leaves either the old
file, whole, or the new one, never a mixture; the temporary file is removed on failure.

>>> import tempfile
>>> from pathlib import Path
>>> with tempfile.TemporaryDirectory() as tmp:
...     path = Path(tmp) / "config.json"
...     atomic_write_json(path, {"task": "classify", "units": 3})
...     print(path.read_text(encoding="utf-8"), end="")
...     read_json(path)
{
  "task": "classify",
  "units": 3
}
{'task': 'classify', 'units': 3}
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from rnnkit.errors import ModelFileError, RnnkitError

__all__ = [
    "atomic_write_bytes",
    "atomic_write_json",
    "atomic_write_text",
    "fsync_directory",
    "json_safe",
    "json_text",
    "parse_json",
    "read_file",
    "read_json",
]


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Replace the file at `path` with `data`, all or nothing.

    Parameters
    ----------
    path : str or os.PathLike
        Target file; its directory must exist.
    data : bytes
        The complete new content.

    Notes
    -----
    The temporary file is ``.<name>.<random>.tmp`` beside the target, so the final
    :func:`os.replace` never crosses a file system. The new file keeps the permission
    bits of the file it replaces, or gets the usual ``0o666 & ~umask`` if it is new.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = Path(tmp) / "a.bin"
    ...     atomic_write_bytes(path, b"old")
    ...     atomic_write_bytes(path, b"new")
    ...     path.read_bytes(), sorted(p.name for p in Path(tmp).iterdir())
    (b'new', ['a.bin'])
    """
    target = Path(path)
    directory = target.parent
    tmp = tempfile.NamedTemporaryFile(  # closed by the `with` below, before the rename
        mode="wb", delete=False, dir=directory, prefix=f".{target.name}.", suffix=".tmp"
    )
    try:
        with tmp:
            tmp.write(data)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.chmod(tmp.name, _mode_for(target))
        os.replace(tmp.name, target)
    except BaseException:
        # NOTE: BaseException, so Ctrl-C mid-write does not leave a .tmp file behind.
        Path(tmp.name).unlink(missing_ok=True)
        raise
    fsync_directory(directory)


def atomic_write_text(path: str | os.PathLike[str], text: str, encoding: str = "utf-8") -> None:
    """Replace the file at `path` with `text`, all or nothing.

    Line endings are written exactly as they are in `text` (no translation to the
    platform's), so a file has the same bytes on every operating system.

    Parameters
    ----------
    path : str or os.PathLike
        Target file; its directory must exist.
    text : str
        The complete new content.
    encoding : str, default "utf-8"
        Text encoding.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     atomic_write_text(Path(tmp) / "labels.txt", "neg\\npos\\n")
    ...     (Path(tmp) / "labels.txt").read_bytes()
    b'neg\\npos\\n'
    """
    atomic_write_bytes(path, text.encode(encoding))


def atomic_write_json(path: str | os.PathLike[str], obj: Any) -> None:
    """Write `obj` as UTF-8 JSON (indent 2, keys in their given order, trailing newline).

    Parameters
    ----------
    path : str or os.PathLike
        Target file; its directory must exist.
    obj : JSON-serialisable object
        Dicts, lists, strings, ints, finite floats, booleans and None.

    Raises
    ------
    ValueError
        If `obj` holds NaN or an infinity: JSON has no such numbers, and one in a
        config is a bug; or a string holding a lone surrogate, which has no UTF-8
        form. Nothing is written.
    TypeError
        If `obj` holds a value JSON cannot represent (a NumPy scalar, for example).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     atomic_write_json(Path(tmp) / "c.json", {"lr": float("nan")})
    Traceback (most recent call last):
    ...
    ValueError: .../c.json: cannot write NaN or infinity as JSON (...)
    """
    atomic_write_text(path, json_text(obj, path))


def read_json(path: str | os.PathLike[str], *, error: type[RnnkitError] = ModelFileError) -> Any:
    """Read a strict JSON file (no NaN or Infinity), raising `error` naming the file.

    Parameters
    ----------
    path : str or os.PathLike
        The file to read, UTF-8 (a leading byte-order mark is allowed).
    error : type of RnnkitError, default ModelFileError
        The exception raised when the file is missing or not valid JSON, so a data
        reader can ask for a ``DataError`` instead.

    Returns
    -------
    object
        The parsed value.

    Raises
    ------
    RnnkitError
        Of type `error`: ``path: missing``, ``path: not a regular file`` (a FIFO or a
        device, which could block or never end), ``path: invalid JSON at line L column C``,
        ``path: invalid JSON: ...`` (NaN, a number that overflows to infinity, an
        integer too long to read, nesting too deep), ``path: not UTF-8 text ...`` or
        ``path: cannot read (...)``.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = Path(tmp) / "bad.json"
    ...     _ = path.write_text('{"a": 1,\\n "b": }', encoding="utf-8")
    ...     read_json(path)
    Traceback (most recent call last):
    ...
    rnnkit.errors.ModelFileError: .../bad.json: invalid JSON at line 2 column 7
    """
    return parse_json(read_file(path, "a JSON file", error), path, error=error)


def read_file(path: str | os.PathLike[str], kind: str, error: type[RnnkitError]) -> bytes:
    """The bytes of a regular file, or `error` naming `path`: missing, a directory, not a
    regular file (a FIFO or a device, which could block or never end), unreadable."""
    if not os.path.isfile(path):  # follows links; False for a path holding a NUL
        if os.path.isdir(path):
            raise error(f"{path}: is a directory, expected {kind}")
        if os.path.lexists(path):
            raise error(f"{path}: not a regular file, expected {kind}")
        raise error(f"{path}: missing")
    try:
        with open(path, "rb") as file:
            return file.read()
    except FileNotFoundError:  # removed since
        raise error(f"{path}: missing") from None
    except OSError as exc:
        raise error(f"{path}: cannot read ({exc.strerror})") from None


def parse_json(
    data: bytes, path: str | os.PathLike[str], *, error: type[RnnkitError] = ModelFileError
) -> Any:
    """The value of strict JSON `data` read from `path`; see :func:`read_json`."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise error(f"{path}: not UTF-8 text (bad byte at offset {exc.start})") from None
    try:
        return json.loads(
            text, parse_constant=_reject_constant, parse_float=_finite, parse_int=_integer
        )
    except json.JSONDecodeError as exc:
        raise error(f"{path}: invalid JSON at line {exc.lineno} column {exc.colno}") from None
    except _NonFiniteError as exc:
        raise error(f"{path}: invalid JSON: {exc} is not a JSON number") from None
    except _BadNumberError as exc:
        raise error(f"{path}: invalid JSON: {exc}") from None
    except RecursionError:
        raise error(f"{path}: invalid JSON: nested too deeply") from None


def json_text(obj: Any, path: str | os.PathLike[str]) -> str:
    """`obj` as the text :func:`atomic_write_json` writes, so callers can check it first
    (a model directory checks all its files before it writes any)."""
    try:
        text = json.dumps(obj, indent=2, sort_keys=False, allow_nan=False, ensure_ascii=False)
    except ValueError as exc:
        raise ValueError(f"{path}: cannot write NaN or infinity as JSON ({exc})") from exc
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        # NOTE: not written as a \\ud800 escape: two escaped surrogates in a row read
        # back as one character, so the file would not hold what was saved.
        bad = text[exc.start : exc.end]
        raise ValueError(f"{path}: cannot write {bad!r}, a lone surrogate, as JSON") from None
    return text + "\n"


class _NonFiniteError(Exception):
    """NaN, Infinity or -Infinity in a file: Python's json accepts them, JSON does not."""


def _reject_constant(name: str) -> Any:
    raise _NonFiniteError(name)


class _BadNumberError(Exception):
    """A JSON number Python cannot hold: one that overflows a float, or too long for int."""


#: the most digits int() reads (sys.get_int_max_str_digits, 4300 by default)
_MAX_DIGITS = 4300


def _finite(text: str) -> float:
    """A JSON number with a fraction or exponent; 1e999 would silently become infinity."""
    value = float(text)
    if not math.isfinite(value):
        raise _BadNumberError(f"{text} is not a finite number")
    return value


def _integer(text: str) -> int:
    """A JSON integer; int() refuses over 4300 digits with a bare ValueError."""
    digits = len(text.lstrip("-"))
    if digits > _MAX_DIGITS:
        raise _BadNumberError(f"a number of {digits} digits")
    return int(text)


def _mode_for(target: Path) -> int:
    """Permission bits for the new file: the old file's, else what ``open`` would give."""
    try:
        return target.stat().st_mode & 0o7777
    except FileNotFoundError:
        # NOTE: os.umask can only be read by setting it; it is restored at once.
        umask = os.umask(0o022)
        os.umask(umask)
        return 0o666 & ~umask


def fsync_directory(directory: Path) -> None:
    """Make a rename into `directory` durable (model directories and checkpoints call it
    after their own renames); skipped where directories cannot be opened."""
    if os.name != "posix":
        return
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems refuse fsync on a directory; the rename still happened
    finally:
        os.close(fd)


def json_safe(obj: Any) -> Any:
    """`obj` (dicts, lists, tuples, numbers) with every NaN or infinity, float or NumPy
    scalar, replaced by None, which :func:`atomic_write_json` accepts and JSON can hold."""
    if isinstance(obj, (float, np.floating)):
        return float(obj) if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    return obj
