"""Scratch buffers kept from one call to the next, so a training step allocates nothing big.

A training step needs the same large time-major arrays every time: the states
(T+1, B, d), the gates (T, B, g d), their gradients. Allocating them afresh costs more
than the arithmetic at mid sizes: each new array above the C library's threshold is
fresh memory from the kernel, and every page of it faults on first write. A
:class:`Workspace` hands out views of buffers it keeps, so from the second step on
the memory is already mapped.

Reuse is safe by construction: a buffer is handed out again only when nothing else
holds it (its reference count shows only the workspace). A cache that has not been
used yet, an output the caller kept, a state carried to the next window: each keeps
its buffer alive, and the workspace then makes a new one (it keeps two per name, so a
state carried from window to window alternates between them).

>>> ws = Workspace()
>>> a = ws.take("H", (2, 3), np.float32)
>>> a.shape, a.dtype
((2, 3), dtype('float32'))
>>> b = ws.take("H", (2, 3), np.float32)     # `a` is still alive: a different buffer
>>> np.shares_memory(a, b)
False
>>> first = a.__array_interface__["data"][0]
>>> del a
>>> c = ws.take("H", (3, 2), np.float32)     # the first buffer is free again
>>> c.__array_interface__["data"][0] == first
True
"""

from __future__ import annotations

import math
import sys

import numpy as np

__all__ = ["Workspace", "take"]

Array = np.ndarray
#: buffers kept per name (two, for a state carried from one call into the next)
PER_NAME = 2
# NOTE: a free buffer is referenced by the workspace's list and getrefcount's argument.
_FREE_REFS = 2


class Workspace:
    """Named buffers, reused when free, grown when too small."""

    def __init__(self) -> None:
        self._buffers: dict[tuple[str, np.dtype], list[Array]] = {}

    def take(self, name: str, shape: tuple[int, ...], dtype: np.dtype | type) -> Array:
        """An uninitialised array of `shape`, backed by a kept buffer when one is free."""
        dtype = np.dtype(dtype)
        size = math.prod(shape)
        kept = self._buffers.setdefault((name, dtype), [])
        for i in range(len(kept)):
            if sys.getrefcount(kept[i]) <= _FREE_REFS:  # nobody holds it, nor a view of it
                if kept[i].size < size:
                    kept[i] = np.empty(size, dtype)
                return kept[i][:size].reshape(shape)
        buf = np.empty(size, dtype)
        if len(kept) < PER_NAME:
            kept.append(buf)
        return buf.reshape(shape)

    def clear(self) -> None:
        """Let go of every buffer (arrays handed out stay valid)."""
        self._buffers.clear()

    @property
    def nbytes(self) -> int:
        """Bytes held."""
        return sum(b.nbytes for kept in self._buffers.values() for b in kept)


def take(ws: Workspace | None, name: str, shape: tuple[int, ...], dtype: np.dtype | type) -> Array:
    """``ws.take(...)``, or a new array when there is no workspace."""
    if ws is None:
        return np.empty(shape, dtype)
    return ws.take(name, shape, dtype)
