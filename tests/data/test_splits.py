"""Holding out a fraction: reproducible, disjoint, and grouped by key when asked."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rnnkit.data.splits import split_indices
from rnnkit.errors import ConfigError


def test_without_groups_every_example_is_its_own_group() -> None:
    keep, held = split_indices(10, 0.3, seed=4)
    assert len(held) == 3 and len(keep) == 7
    assert sorted([*keep, *held]) == list(range(10))
    again = split_indices(10, 0.3, seed=4)
    np.testing.assert_array_equal(keep, again[0])
    assert not np.array_equal(held, split_indices(10, 0.3, seed=5)[1])


def test_equal_keys_fall_on_the_same_side() -> None:
    keys = ["Abe"] * 20 + ["Ito", "Sato", "Kato", "Mori", "Abe"]
    keep, held = split_indices(len(keys), 0.4, seed=0, groups=keys)
    assert len({keys[i] for i in held}) == 2  # 40% of the 5 distinct names
    assert not {keys[i] for i in keep} & {keys[i] for i in held}
    assert sorted([*keep, *held]) == list(range(len(keys)))


@given(
    st.lists(st.sampled_from("abcdefgh"), min_size=2, max_size=40),
    st.floats(0.01, 0.99),
    st.integers(0, 2**31),
)
def test_split_is_a_partition_by_key(keys: list[str], fraction: float, seed: int) -> None:
    if len(set(keys)) < 2:
        with pytest.raises(ConfigError, match="at least two distinct"):
            split_indices(len(keys), fraction, seed, groups=keys)
        return
    keep, held = split_indices(len(keys), fraction, seed, groups=keys)
    assert len(keep) and len(held)
    assert sorted([*keep, *held]) == list(range(len(keys)))
    assert not {keys[i] for i in keep} & {keys[i] for i in held}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((5, 0.0, 0), r"--valid-split 0.0: must lie in \[0, 1\)"),
        ((5, 1.0, 0), r"--valid-split 1.0"),
        ((1, 0.5, 0), r"at least two examples, the data has 1"),
        ((3, 0.5, 0, ["a", "b"]), r"2 group keys for 3 examples"),
    ],
)
def test_bad_requests(args, message) -> None:
    with pytest.raises(ConfigError, match=message):
        split_indices(*args)
