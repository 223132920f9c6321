"""Shared fixtures for the tests of rnnkit.models: toy texts, toy sequences, tiny models."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from rnnkit.models import BagOfWordsClassifier, SequenceClassifier

#: settings of a SequenceClassifier that trains in a fraction of a second
TINY: dict[str, Any] = {
    "hidden": 8,
    "embed_dim": 8,
    "min_freq": 1,
    "epochs": 3,
    "lr": 0.01,
    "dropout": 0.0,
    "embed_dropout": 0.0,
    "seed": 0,
    "verbose": 0,
}

WORDS = {
    "pos": ("good", "great", "fine"),
    "neg": ("bad", "awful", "dull"),
    "meh": ("okay", "average", "middling"),
}
FILLER = ("the", "film", "movie", "was", "plot", "really", "acting")


def _toy_texts(n: int, labels: tuple[str, ...], seed: int) -> tuple[list[str], list[str]]:
    rng = np.random.default_rng(seed)
    texts, ys = [], []
    for i in range(n):
        label = labels[i % len(labels)]
        words = list(rng.choice(FILLER, rng.integers(2, 8)))
        words.insert(int(rng.integers(len(words) + 1)), str(rng.choice(WORDS[label])))
        texts.append(" ".join(words))
        ys.append(label)
    return texts, ys


@pytest.fixture
def tiny() -> dict[str, Any]:
    """Settings of a SequenceClassifier that trains in a fraction of a second (a copy)."""
    return dict(TINY)


@pytest.fixture(scope="session")
def toy_texts() -> Callable[..., tuple[list[str], list[str]]]:
    """``toy_texts(n, labels, seed)``: reviews of 3-9 words, one of them saying the label."""
    return _toy_texts


@pytest.fixture(scope="session")
def binary_texts() -> tuple[list[str], list[str]]:
    """120 toy reviews labelled "neg" or "pos"."""
    return _toy_texts(120, ("pos", "neg"), seed=0)


@pytest.fixture(scope="module")
def binary_clf(binary_texts) -> SequenceClassifier:
    """A tiny SequenceClassifier trained on the binary toy reviews."""
    return SequenceClassifier(**TINY).fit(*binary_texts)


@pytest.fixture(scope="module")
def bow_clf(binary_texts) -> BagOfWordsClassifier:
    """The bag-of-words baseline trained on the binary toy reviews."""
    return BagOfWordsClassifier().fit(*binary_texts)


def _contains_3(n: int, seed: int) -> tuple[list[np.ndarray], np.ndarray]:
    rng = np.random.default_rng(seed)
    xs, ys = [], rng.integers(0, 2, n)
    for y in ys:
        x = rng.choice([1, 2, 4, 5, 6, 7, 8, 9], int(rng.integers(4, 16)))
        if y:
            x[rng.integers(len(x))] = 3
        xs.append(x.astype(np.int64))
    return xs, ys


@pytest.fixture(scope="session")
def contains_3() -> Callable[[int, int], tuple[list[np.ndarray], np.ndarray]]:
    """``contains_3(n, seed)``: id sequences of length 4-15 over 1..9 and whether each
    holds the id 3 (about half do; every 3 is the only one in its sequence)."""
    return _contains_3
