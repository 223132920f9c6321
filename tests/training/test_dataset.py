"""SequenceDataset's targets: per sequence or per step, scalars or vectors, padded right."""

from __future__ import annotations

import numpy as np

from rnnkit.training import SequenceDataset

SEQS = [np.ones((3, 2)), np.ones((1, 2)), np.ones((2, 2))]


def test_vector_targets_per_sequence_are_never_cut_to_the_batch_length() -> None:
    y = np.arange(15.0).reshape(3, 5)  # k = 5 outputs, longer than any sequence
    batch = SequenceDataset(SEQS, y, per_step=False).batch(np.array([1, 2]))
    np.testing.assert_array_equal(batch.y, y[[1, 2]])


def test_vector_targets_per_step_are_padded_with_the_inputs() -> None:
    y = [np.full((len(x), 4), i + 1.0) for i, x in enumerate(SEQS)]
    data = SequenceDataset(SEQS, y, per_step=True)
    batch = data.batch(np.array([1, 2]))
    assert batch.y.shape == (2, 2, 4)
    np.testing.assert_array_equal(batch.y[0], [[2.0] * 4, [0.0] * 4])  # a pad step: zeros
    equal = SequenceDataset([np.ones((2, 2))] * 3, [np.ones((2, 4))] * 3, per_step=True)
    assert equal.batch(np.array([0, 1])).y.shape == (2, 2, 4)


def test_left_out_per_step_is_inferred_as_before() -> None:
    assert SequenceDataset(SEQS, np.array([0, 1, 0])).per_step is False
    assert SequenceDataset(SEQS, [np.zeros(len(x)) for x in SEQS]).per_step is True
    padded = SequenceDataset(np.ones((3, 4, 2)), np.zeros((3, 4, 5)), lengths=np.array([4, 2, 1]))
    assert padded.per_step and padded.batch(np.array([1, 2])).y.shape == (2, 2, 5)
