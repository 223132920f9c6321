"""Each rank's share of a global batch: one deterministic rule, every row once."""

from __future__ import annotations

import numpy as np
import pytest

from rnnkit.distributed import shard, share_size
from rnnkit.errors import ConfigError
from rnnkit.training import TextStreams, Window


@pytest.mark.parametrize(("rows", "size"), [(8, 2), (7, 2), (5, 3), (1, 2), (3, 4)])
def test_the_shares_cover_the_batch_once_in_rank_order(rows: int, size: int) -> None:
    index = np.arange(100, 100 + rows)
    shares = [shard(index, r, size) for r in range(size)]
    assert np.concatenate(shares).tolist() == index.tolist()
    lengths = [len(s) for s in shares]
    assert max(lengths) - min(lengths) <= 1  # nearly equal: the first ones one longer
    assert lengths == sorted(lengths, reverse=True)


def test_a_stream_window_is_cut_by_its_rows_and_keeps_its_steps() -> None:
    streams = TextStreams(np.arange(41), batch_size=4, bptt=3)
    window = streams.batches()[1]
    parts = [shard(window, r, 2) for r in range(2)]
    assert [p.starts.tolist() for p in parts] == [
        window.starts[:2].tolist(),
        window.starts[2:].tolist(),
    ]
    assert all(isinstance(p, Window) and p.steps == window.steps and p.carry for p in parts)
    assert [share_size(p) for p in parts] == [2, 2]


def test_a_rank_outside_the_group_is_refused() -> None:
    with pytest.raises(ConfigError, match="rank 2 is not one of the 2 ranks"):
        shard(np.arange(4), 2, 2)


@pytest.mark.parametrize("n", [0, 1, 5, 16, 17])
@pytest.mark.parametrize("size", [1, 2, 3, 7])
def test_each_share_is_array_splits(n: int, size: int) -> None:
    index = np.arange(n) * 10
    for rank in range(size):
        assert shard(index, rank, size).tolist() == np.array_split(index, size)[rank].tolist()
