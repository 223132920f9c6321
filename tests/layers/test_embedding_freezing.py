"""Embedding from pretrained vectors, trainable or frozen (``trainable=False``).

A frozen E receives no gradient, so it has no touched rows and every optimizer skips
it: an Adam step leaves it bit-identical while the other weights move.
"""

from __future__ import annotations

import numpy as np
import pytest

from rnnkit.errors import ConfigError, ShapeError
from rnnkit.layers import Dense, Embedding, Spec
from rnnkit.training import get_optimizer

N, d, B, T = 7, 3, 2, 4
PRETRAINED = np.arange(N * d, dtype=np.float32).reshape(N, d) / 10  # (N, d)
IDS = np.array([[1, 2, 3, 0], [4, 4, 6, 0]])  # (B, T)
MASK = IDS != 0


def step(emb: Embedding, optimizer: str) -> Dense:
    """One forward, backward and optimizer step of Embedding -> Dense on a toy loss."""
    rng = np.random.default_rng(0)
    dense = Dense(2)
    dense.build(emb.build(Spec("ids", N), rng), rng)
    y, emb_cache = emb.forward(IDS, MASK, training=True)
    out, dense_cache = dense.forward(y, MASK, training=True)
    emb.backward(dense.backward(np.ones_like(out), dense_cache), emb_cache)
    slots = [
        (f"{layer.name}.{k}", p, layer.grads[k], layer.sparse_rows.get(k))
        for layer in (emb, dense)
        for k, p in layer.params.items()
    ]
    get_optimizer(optimizer, lr=0.1).step(slots)
    return dense


@pytest.mark.parametrize("optimizer", ["adam", "sgd", "momentum", "adagrad"])
def test_a_frozen_embedding_is_bit_identical_after_a_step(optimizer):
    emb = Embedding.from_pretrained(PRETRAINED, trainable=False, name="emb")
    dense = step(emb, optimizer)
    np.testing.assert_array_equal(emb.params["E"], PRETRAINED)
    assert not emb.grads["E"].any() and emb.sparse_rows["E"].size == 0
    assert dense.grads["V"].any()  # the layer above still learns


def test_a_trainable_pretrained_embedding_moves_only_the_rows_used():
    emb = Embedding.from_pretrained(PRETRAINED, name="emb")
    step(emb, "adam")
    moved = np.flatnonzero((emb.params["E"] != PRETRAINED).any(axis=1))
    assert moved.tolist() == [1, 2, 3, 4, 6]  # the ids at real (unmasked) steps


def test_the_pretrained_array_is_copied_not_shared():
    E = PRETRAINED.copy()
    emb = Embedding.from_pretrained(E)
    step(emb, "sgd")
    np.testing.assert_array_equal(E, PRETRAINED)
    assert emb.params["E"].dtype == np.float32


def test_the_random_draw_is_made_all_the_same():
    """Layers after a pretrained Embedding start as they would after a random one."""
    plain, pretrained = Embedding(N, d), Embedding.from_pretrained(PRETRAINED)
    rng_a, rng_b = np.random.default_rng(5), np.random.default_rng(5)
    plain.build(Spec("ids", N), rng_a)
    pretrained.build(Spec("ids", N), rng_b)
    assert rng_a.random() == rng_b.random()


def test_get_config_round_trip_keeps_trainable():
    emb = Embedding.from_pretrained(PRETRAINED, trainable=False, name="emb")
    config = emb.get_config()
    assert config["trainable"] is False and "initial" not in config
    rebuilt = Embedding(**config)
    assert rebuilt.get_config() == config and not rebuilt.trainable
    assert Embedding(N, d).get_config()["trainable"] is True


def test_bad_pretrained_arguments():
    with pytest.raises(ShapeError, match=r"initial E has shape \(7, 3\)"):
        Embedding(N, 4, initial=PRETRAINED)
    with pytest.raises(ShapeError, match="must be \\(N, d\\)"):
        Embedding.from_pretrained(PRETRAINED[0])
    with pytest.raises(ConfigError, match="finite real numbers"):
        Embedding.from_pretrained(np.full((2, 2), np.nan))
    with pytest.raises(ConfigError, match="trainable='no'"):
        Embedding(N, d, trainable="no")  # type: ignore[arg-type]
