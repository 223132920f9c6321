"""Accumulate: one process training the shares of every batch in rank order.

The gradient of a step is that of the global batch's loss (a mean over all its
sentences), not a mean of the shares' means: equal to one process training the whole
batch up to float32 rounding, since the sums are associated differently.
"""

from __future__ import annotations

import numpy as np
import pytest

from data_parallel import sentences, tagger
from rnnkit.distributed import Accumulate
from rnnkit.errors import ConfigError
from rnnkit.training import Batch, TextStreams

NO_DROPOUT = {"dropout": 0.0, "embed_dropout": 0.0, "word_dropout": 0.0}


def _weights(model) -> list[np.ndarray]:
    return model.model_.get_weights()


def test_one_share_is_the_plain_loop_bit_for_bit() -> None:
    plain, one = tagger(None, **NO_DROPOUT), tagger(Accumulate(1), **NO_DROPOUT)
    for a, b in zip(_weights(plain), _weights(one), strict=True):
        np.testing.assert_array_equal(a, b)


def _global_gradient(size: int) -> tuple[list[np.ndarray], float]:
    """One step's gradients over a batch of 7 sentences split `size` ways, and its loss."""
    fitted = tagger(None, epochs=1, **NO_DROPOUT)
    words, tags = sentences()
    data = fitted.training_data(words[:7], tags[:7])  # encoded as the tagger trains
    r, tokens, slots = Accumulate(size).train_step(fitted.model_, data, np.arange(7), step=0)
    assert tokens == sum(len(s) for s in words[:7]) and r.n_sequences == 7
    return [g.copy() for _, _, g, _ in slots], r.loss_sum


@pytest.mark.parametrize("size", [2, 3])
def test_shares_give_the_gradient_of_the_whole_batch(size: int) -> None:
    whole, loss = _global_gradient(1)
    parts, loss_parts = _global_gradient(size)
    # NOTE: float32 sums associated differently (per share, then across shares, and
    # each share padded to its own longest sentence): up to about a hundred float32
    # ulps (1e-5) of each gradient's largest entry; a mean of the shares' means instead
    # of the global mean would be off by tens of percent
    for a, b in zip(whole, parts, strict=True):
        np.testing.assert_allclose(b, a, rtol=0, atol=1e-5 * max(np.abs(a).max(), 1e-30))
    assert loss_parts == pytest.approx(loss, rel=1e-6)


def test_accumulated_training_stays_within_float32_rounding_of_one_process() -> None:
    plain, two = tagger(None, **NO_DROPOUT), tagger(Accumulate(2), **NO_DROPOUT)
    for a, b in zip(_weights(plain), _weights(two), strict=True):
        # NOTE: 10 Adam steps: rounding of 1e-7 grows through m / sqrt(v), not beyond 1e-5
        np.testing.assert_allclose(b, a, rtol=0, atol=1e-5)


def test_carried_stream_state_needs_a_rank_per_share() -> None:
    streams = TextStreams(np.arange(40), batch_size=4, bptt=5)
    window = streams.batches()[1]
    with pytest.raises(ConfigError, match="one rank per share"):
        Accumulate(2).train_step(object(), streams, window, step=1)
    assert isinstance(streams.batch(window), Batch)
