"""Padding, masks and one-hot vectors: the lecture's example and arbitrary batches."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rnnkit.errors import ConfigError, DataError, ShapeError, VocabularyError
from rnnkit.text import (
    Vocabulary,
    encode_texts,
    get_tokenizer,
    lengths_to_mask,
    one_hot,
    pad_batch,
    word_tokenize,
)

REVIEWS = ["movie was good", "movie was bad", "movie was not good"]

# The lecture's one-hot batch: rows are x_1..x_4 of each review over [movie, was, good,
# bad, not]; the fourth step of the two three-word reviews is padding, all zeros.
LECTURE_BATCH = np.array(
    [
        [[1, 0, 0, 0, 0], [0, 1, 0, 0, 0], [0, 0, 1, 0, 0], [0, 0, 0, 0, 0]],
        [[1, 0, 0, 0, 0], [0, 1, 0, 0, 0], [0, 0, 0, 1, 0], [0, 0, 0, 0, 0]],
        [[1, 0, 0, 0, 0], [0, 1, 0, 0, 0], [0, 0, 0, 0, 1], [0, 0, 1, 0, 0]],
    ]
)


def test_lecture_one_hot_of_movie_was_good(lecture_vocab: Vocabulary) -> None:
    x = one_hot(lecture_vocab.encode(word_tokenize("movie was good")), len(lecture_vocab))
    assert x.shape == (3, 5) and x.dtype == np.float32
    np.testing.assert_array_equal(x, np.eye(5)[:3])


def test_lecture_batch(lecture_vocab: Vocabulary) -> None:
    ids, lengths = pad_batch(encode_texts(REVIEWS, lecture_vocab, word_tokenize))
    np.testing.assert_array_equal(ids, [[0, 1, 2, 0], [0, 1, 3, 0], [0, 1, 4, 2]])
    np.testing.assert_array_equal(lengths, [3, 3, 4])
    mask = lengths_to_mask(lengths)
    np.testing.assert_array_equal(mask, [[1, 1, 1, 0], [1, 1, 1, 0], [1, 1, 1, 1]])
    x = one_hot(ids, len(lecture_vocab), mask=mask)
    assert x.shape == (3, 4, 5)
    np.testing.assert_array_equal(x, LECTURE_BATCH)


def test_pad_batch_truncates_and_pads() -> None:
    ids, lengths = pad_batch([[1, 2, 3, 4], [5], np.array([6, 7])], pad_id=-1, max_len=3)
    np.testing.assert_array_equal(ids, [[1, 2, 3], [5, -1, -1], [6, 7, -1]])
    np.testing.assert_array_equal(lengths, [3, 1, 2])
    assert ids.dtype == np.int64 and lengths.dtype == np.int64
    # max_len is an upper bound, not a target length
    assert pad_batch([[1], [2, 3]], max_len=10)[0].shape == (2, 2)


def test_pad_batch_of_feature_sequences_and_no_mutation() -> None:
    a = np.arange(6, dtype=np.float64).reshape(3, 2)
    b = np.ones((1, 2))
    before = a.copy(), b.copy()
    x, lengths = pad_batch([a, b], pad_id=0.0, dtype=np.float64)
    assert x.shape == (2, 3, 2)
    np.testing.assert_array_equal(x[0], a)
    np.testing.assert_array_equal(x[1], [[1, 1], [0, 0], [0, 0]])
    np.testing.assert_array_equal(lengths, [3, 1])
    np.testing.assert_array_equal(a, before[0])
    np.testing.assert_array_equal(b, before[1])


@pytest.mark.parametrize(
    ("sequences", "kwargs", "error", "message"),
    [
        (
            [[1], [2], []],
            {},
            DataError,
            "sequence 2 is empty; every sequence needs at least one step",
        ),
        ([], {}, DataError, "pad_batch: no sequences to pad"),
        ([[1], 5], {}, ShapeError, "sequence 1 is a scalar; expected shape (T,) or (T, ...)"),
        (
            [np.zeros((2, 3)), np.zeros((2, 4))],
            {},
            ShapeError,
            "sequence 1 has shape (2, 4); expected steps of shape (3,) like sequence 0",
        ),
        ([[1]], {"max_len": 0}, ConfigError, "max_len: expected an integer >= 1 or None, got 0"),
    ],
)
def test_pad_batch_errors(
    sequences: list, kwargs: dict, error: type[Exception], message: str
) -> None:
    with pytest.raises(error) as info:
        pad_batch(sequences, **kwargs)
    assert str(info.value) == message


def test_lengths_to_mask_with_explicit_T() -> None:
    np.testing.assert_array_equal(
        lengths_to_mask(np.array([0, 2]), T=3), [[False, False, False], [True, True, False]]
    )
    assert lengths_to_mask([]).shape == (0, 0)


@pytest.mark.parametrize(
    ("lengths", "T", "error", "message"),
    [
        ([3, 5], 4, ShapeError, "T=4 is shorter than the longest sequence (5 steps)"),
        ([2, -1], None, DataError, "lengths: row 1 has a negative length"),
        ([[1, 2]], None, ShapeError, "lengths: expected shape (B,), got (1, 2)"),
        ([1.5], None, ShapeError, "lengths: expected integers, got dtype float64"),
        ([1], 2.0, ConfigError, "T: expected an integer or None, got 2.0"),
    ],
)
def test_lengths_to_mask_errors(
    lengths: list, T: object, error: type[Exception], message: str
) -> None:
    with pytest.raises(error) as info:
        lengths_to_mask(lengths, T=T)  # type: ignore[arg-type]
    assert str(info.value) == message


def test_one_hot_ignores_ids_at_masked_positions() -> None:
    ids = np.array([[3, -1, 99]])
    x = one_hot(ids, 4, mask=[[True, False, False]], dtype=np.float64)
    assert x.dtype == np.float64
    np.testing.assert_array_equal(x, [[[0, 0, 0, 1], [0, 0, 0, 0], [0, 0, 0, 0]]])


@pytest.mark.parametrize(
    ("ids", "kwargs", "error", "message"),
    [
        ([0, 5], {}, VocabularyError, "id 5 at position 1 out of range for depth 5"),
        (
            [[0, 1], [-2, 0]],
            {},
            VocabularyError,
            "id -2 at position (1, 0) out of range for depth 5",
        ),
        ([0.0, 1.0], {}, ShapeError, "ids: expected integers, got dtype float64"),
        ([0, 1], {"mask": [True]}, ShapeError, "mask has shape (1,), but ids have shape (2,)"),
    ],
)
def test_one_hot_errors(ids: list, kwargs: dict, error: type[Exception], message: str) -> None:
    with pytest.raises(error) as info:
        one_hot(ids, 5, **kwargs)
    assert str(info.value) == message


@pytest.mark.parametrize("depth", [0, -3, 2.5, True])
def test_one_hot_rejects_bad_depth(depth: object) -> None:
    with pytest.raises(ConfigError, match=r"^depth: expected an integer >= 1, got "):
        one_hot([0], depth)  # type: ignore[arg-type]


def test_encode_texts_with_a_char_tokenizer() -> None:
    vocab = Vocabulary.build([list("abc")])
    ids = encode_texts(["cab", "abd"], vocab, get_tokenizer("char"), add_sos=True, add_eos=True)
    assert [a.tolist() for a in ids] == [[2, 6, 4, 5, 3], [2, 4, 5, 1, 3]]
    assert all(a.dtype == np.int64 for a in ids)


sequences_st = st.lists(st.lists(st.integers(0, 9), min_size=1, max_size=12), min_size=1)


@given(sequences_st, st.integers(-5, 5), st.one_of(st.none(), st.integers(1, 12)))
def test_pad_and_mask_agree(sequences: list[list[int]], pad_id: int, max_len: int | None) -> None:
    ids, lengths = pad_batch(sequences, pad_id=pad_id, max_len=max_len)
    mask = lengths_to_mask(lengths)
    kept = [seq[:max_len] for seq in sequences]
    assert ids.shape == mask.shape == (len(sequences), max(map(len, kept)))
    np.testing.assert_array_equal(lengths, [len(seq) for seq in kept])
    np.testing.assert_array_equal(ids[mask], [i for seq in kept for i in seq])
    assert (ids[~mask] == pad_id).all()
    x = one_hot(ids, 10, mask=mask)
    np.testing.assert_array_equal(x.sum(axis=-1), mask)
    np.testing.assert_array_equal(x.argmax(axis=-1)[mask], ids[mask])
