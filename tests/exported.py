"""Tiny trained models of every task that can leave rnnkit, and padded batches for them
(the tests of rnnkit.exchange and of ``rnnkit export``).

Each model trains for one epoch on a handful of examples (four units): what matters is
that its weights are not the initial ones and that the batch mixes lengths, so that
every path through the padding is exercised. A model is trained once per session for
each (task, cell, bidirectional, layers) and saved to its own directory (the
``trained`` fixture of tests/exchange/conftest.py).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rnnkit.io import load_model_dir
from rnnkit.models import (
    FrameClassifier,
    FrameRegressor,
    FrameTagger,
    LanguageModel,
    SequenceClassifier,
    SequenceTagger,
)

#: task -> how its model is trained (the text models and the frame models)
TASKS = ("classify", "tag", "lm", "frames-classify", "frames-tag", "regress", "regress-steps")
CELLS = ("rnn", "lstm", "gru")
#: every (task, cell, bidirectional, layers) a test runs; a language model reads one way
CASES = [
    pytest.param(task, cell, bi, layers, id=f"{task}-{cell}-{'bi' if bi else 'uni'}-{layers}")
    for task, cell, bi, layers in itertools.product(TASKS, CELLS, (False, True), (1, 2))
    if not (task == "lm" and bi)
]
QUICK: dict[str, Any] = {"hidden": 4, "epochs": 1, "seed": 0, "verbose": 0, "lr": 0.05}

TEXTS = ["movie was good", "movie was bad", "good", "bad film was not good at all"] * 3
LABELS = ["pos", "neg", "pos", "neg"] * 3
SENTENCES = [["the", "movie", "was", "good"], ["a", "film", "was", "bad", "yes"], ["ok"]] * 3
TAGS = [["DET", "NOUN", "AUX", "ADJ"], ["DET", "NOUN", "AUX", "ADJ", "X"], ["ADJ"]] * 3
#: BIO tags: the CRF's scheme forbids O then I-X, which the exported scores must carry
BIO = [["B-X", "I-X", "O", "O"], ["B-X", "I-X", "O", "O", "B-Y"], ["O"]] * 3
#: sentences with words unseen in training, mixed lengths, a one-letter word
UNSEEN = [["The", "unseen", "words"], ["x"], ["a", "film", "was", "bad", "yes", "Zork"]]
#: three pooling choices across the cells, so each is met
POOLING = {"rnn": "last", "lstm": "mean", "gru": "max"}


def frames(n: int = 12, features: int = 3) -> list[np.ndarray]:
    """Real-valued sequences of mixed lengths (2 to 8 frames), away from zero."""
    rng = np.random.default_rng(1)
    return [rng.normal(1.0, 2.0, size=(T, features)) for T in (5, 8, 2, 7)[:n] * (n // 4)]


@dataclass(frozen=True)
class Trained:
    """A trained model, its directory, and a padded batch of its inputs."""

    model: Any
    path: Path
    inputs: str  # "ids" or "frames"
    x: np.ndarray  # (B, T) int64 or (B, T, F) float32, zeros at pads
    lengths: np.ndarray  # (B,) int64
    expected: np.ndarray  # rnnkit's outputs on the batch (zeros at pad steps)


def _fit(task: str, cell: str, bi: bool, layers: int) -> tuple[Any, list[np.ndarray]]:
    s = {**QUICK, "cell": cell, "layers": layers}
    if task != "lm":
        s["bidirectional"] = bi
    if task == "classify":
        m = SequenceClassifier(**s, embed_dim=4, min_freq=1, pooling=POOLING[cell])
        return m.fit(TEXTS, LABELS), m.encode(TEXTS[:4])
    if task == "tag":
        m = SequenceTagger(**s, embed_dim=4, char_features=False, crf=False, dropout=0.0)
        return m.fit(SENTENCES, TAGS), m.encode(SENTENCES[:3])
    if task == "lm":
        m = LanguageModel(**s, embed_dim=4, level="char").fit("namaste\nnamaskar\n" * 2)
        return m, [m.encode(t) for t in ("namas", "te", "nam")]
    xs = frames()
    if task == "frames-classify":
        m = FrameClassifier(**s, pooling=POOLING[cell]).fit(xs, ["a", "b", "c", "a"] * 3)
    elif task == "frames-tag":
        m = FrameTagger(**s).fit(xs, [(x[:, 0] > 1).astype(int).astype(str) for x in xs])
    elif task == "regress":
        m = FrameRegressor(**s, pooling=POOLING[cell]).fit(xs, [x.sum() for x in xs])
    else:
        m = FrameRegressor(**s).fit(xs, [x.sum(axis=1) for x in xs])
    return m, xs[:4]


def padded(seqs: list[np.ndarray], inputs: str) -> tuple[np.ndarray, np.ndarray]:
    """A batch padded with zeros, and the lengths."""
    lengths = np.array([len(s) for s in seqs], dtype=np.int64)
    if inputs == "ids":
        x = np.zeros((len(seqs), lengths.max()), dtype=np.int64)
    else:
        x = np.zeros((len(seqs), lengths.max(), seqs[0].shape[1]), dtype=np.float32)
    for i, s in enumerate(seqs):
        x[i, : len(s)] = s
    return x, lengths


def same_bits(a: Path, b: Path) -> None:
    """The model directories `a` and `b` hold the same tensors, bit for bit."""
    before, after = load_model_dir(a).weights, load_model_dir(b).weights
    assert sorted(after) == sorted(before)
    for name, value in before.items():
        assert after[name].dtype == value.dtype and after[name].tobytes() == value.tobytes(), name


def char_tagger(directory: Path, char_cell: str, crf: bool) -> SequenceTagger:
    """A small two-layer tagger with `char_cell` character features (and a CRF), fitted
    on BIO tags learnt as IOBES for one epoch and saved to `directory`."""
    model = SequenceTagger(hidden=4, embed_dim=4, epochs=1, verbose=0, char_dim=3, iobes=True,
                           char_units=2, char_cell=char_cell, crf=crf, layers=2)  # fmt: skip
    model.fit(SENTENCES, BIO).save(directory)
    return model


def tagger_batch(model: SequenceTagger, sentences: list) -> tuple[np.ndarray, np.ndarray]:
    """(B, T, 1 + L) ids padded on both axes, or (B, T) without character features."""
    seqs = model.encode(sentences)
    if seqs[0].ndim == 1:
        return padded(seqs, "ids")
    lengths = np.array([len(s) for s in seqs], dtype=np.int64)
    x = np.zeros((len(seqs), lengths.max(), max(s.shape[1] for s in seqs)), dtype=np.int64)
    for i, s in enumerate(seqs):
        x[i, : len(s), : s.shape[1]] = s
    return x, lengths


def _expected(model: Any, raw: list[np.ndarray], inputs: str) -> np.ndarray:
    """What rnnkit gives: the network's outputs, in the targets' units for a regressor."""
    net_inputs = model._frames(raw) if inputs == "frames" else raw
    out = model.model_.predict(net_inputs)
    if isinstance(model, FrameRegressor):
        out = model.target_scaler_.inverse(out)
        if out.ndim == 3:  # pads stay zero
            _, lengths = padded(raw, inputs)
            out *= np.arange(out.shape[1])[None, :, None] < lengths[:, None, None]
    return out


def trainer(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Trained]:
    """trained(task, cell, bidirectional, layers) -> Trained, each trained once."""
    cache: dict[tuple, Trained] = {}

    def get(task: str, cell: str, bi: bool, layers: int) -> Trained:
        key = (task, cell, bi, layers)
        if key not in cache:
            model, raw = _fit(*key)
            path = model.save(tmp_path_factory.mktemp("-".join(map(str, key))) / "model")
            inputs = "frames" if task.startswith(("frames", "regress")) else "ids"
            x, lengths = padded(raw, inputs)
            cache[key] = Trained(model, path, inputs, x, lengths, _expected(model, raw, inputs))
        return cache[key]

    return get
