"""Word dropout in Embedding: unseen-word practice for the <unk> row while training."""

from __future__ import annotations

import numpy as np
import pytest

from rnnkit.errors import ConfigError
from rnnkit.layers import Embedding, Spec


def _layer(p: float, seed: int = 0) -> Embedding:
    emb = Embedding(50, 4, word_dropout=p, dtype="float64")
    emb.build(Spec("ids", 50), np.random.default_rng(seed))
    return emb


def test_training_replaces_about_p_of_the_words_by_unk_and_inference_none() -> None:
    emb = _layer(0.2)
    ids = np.random.default_rng(1).integers(2, 50, size=(200, 50))
    y, (used, _) = emb.forward(ids, training=True)
    dropped = used == 1
    assert abs(dropped.mean() - 0.2) < 0.01  # 10,000 draws: the spread is 0.004
    np.testing.assert_array_equal(used[~dropped], ids[~dropped])
    np.testing.assert_array_equal(y[dropped], np.broadcast_to(emb.params["E"][1], y[dropped].shape))
    np.testing.assert_array_equal(emb(ids), emb.params["E"][ids])  # inference: untouched


def test_the_gradient_of_a_dropped_word_goes_to_the_unk_row() -> None:
    emb = _layer(0.5)
    ids = np.array([[5, 5, 5, 5, 5, 5, 5, 5]])
    _, cache = emb.forward(ids, training=True)
    emb.zero_grad()
    emb.backward(np.ones((1, 8, 4)), cache)
    n_drop = int((cache[0] == 1).sum())
    assert 0 < n_drop < 8
    np.testing.assert_allclose(emb.grads["E"][1], n_drop)
    np.testing.assert_allclose(emb.grads["E"][5], 8 - n_drop)
    assert emb.sparse_rows["E"].tolist() == [1, 5]


def test_no_word_dropout_leaves_the_random_stream_alone() -> None:
    a, b = _layer(0.0, seed=3), Embedding(50, 4, dtype="float64")
    b.build(Spec("ids", 50), np.random.default_rng(3))
    np.testing.assert_array_equal(a.params["E"], b.params["E"])
    assert a.rng is None


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"word_dropout": 1.0}, r"word_dropout=1\.0: must lie in \[0, 1\)"),
        ({"word_dropout": -0.1}, r"word_dropout=-0\.1: must lie in \[0, 1\)"),
        ({"unk_id": 50}, "unk_id=50: must be an id below input_dim=50"),
    ],
)
def test_bad_settings_are_refused(kw, message) -> None:
    with pytest.raises(ConfigError, match=message):
        Embedding(50, 4, **kw)
