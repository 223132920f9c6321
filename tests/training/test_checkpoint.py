"""Checkpoints in the Python API: a run interrupted anywhere resumes to the same numbers.

A run is interrupted by an exception raised from inside a training step (the closest
an in-process test comes to a crash), then resumed from its checkpoint; the weights,
the optimizer's state and the per-epoch figures must equal an uninterrupted run's
exactly. The command line's kill-and-resume tests use real processes and SIGKILL.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from rnnkit import GRU, LSTM, Dense, Dropout, Embedding, Sequential, SimpleRNN
from rnnkit.errors import ConfigError, ModelFileError, NumericalError
from rnnkit.training import Checkpoints
from rnnkit.training.checkpoint import model_generators

RNG = np.random.default_rng(0)
X = [RNG.integers(1, 20, size=int(n)) for n in RNG.integers(2, 9, size=90)]
Y = np.array([int(x.sum() % 2) for x in X])
CELLS = {"rnn": SimpleRNN, "lstm": LSTM, "gru": GRU}


class Crash(Exception):
    pass


def _model(cell: str, optimizer: str = "adam") -> Sequential:
    layers = [Embedding(20, 6, word_dropout=0.1), Dropout(0.2), CELLS[cell](8), Dropout(0.3)]
    model = Sequential([*layers, Dense(1, "sigmoid")], seed=3)
    return model.compile(optimizer, "binary_crossentropy", lr=0.01)


def _fit(model: Sequential, ck: Checkpoints | None, **options):
    return model.fit(X, Y, epochs=4, batch_size=8, validation_data=(X[:20], Y[:20]),
                     patience=3, verbose=0, checkpoints=ck, **options)  # fmt: skip


def _crash_at(model: Sequential, step: int) -> None:
    """Make the `step`-th training step raise, after its forward and backward."""
    train_batch, calls = model.train_batch, {"n": 0}

    def crashing(batch):
        calls["n"] += 1
        result = train_batch(batch)
        if calls["n"] == step:
            raise Crash
        return result

    model.train_batch = crashing  # type: ignore[method-assign]


@pytest.mark.parametrize("optimizer", ["adam", "momentum", "adagrad", "sgd"])
@pytest.mark.parametrize("cell", sorted(CELLS))
@pytest.mark.parametrize("crash", [5, 12, 24])  # mid-epoch, just after a save, epoch 2
def test_resume_is_exact(tmp_path: Path, cell: str, optimizer: str, crash: int) -> None:
    reference = _model(cell, optimizer)
    history = _fit(reference, None)
    broken = _model(cell, optimizer)
    _crash_at(broken, crash)
    with pytest.raises(Crash):
        _fit(broken, Checkpoints(tmp_path, every=4))
    resumed = _model(cell, optimizer)
    again = _fit(resumed, Checkpoints(tmp_path, every=4, resume=True))
    for a, b in zip(reference.get_weights(), resumed.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    figures = ("loss", "accuracy", "val_loss", "val_accuracy", "lr")
    assert [{k: e[k] for k in figures} for e in history.epochs] == [
        {k: e[k] for k in figures} for e in again.epochs
    ]
    assert again.best_epoch == history.best_epoch and again.stopped == history.stopped


def test_the_checkpoint_folder_and_what_it_holds(tmp_path: Path) -> None:
    model = _model("gru")
    _fit(model, Checkpoints(tmp_path, every=5))
    latest = json.loads((tmp_path / "latest.json").read_text())
    folders = sorted(p.name for p in tmp_path.iterdir())
    assert folders == ["latest.json", latest["dir"]]  # older checkpoints are gone
    files = sorted(p.name for p in (tmp_path / latest["dir"]).iterdir())
    assert files == ["best.safetensors", "optimizer.safetensors", "state.json",
                     "weights.safetensors"]  # fmt: skip
    state = json.loads((tmp_path / latest["dir"] / "state.json").read_text())
    assert state["progress"]["epoch"] == 5 and state["progress"]["batch"] == 0
    assert len(state["generators"]) == len(model_generators(model)) == 3  # two dropouts + words


def test_a_crash_while_saving_leaves_the_previous_checkpoint(tmp_path: Path, monkeypatch) -> None:
    ck = Checkpoints(tmp_path, every=4)
    model = _model("rnn")
    _crash_at(model, 9)
    with pytest.raises(Crash):
        _fit(model, ck)
    assert ck.last_step == 8
    from rnnkit.training import checkpoint as module

    def failing(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(module, "atomic_write_json", failing)  # dies before latest.json
    with pytest.raises(OSError, match="disk full"):
        ck.save({"step": 99}, {"weights": {"w0000": np.zeros(2)}})
    monkeypatch.undo()
    state, _ = Checkpoints(tmp_path).load()  # still the step-8 checkpoint, whole
    assert state["step"] == 8


def test_numerical_faults_stop_before_the_update(tmp_path: Path) -> None:
    model = _model("lstm")
    train_batch, calls = model.train_batch, {"n": 0}

    def poisoned(batch):
        calls["n"] += 1
        result = train_batch(batch)
        if calls["n"] == 6:
            model.layers[2].grads["W"][0, 0] = np.inf
        return result

    model.train_batch = poisoned  # type: ignore[method-assign]
    with pytest.raises(NumericalError, match=r"step 6 \(epoch 1, batch 6\).*'lstm.W'"):
        _fit(model, Checkpoints(tmp_path, every=4))
    assert all(np.isfinite(w).all() for w in model.get_weights())  # no inf was applied
    assert Checkpoints(tmp_path).load()[0]["step"] == 4


def test_resume_refuses_a_mismatch(tmp_path: Path) -> None:
    _fit(_model("gru"), Checkpoints(tmp_path, identity={"hidden": 8}))
    with pytest.raises(ConfigError, match=r"another run \(hidden: 8 there, 9 now\)"):
        _fit(_model("gru"), Checkpoints(tmp_path, resume=True, identity={"hidden": 9}))
    with pytest.raises(
        ModelFileError, match=r"w0001 is float32 \(6, 24\), the model.s float32 \(6, 32\)"
    ):
        _fit(_model("lstm"), Checkpoints(tmp_path, resume=True, identity={"hidden": 8}))
    with pytest.raises(ConfigError, match="optimizer is 'adam', not 'sgd'"):
        _fit(_model("gru", "sgd"), Checkpoints(tmp_path, resume=True, identity={"hidden": 8}))
    with pytest.raises(ConfigError, match="every 0 steps"):
        Checkpoints(tmp_path, every=0)
