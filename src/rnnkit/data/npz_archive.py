"""The arrays of an ``.npz`` archive, read without trusting it.

``np.load`` hands back a bare ``.npy`` as an array, a member without the ``.npy``
suffix as bytes, and allocates whatever a member's header declares before reading its
data; every damaged archive fails in its own way (BadZipFile, EOFError, zlib.error,
MemoryError). Here each member is read with :mod:`zipfile`, its header checked against
the bytes it holds, pickles refused, and every failure is one DataError naming the file.

>>> import io
>>> buffer = io.BytesIO()
>>> np.savez(buffer, X=np.zeros((1, 2, 3)))
>>> npz_arrays(buffer.getvalue(), "f.npz")["X"].shape
(1, 2, 3)
>>> npz_arrays(buffer.getvalue()[:-22], "f.npz")
Traceback (most recent call last):
...
rnnkit.errors.DataError: f.npz: not a readable npz file (File is not a zip file)
"""

from __future__ import annotations

import io
import math
import zipfile
import zlib

import numpy as np

from rnnkit.errors import DataError, one_line

__all__ = ["NPZ_KEYS", "npz_arrays"]

Array = np.ndarray
#: the arrays of an npz file of real-valued sequences
NPZ_KEYS = ("X", "lengths", "y")


def npz_arrays(data: bytes, source: str, keys: tuple[str, ...] = NPZ_KEYS) -> dict[str, Array]:
    """The ``.npy`` members named `keys` (without ``.npy``) of an npz archive's bytes.

    Read member by member with :mod:`zipfile` rather than ``np.load``, which returns a
    bare ``.npy`` as an array and a member without the ``.npy`` suffix as bytes, and
    allocates whatever a member's header declares before reading it.
    """
    if data.startswith(b"\x93NUMPY"):
        raise DataError(f"{source}: an .npy array, not an npz archive of X, lengths and y")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = {info.filename: info for info in archive.infolist()}
            arrays = {}
            for name in sorted(members):
                key = name.removesuffix(".npy")
                if key not in keys or (key == name and f"{name}.npy" in members):
                    continue
                if key == name:
                    raise DataError(f"{source}: not a readable npz file ({key}: no .npy suffix)")
                arrays[key] = _read_npy(archive.read(members[name]), source, key)
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        EOFError,
        OSError,
        zlib.error,
        NotImplementedError,  # a compression method zipfile lacks
        RuntimeError,  # an encrypted member
    ) as exc:
        raise DataError(f"{source}: not a readable npz file ({one_line(exc)})") from None
    return arrays


def _read_npy(raw: bytes, source: str, key: str) -> Array:
    """The array of one ``.npy`` member; DataError if it is damaged, lies or is a pickle."""
    stream = io.BytesIO(raw)
    where = f"{source}: not a readable npz file ({key}"
    try:
        version = np.lib.format.read_magic(stream)
        read_header = (
            np.lib.format.read_array_header_1_0
            if version == (1, 0)
            else np.lib.format.read_array_header_2_0
        )
        shape, _, dtype = read_header(stream)
    except (ValueError, TypeError, EOFError) as exc:
        raise DataError(f"{where}: {one_line(exc)})") from None
    declared, held = math.prod(shape) * dtype.itemsize, len(raw) - stream.tell()
    if declared > held:  # checked first: reading would allocate what the header declares
        raise DataError(
            f"{where}: the header declares {declared:,} bytes of data, the member holds {held:,})"
        )
    try:
        return np.lib.format.read_array(io.BytesIO(raw), allow_pickle=False)
    except (ValueError, TypeError, EOFError) as exc:  # a pickle, a bad dtype, ...
        raise DataError(f"{where}: {one_line(exc)})") from None
