"""The lecture's Keras model and rnnkit's Sequential: same weights, same outputs.

The lecture builds ``SimpleRNN(3)`` on one-hot vectors of the vocabulary
[movie, was, good, bad, not] and a ``Dense(1, sigmoid)`` on top: 31 parameters. Its
``get_weights()`` list goes into rnnkit's ``set_weights()`` unchanged (and back), and
the three reviews get the same predictions. Keras sees each review alone; rnnkit sees
them as one padded batch with a mask.
"""

from __future__ import annotations

import numpy as np
import pytest

from reference import assert_close
from rnnkit import Dense, OneHot, Sequential, SimpleRNN

pytestmark = pytest.mark.filterwarnings(
    # Keras 3's PyTorch-backend Variable.__array__ takes no `copy` argument, which
    # NumPy 2 reports as a DeprecationWarning whenever get_weights() converts one
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning"
)

WORDS = ["movie", "was", "good", "bad", "not"]
REVIEWS = ["movie was good", "movie was bad", "movie was not good"]
IDS = [np.array([WORDS.index(w) for w in review.split()]) for review in REVIEWS]
SHAPES = [(5, 3), (3, 3), (3,), (3, 1), (1,)]
# NOTE: Keras computes in float32 (its default floatx), and rnnkit's default is float32
# too. Two float32 implementations that add up in different orders agree to a few
# units in the last place, about 1e-7 on these outputs of order 1: hence 1e-6.
ATOL = 1e-6


def _keras_outputs(keras, model, review_ids: np.ndarray) -> np.ndarray:
    """The Keras model on one review alone, as explicit one-hot vectors (1, T, 5)."""
    one_hot = np.eye(len(WORDS), dtype=np.float32)[review_ids][None]
    return keras.ops.convert_to_numpy(model(one_hot))[0]


def _lecture_keras_model(keras, return_sequences: bool = False, units_out: int = 1):
    activation = "softmax" if return_sequences else "sigmoid"
    return keras.Sequential(
        [
            keras.Input((None, len(WORDS))),
            keras.layers.SimpleRNN(3, return_sequences=return_sequences),
            keras.layers.Dense(units_out, activation=activation),
        ]
    )


def test_lecture_model_has_keras_parameter_counts_and_shapes(keras):
    ours = Sequential([OneHot(5), SimpleRNN(3), Dense(1, "sigmoid")], seed=0)
    theirs = _lecture_keras_model(keras)
    assert ours.count_params() == theirs.count_params() == 31
    assert [layer.count_params() for layer in ours.layers] == [0, 27, 4]
    assert [layer.count_params() for layer in theirs.layers] == [27, 4]
    assert [w.shape for w in ours.get_weights()] == SHAPES
    assert [w.shape for w in theirs.get_weights()] == SHAPES


def test_keras_weights_give_the_same_predictions(keras):
    theirs = _lecture_keras_model(keras)
    rng = np.random.default_rng(0)
    # weights of order 1, so that the outputs spread well away from 0.5
    theirs.set_weights([rng.normal(scale=0.8, size=s).astype(np.float32) for s in SHAPES])
    ours = Sequential([OneHot(5), SimpleRNN(3), Dense(1, "sigmoid")], seed=1)
    ours.set_weights(theirs.get_weights())
    predicted = ours.predict(IDS)  # one padded batch, masked
    assert predicted.shape == (3, 1) and predicted.dtype == np.float32
    want = np.stack([_keras_outputs(keras, theirs, ids) for ids in IDS])
    assert np.ptp(want) > 0.1, "the reviews should get different predictions"
    assert_close("predictions", predicted, want, rtol=0.0, atol=ATOL)
    for review, ids, p in zip(REVIEWS, IDS, want, strict=True):
        alone = ours(ids[None])  # unpadded, no mask
        assert_close(review, alone[0], p, rtol=0.0, atol=ATOL)


def test_rnnkit_weights_give_keras_the_same_per_step_softmax(keras):
    ours = Sequential([OneHot(5), SimpleRNN(3, return_sequences=True), Dense(4, "softmax")], seed=2)
    ours.layers[1].params["b"][...] = [0.3, -0.2, 0.1]
    ours.layers[2].params["c"][...] = [0.5, 0.0, -0.5, 0.2]
    theirs = _lecture_keras_model(keras, return_sequences=True, units_out=4)
    theirs.set_weights(ours.get_weights())
    for a, b in zip(theirs.get_weights(), ours.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    predicted = ours.predict(IDS)  # (3, 4, 4): padded to the longest review
    assert predicted.shape == (3, 4, 4)
    for review, ids, p in zip(REVIEWS, IDS, predicted, strict=True):
        n = len(ids)
        assert_close(review, p[:n], _keras_outputs(keras, theirs, ids), rtol=0.0, atol=ATOL)
