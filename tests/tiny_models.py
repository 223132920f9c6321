"""A tiny trained model of every task, saved, for the tests of damaged model directories.

Each trains in a few milliseconds (four units, two epochs, a handful of examples):
what matters is that its directory holds every file its task writes, and that what it
predicts on a few inputs is known.

>>> sorted(TASKS)
['classify', 'frames', 'lm', 'regress', 'seq2seq', 'tag']
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rnnkit.models import (
    FrameClassifier,
    FrameRegressor,
    LanguageModel,
    Seq2Seq,
    SequenceClassifier,
    SequenceTagger,
)

__all__ = ["QUICK", "TASKS", "Saved", "assert_same", "learned", "save_all"]

#: settings every tiny model shares: small, quick, deterministic
QUICK: dict[str, Any] = {"hidden": 4, "lr": 0.01, "seed": 0, "verbose": 0}


@dataclass(frozen=True)
class Saved:
    """A trained tiny model, its directory, and what it predicts on a few inputs."""

    path: Path
    predict: Callable[[Any], Any]
    expected: Any
    weights: dict[str, np.ndarray]
    state: dict[str, Any]


#: what a model learned besides its weights: vocabularies, labels, scalings
LEARNED = ("vocab_", "source_vocab_", "labels_", "features_", "outputs_")


def learned(model: Any) -> dict[str, Any]:
    state = {name: getattr(model, name) for name in LEARNED if hasattr(model, name)}
    for name in ("scaler_", "target_scaler_"):
        if getattr(model, name, None) is not None:
            state[name] = getattr(model, name).to_dict()
    return state


def _classifier() -> tuple[Any, Callable[[Any], Any]]:
    texts = ["movie was good", "movie was bad", "good movie", "bad film"] * 4
    labels = ["pos", "neg", "pos", "neg"] * 4
    model = SequenceClassifier(**QUICK, embed_dim=4, epochs=2, dropout=0, embed_dropout=0)
    model.fit(texts, labels)
    return model, lambda m: m.predict_proba(["movie was good", "bad unknown film"])


def _tagger() -> tuple[Any, Callable[[Any], Any]]:
    sentences = [["the", "movie", "was", "good"], ["a", "film", "was", "bad"]] * 4
    model = SequenceTagger(**QUICK, embed_dim=4, epochs=2, dropout=0)
    model.fit(sentences, [["DET", "NOUN", "AUX", "ADJ"]] * 8)
    return model, lambda m: m.predict_proba([["the", "film", "was", "odd"]])


def _language_model() -> tuple[Any, Callable[[Any], Any]]:
    model = LanguageModel(**QUICK, level="char", embed_dim=4, epochs=2).fit("namaste\n" * 4)
    return model, lambda m: m.evaluate("namaste\n").loss


def _seq2seq() -> tuple[Any, Callable[[Any], Any]]:
    words = [list("ab"), list("ba"), list("abb"), list("bba")] * 2
    model = Seq2Seq(**QUICK, embed_dim=4, epochs=2, dropout=0)
    model.fit(words, [w[::-1] for w in words])
    return model, lambda m: (m.evaluate(words[:4], words[:4]), m.translate([list("abb")]))


def _frame_classifier() -> tuple[Any, Callable[[Any], Any]]:
    rng = np.random.default_rng(0)
    rising = [np.cumsum(rng.random((n, 2)), axis=0) for n in (5, 7, 6, 8)]
    model = FrameClassifier(**QUICK, epochs=2)
    model.fit(rising + [-x for x in rising], ["up"] * 4 + ["down"] * 4)
    return model, lambda m: m.predict_proba([rising[0], -rising[1]])


def _frame_regressor() -> tuple[Any, Callable[[Any], Any]]:
    t = np.linspace(0, 6, 30)
    waves = [np.sin(t[i : i + 12] + 0.1 * i)[:, None] for i in range(0, 12, 3)]
    model = FrameRegressor(**QUICK, forecast=1, epochs=2).fit(waves)
    return model, lambda m: m.predict(waves[:2])


TASKS = {
    "classify": _classifier,
    "tag": _tagger,
    "lm": _language_model,
    "seq2seq": _seq2seq,
    "frames": _frame_classifier,
    "regress": _frame_regressor,
}


def save_all(root: Path) -> dict[str, Saved]:
    """Every task's tiny model, trained and saved under `root`, by task."""
    out = {}
    for task, train in TASKS.items():
        model, predict = train()
        path = model.save(root / task)
        weights = {k: v.copy() for k, v in model.model_.named_weights().items()}
        out[task] = Saved(path, predict, predict(model), weights, learned(model))
    return out


def assert_same(a: Any, b: Any) -> None:
    """Exactly equal predictions: arrays, lists and tuples of them, reports, tokens."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        assert np.array_equal(a, b)
    elif isinstance(a, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            assert_same(x, y)
    else:
        assert a == b
