"""A Sequential starting from pretrained vectors: frozen under training, kept on disk.

The vectors are saved in weights.safetensors like any weight, so a reloaded model
needs no embedding file, and ``trainable`` comes back from config.json.
"""

from __future__ import annotations

import numpy as np
import pytest

from rnnkit.io import load_model_dir
from rnnkit.layers import Dense, Embedding, SimpleRNN
from rnnkit.models import Sequential
from rnnkit.models.persist import save_sequential, sequential_from_files

N, d = 6, 4
PRETRAINED = np.linspace(-1, 1, N * d, dtype=np.float32).reshape(N, d)  # (N, d)
X = np.array([[1, 2, 3], [4, 5, 0], [2, 2, 1], [5, 0, 0]])  # (B, T) ids, 0 = pad
LENGTHS = np.array([3, 2, 3, 1])
Y = np.array([1, 0, 1, 0])


def model(trainable: bool) -> Sequential:
    layers = [
        Embedding.from_pretrained(PRETRAINED, trainable=trainable),
        SimpleRNN(5),
        Dense(1, "sigmoid"),
    ]
    return Sequential(layers, seed=3).compile("adam", "binary_crossentropy")


@pytest.mark.parametrize("trainable", [False, True])
def test_fit_leaves_a_frozen_embedding_as_it_was(trainable):
    net = model(trainable)
    before = [w.copy() for w in net.get_weights()]
    net.fit(X, Y, LENGTHS, epochs=3, batch_size=2, verbose=0)
    after = net.get_weights()
    assert np.array_equal(after[0], PRETRAINED) is not trainable
    assert all(not np.array_equal(a, b) for a, b in zip(after[1:], before[1:], strict=True))


def test_a_saved_model_keeps_the_pretrained_values(tmp_path):
    net = model(trainable=False)
    net.fit(X, Y, LENGTHS, epochs=1, batch_size=2, verbose=0)
    save_sequential(net, tmp_path / "m", task="classify")
    rebuilt = sequential_from_files(load_model_dir(tmp_path / "m"))
    embedding = rebuilt.layers[0]
    assert isinstance(embedding, Embedding) and not embedding.trainable
    np.testing.assert_array_equal(embedding.params["E"], PRETRAINED)
    assert rebuilt.get_config() == net.get_config()
    np.testing.assert_array_equal(rebuilt.predict(X, LENGTHS), net.predict(X, LENGTHS))
