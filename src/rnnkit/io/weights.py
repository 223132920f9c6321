"""Named arrays in a safetensors file: save, load, and check against expected shapes.

A safetensors file is an 8-byte little-endian header length, a JSON header giving each
tensor's dtype, shape and byte range, then the raw bytes. Reading one never executes
code (unlike pickle), so a model file from a stranger is safe to open. rnnkit keeps
float32, float64, int32 and int64 tensors; any other dtype is refused by name.

>>> import tempfile
>>> import numpy as np
>>> from pathlib import Path
>>> with tempfile.TemporaryDirectory() as tmp:
...     path = Path(tmp) / "weights.safetensors"
...     save_weights(path, {"rnn.U": np.ones((5, 3), np.float32)}, {"note": "demo"})
...     arrays = load_weights(path)
...     expect_shapes(arrays, {"rnn.U": (5, 3)}, path)
...     arrays["rnn.U"].dtype, read_weights_metadata(path)
(dtype('float32'), {'note': 'demo'})
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

import numpy as np
import safetensors
import safetensors.numpy

from rnnkit.errors import ConfigError, ModelFileError, ShapeError, one_line
from rnnkit.io.atomic import atomic_write_bytes, read_file

__all__ = [
    "decode_weights",
    "encode_weights",
    "expect_shapes",
    "load_weights",
    "read_weights_metadata",
    "save_weights",
]

# safetensors dtype codes rnnkit reads and writes, with their NumPy names.
_DTYPES = {"F32": "float32", "F64": "float64", "I32": "int32", "I64": "int64"}
_METADATA_KEY = "__metadata__"


def save_weights(
    path: str | os.PathLike[str],
    arrays: Mapping[str, np.ndarray],
    metadata: Mapping[str, str] | None = None,
) -> None:
    """Write named arrays to a safetensors file, atomically.

    Parameters
    ----------
    path : str or os.PathLike
        Target file, conventionally ``*.safetensors``; its directory must exist.
    arrays : mapping of str to ndarray
        Tensors by name (``"<layer>.<param>"``), any shape, dtype float32, float64,
        int32 or int64. Non-contiguous arrays are copied to C order first.
    metadata : mapping of str to str, optional
        Free text stored in the header; read back with :func:`read_weights_metadata`.

    Raises
    ------
    ShapeError
        If an array has another dtype (float16, bool, object, ...).
    ConfigError
        If a name is empty or ``"__metadata__"``, or metadata is not str to str.

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np
    >>> from pathlib import Path
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     save_weights(Path(tmp) / "w.safetensors", {"b": np.zeros(2, np.float16)})
    Traceback (most recent call last):
    ...
    rnnkit.errors.ShapeError: .../w.safetensors: tensor 'b' has dtype float16
    (rnnkit saves float32, float64, int32 or int64)
    """
    atomic_write_bytes(path, encode_weights(path, arrays, metadata))


def load_weights(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """Read every tensor of a safetensors file written by :func:`save_weights`.

    Parameters
    ----------
    path : str or os.PathLike
        The safetensors file.

    Returns
    -------
    dict of str to ndarray
        Writable arrays by name. The order of the names is the file's, not the order
        they were saved in: look arrays up by name.

    Raises
    ------
    ModelFileError
        Naming the file, if it is missing, truncated or corrupt (including a pickle
        or any other file under a safetensors name), or holds a tensor of a dtype
        other than float32, float64, int32 or int64 (naming the tensor).
    """
    return decode_weights(read_file(path, "a safetensors file", ModelFileError), path)


def decode_weights(data: bytes, path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """The tensors of a safetensors file's bytes `data`, read from `path`; see
    :func:`load_weights`."""
    header = _parse_header(data, path)
    for name, entry in header.items():
        dtype = entry.get("dtype") if isinstance(entry, dict) else None
        if name != _METADATA_KEY and isinstance(dtype, str) and dtype not in _DTYPES:
            raise ModelFileError(
                f"{path}: tensor {name!r} has dtype {dtype} (rnnkit reads F32, F64, I32, I64)"
            )
    try:
        arrays = safetensors.numpy.load(data)
    except (safetensors.SafetensorError, ValueError, KeyError) as exc:
        # NOTE: the header was checked above; this catches bad offsets and sizes. ValueError
        # and KeyError are safetensors.numpy's own reshape and dtype lookups failing.
        raise ModelFileError(f"{path}: not a valid safetensors file ({one_line(exc)})") from None
    return {name: a if a.flags.writeable else a.copy() for name, a in arrays.items()}


def read_weights_metadata(path: str | os.PathLike[str]) -> dict[str, str]:
    """Return the text metadata saved with :func:`save_weights` (``{}`` if none).

    Raises
    ------
    ModelFileError
        If the file is missing or its header is corrupt.
    """
    data = read_file(path, "a safetensors file", ModelFileError)
    metadata = _parse_header(data, path).get(_METADATA_KEY, {})
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise ModelFileError(f"{path}: not a valid safetensors file (metadata is not str to str)")
    return metadata


def expect_shapes(
    arrays: Mapping[str, np.ndarray],
    expected: Mapping[str, tuple[int, ...]],
    path: str | os.PathLike[str],
) -> None:
    """Check that `arrays` has exactly the names of `expected`, each with its shape.

    Parameters
    ----------
    arrays : mapping of str to ndarray
        Tensors as loaded from `path`.
    expected : mapping of str to tuple of int
        The shape each parameter of the model needs.
    path : str or os.PathLike
        The file the arrays came from, for the message.

    Raises
    ------
    ModelFileError
        Listing, on one line, missing tensors, unexpected tensors and every wrong
        shape (name, expected shape, found shape).

    Examples
    --------
    >>> import numpy as np
    >>> arrays = {"rnn.U": np.zeros((5, 4)), "old.b": np.zeros(3)}
    >>> expect_shapes(arrays, {"rnn.U": (5, 3), "rnn.W": (3, 3)}, "m/weights.safetensors")
    Traceback (most recent call last):
    ...
    rnnkit.errors.ModelFileError: m/weights.safetensors: missing tensor 'rnn.W';
    unexpected tensor 'old.b'; tensor 'rnn.U' has shape (5, 4), expected (5, 3)
    """
    problems = []
    missing = [name for name in expected if name not in arrays]
    unexpected = [name for name in arrays if name not in expected]
    if missing:
        problems.append(_plural("missing tensor", missing))
    if unexpected:
        problems.append(_plural("unexpected tensor", unexpected))
    for name, shape in expected.items():
        if name in arrays and tuple(arrays[name].shape) != tuple(shape):
            found = tuple(arrays[name].shape)
            problems.append(f"tensor {name!r} has shape {found}, expected {tuple(shape)}")
    if problems:
        raise ModelFileError(f"{path}: " + "; ".join(problems))


def encode_weights(
    path: str | os.PathLike[str],
    arrays: Mapping[str, np.ndarray],
    metadata: Mapping[str, str] | None = None,
) -> bytes:
    """The bytes :func:`save_weights` writes, so callers can check everything first."""
    prepared = {name: _prepare(name, array, path) for name, array in arrays.items()}
    for key, value in (metadata or {}).items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise ConfigError(f"{path}: metadata {key!r}: {value!r} is not a str to str entry")
    return safetensors.numpy.save(prepared, metadata=dict(metadata) if metadata else None)


def _prepare(name: Any, array: Any, path: str | os.PathLike[str]) -> np.ndarray:
    """Check one tensor's name and dtype; return it C-contiguous."""
    if not isinstance(name, str) or not name or name == _METADATA_KEY:
        raise ConfigError(f"{path}: {name!r} cannot name a tensor")
    array = np.asarray(array)
    if array.dtype.name not in _DTYPES.values():
        raise ShapeError(
            f"{path}: tensor {name!r} has dtype {array.dtype} "
            "(rnnkit saves float32, float64, int32 or int64)"
        )
    return array if array.flags.c_contiguous else array.copy(order="C")


