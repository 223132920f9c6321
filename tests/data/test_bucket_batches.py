"""Batch index arrays: bucketing by length, sequential batches, and their properties."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rnnkit.data import bucket_batches, load_mr, sequential_batches
from rnnkit.errors import ConfigError, ShapeError


def as_lists(batches: list[np.ndarray]) -> list[list[int]]:
    return [b.tolist() for b in batches]


def test_unshuffled_batches_are_sorted_within_each_bucket() -> None:
    lengths = [3, 1, 2, 1, 5, 4]
    assert as_lists(bucket_batches(lengths, 2, None, shuffle=False)) == [[1, 3], [2, 0], [5, 4]]
    # one batch per bucket: buckets [0, 1], [2, 3], [4, 5], each sorted by length
    assert as_lists(bucket_batches(lengths, 2, None, shuffle=False, bucket_size=1)) == [
        [1, 0],
        [3, 2],
        [5, 4],
    ]


def test_shuffled_batches_depend_only_on_the_seed() -> None:
    lengths = np.random.default_rng(1).integers(1, 60, size=500)
    a = bucket_batches(lengths, 16, np.random.default_rng(7), bucket_size=4)
    b = bucket_batches(lengths, 16, np.random.default_rng(7), bucket_size=4)
    c = bucket_batches(lengths, 16, np.random.default_rng(8), bucket_size=4)
    assert as_lists(a) == as_lists(b)
    assert as_lists(a) != as_lists(c)
    assert all(a_i.dtype == np.int64 for a_i in a)


def test_batches_come_from_one_bucket_and_are_sorted() -> None:
    lengths = np.random.default_rng(2).integers(1, 100, size=300)
    batches = bucket_batches(lengths, 10, np.random.default_rng(0), bucket_size=3)
    assert len(batches) == 30
    for batch in batches:
        assert (np.diff(lengths[batch]) >= 0).all()


def test_bucketing_cuts_padding_on_mr() -> None:
    """Bucketing pads the MR training set far less than plain shuffled batches do."""
    lengths = np.array([len(text.split()) for text in load_mr("train").texts])

    def padded_steps(batches: list[np.ndarray]) -> int:
        return sum(len(b) * int(lengths[b].max()) for b in batches)

    rng = np.random.default_rng(0)
    shuffled = np.array_split(rng.permutation(len(lengths)), len(lengths) // 32)
    bucketed = bucket_batches(lengths, 32, rng)
    real = int(lengths.sum())
    assert padded_steps(bucketed) < 1.05 * real
    assert padded_steps(shuffled) > 1.5 * real


def test_empty_input_gives_no_batches() -> None:
    assert bucket_batches([], 4, np.random.default_rng(0)) == []
    assert sequential_batches(0, 4) == []


NO_SHUFFLE = {"shuffle": False}


@pytest.mark.parametrize(
    ("lengths", "batch_size", "rng", "kwargs", "error", "message"),
    [
        ([1], 0, None, NO_SHUFFLE, ConfigError, "batch_size: expected an integer >= 1, got 0"),
        (
            [1],
            2,
            None,
            {"shuffle": False, "bucket_size": -1},
            ConfigError,
            "bucket_size: expected an integer >= 1, got -1",
        ),
        ([1], 2, None, {}, ConfigError, "rng: shuffling needs a numpy.random.Generator, got None"),
        ([1], 2, 42, {}, ConfigError, "rng: shuffling needs a numpy.random.Generator, got 42"),
        ([[1]], 2, None, NO_SHUFFLE, ShapeError, "lengths: expected shape (N,), got (1, 1)"),
    ],
)
def test_bucket_batches_errors(
    lengths: list, batch_size: int, rng: object, kwargs: dict, error: type, message: str
) -> None:
    with pytest.raises(error) as info:
        bucket_batches(lengths, batch_size, rng, **kwargs)  # type: ignore[arg-type]
    assert str(info.value) == message


def test_sequential_batches() -> None:
    assert as_lists(sequential_batches(7, 3)) == [[0, 1, 2], [3, 4, 5], [6]]
    with pytest.raises(ConfigError, match=r"^n: expected an integer >= 0, got -1$"):
        sequential_batches(-1, 3)
    with pytest.raises(ConfigError, match=r"^batch_size: expected an integer >= 1, got 2\.5$"):
        sequential_batches(3, 2.5)  # type: ignore[arg-type]


@given(
    st.lists(st.integers(1, 50), max_size=200),
    st.integers(1, 20),
    st.integers(1, 5),
    st.booleans(),
    st.integers(0, 2**32 - 1),
)
def test_bucket_batches_is_a_partition(
    lengths: list[int], batch_size: int, bucket_size: int, shuffle: bool, seed: int
) -> None:
    batches = bucket_batches(
        lengths, batch_size, np.random.default_rng(seed), shuffle=shuffle, bucket_size=bucket_size
    )
    flat = np.concatenate(batches) if batches else np.array([], dtype=np.int64)
    np.testing.assert_array_equal(np.sort(flat), np.arange(len(lengths)))
    assert all(1 <= len(b) <= batch_size for b in batches)
    chunk = batch_size * bucket_size
    full, rest = divmod(len(lengths), chunk)
    assert len(batches) == full * bucket_size + -(-rest // batch_size)


@given(st.integers(0, 300), st.integers(1, 40))
def test_sequential_batches_cover_in_order(n: int, batch_size: int) -> None:
    batches = sequential_batches(n, batch_size)
    assert np.concatenate([*batches, np.array([], dtype=np.int64)]).tolist() == list(range(n))
    assert all(len(b) == batch_size for b in batches[:-1])
