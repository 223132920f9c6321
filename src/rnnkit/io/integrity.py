"""Reading a model directory's files safely: from inside it, and as they were saved.

A model directory may come from a stranger, or from a disk that lost a sector. Its
``"files"`` must be plain names (:func:`check_file_names`), and two guards follow:

- a file is read only if it is a regular file whose real path, links followed, lies
  inside the directory (:func:`read_inside`): a link cannot make loading read
  ``/etc/passwd``, block on a FIFO or read ``/dev/zero`` for ever;
- ``config.json`` records the SHA-256 of every other file (``"sha256"``), so a file
  damaged or changed since it was saved is noticed even when it still parses, as a
  weight with one flipped bit does (:func:`digest`, :func:`check_digests`).

>>> digest(b"abc")[:16]
'ba7816bf8f01cfea'
>>> check_digests({"weights.safetensors": digest(b"")}, ["weights.safetensors"], "c.json")
>>> check_digests({"weights.safetensors": "00"}, ["weights.safetensors"], "c.json")
Traceback (most recent call last):
...
rnnkit.errors.ModelFileError: c.json: "sha256" must give the SHA-256 (64 hex digits) of each listed file
"""  # noqa: E501

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import Any

from rnnkit.errors import ModelFileError, RnnkitError
from rnnkit.io.atomic import read_file

__all__ = [
    "CONFIG_FILE",
    "DIGEST_KEY",
    "WEIGHTS_FILE",
    "check_digests",
    "check_file_names",
    "digest",
    "read_inside",
]

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "weights.safetensors"
#: the config key holding every listed file's SHA-256, by file name
DIGEST_KEY = "sha256"
_HEX = re.compile(r"[0-9a-f]{64}")


def digest(data: bytes) -> str:
    """The SHA-256 of `data`, as 64 lowercase hex digits."""
    return hashlib.sha256(data).hexdigest()


def check_digests(
    record: Any,
    files: list[str],
    path: str | os.PathLike[str],
    error: type[RnnkitError] = ModelFileError,
) -> None:
    """Check a config's ``"sha256"``: a digest for exactly the files listed; `error` if not."""
    if (
        not isinstance(record, dict)
        or sorted(record) != sorted(files)
        or not all(isinstance(v, str) and _HEX.fullmatch(v) for v in record.values())
    ):
        raise error(
            f'{path}: "{DIGEST_KEY}" must give the SHA-256 (64 hex digits) of each listed file'
        )


def check_file_names(files: Any, path: str | os.PathLike[str], error: type[RnnkitError]) -> None:
    """``"files"``: plain names inside the directory, weights first, the rest JSON."""
    if not isinstance(files, list) or WEIGHTS_FILE not in files:
        raise error(f'{path}: "files" must be a list naming {WEIGHTS_FILE!r}')
    for name in files:
        # NOTE: "/" and "\\" are both refused on every OS, so a config made on Windows
        # cannot escape the directory on Linux; ":" refuses drive letters ("C:x").
        plain = isinstance(name, str) and not any(bad in name for bad in ("/", "\\", ":", "\0"))
        if not plain or name in ("", ".") or ".." in name or os.path.isabs(name):
            raise error(f"{path}: file name {name!r} is not a plain name inside the directory")
        if name != WEIGHTS_FILE and not name.endswith(".json"):
            raise error(f"{path}: file {name!r} is neither {WEIGHTS_FILE!r} nor a .json file")
        if name == CONFIG_FILE:
            raise error(f'{path}: "files" must not list {CONFIG_FILE!r} itself')


def read_inside(directory: Path, name: str, kind: str) -> bytes:
    """The bytes of the regular file `name` of `directory`.

    ModelFileError naming it when it is missing, not a regular file, or a link to a
    file outside the directory (or a link that leads nowhere).
    """
    path = directory / name
    try:
        real, root = path.resolve(), directory.resolve()
    except (OSError, RuntimeError):  # RuntimeError: a loop of links (Python < 3.13)
        raise ModelFileError(f"{path}: a link that cannot be followed") from None
    if os.path.lexists(path) and not real.is_relative_to(root):
        raise ModelFileError(f"{path}: a link to a file outside the model directory")
    return read_file(path, kind, ModelFileError)
