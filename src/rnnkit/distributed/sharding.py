"""Each rank's share of a global batch, by one deterministic rule.

Rank ``r`` of ``N`` takes the ``r``-th of ``N`` contiguous, nearly equal slices of
the batch's rows (``np.array_split``: the first ``B mod N`` slices one row longer).
Every rank draws the same global batches from the same seed, so no index ever
travels: each cuts its own share. A text stream's window is cut the same way, by
its rows (streams), so a rank carries the state of the same rows window after window.

>>> import numpy as np
>>> [shard(np.arange(5), r, 2).tolist() for r in range(2)]
[[0, 1, 2], [3, 4]]
>>> shard(np.arange(1), 1, 2).tolist()  # fewer rows than ranks: an empty share
[]
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from rnnkit.errors import ConfigError
from rnnkit.training.streams import Window

__all__ = ["shard", "share_size"]


def shard(index: Any, rank: int, size: int) -> Any:
    """Rank `rank`'s share of the batch `index` (an index array, or a stream Window)."""
    if not 0 <= rank < size:
        raise ConfigError(f"rank {rank} is not one of the {size} ranks")
    if isinstance(index, Window):
        return replace(index, starts=index.starts[_bounds(len(index.starts), rank, size)])
    index = np.asarray(index)
    return index[_bounds(len(index), rank, size)]


def _bounds(n: int, rank: int, size: int) -> slice:
    """``np.array_split``'s `rank`-th of `size` slices of n rows, without making the
    others: the first ``n mod size`` slices one row longer."""
    q, r = divmod(n, size)
    start = rank * q + min(rank, r)
    return slice(start, start + q + (rank < r))


def share_size(index: Any) -> int:
    """The rows (sequences, or streams) of a batch or share."""
    return len(index.starts) if isinstance(index, Window) else len(index)