def _parse_header(data: bytes, path: str | os.PathLike[str]) -> dict[str, Any]:
    """The JSON header, checked only as far as needed to name the problem clearly."""
    if len(data) < 8:
        reason = f"{len(data)} bytes, too short to hold a header length"
        raise ModelFileError(f"{path}: truncated or not a safetensors file ({reason})")
    size = int.from_bytes(data[:8], "little")
    if size > len(data) - 8:
        reason = f"header length {size} but only {len(data) - 8} bytes follow"
        raise ModelFileError(f"{path}: truncated or not a safetensors file ({reason})")
    try:
        header = json.loads(data[8 : 8 + size].decode("utf-8"))
    except (ValueError, RecursionError):  # ValueError: not UTF-8, not JSON, an int too long
        raise ModelFileError(f"{path}: not a valid safetensors file (header is not JSON)") from None
    if not isinstance(header, dict):
        raise ModelFileError(f"{path}: not a valid safetensors file (header is not an object)")
    end = _data_end(header)
    if end is not None and end > len(data) - 8 - size:
        reason = f"tensors need {end} bytes of data, the file has {len(data) - 8 - size}"
        raise ModelFileError(f"{path}: truncated ({reason})")
    return header


def _data_end(header: dict[str, Any]) -> int | None:
    """Where the last tensor's bytes end, or None if the offsets are malformed."""
    ends = []
    for name, entry in header.items():
        if name == _METADATA_KEY:
            continue
        offsets = entry.get("data_offsets") if isinstance(entry, dict) else None
        if not (isinstance(offsets, list) and len(offsets) == 2):
            return None
        if not all(isinstance(x, int) and not isinstance(x, bool) for x in offsets):
            return None
        ends.append(offsets[1])
    return max(ends, default=0)


def _plural(what: str, names: list[str]) -> str:
    listed = ", ".join(repr(name) for name in names)
    return f"{what}{'s' if len(names) > 1 else ''} {listed}"
