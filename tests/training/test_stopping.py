"""Why a run stopped (History.stopped), the epoch the time budget cut, and resuming a
run that has ended.

The loop's clock is replaced by one that a batch moves on by one second, so the time
budget ends a run at a batch the test knows, however fast the machine is.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from rnnkit.errors import ConfigError
from rnnkit.training import SGD, Checkpoints, FitConfig, StepResult, TextStreams, fit
from rnnkit.training import trainer as trainer_module
from rnnkit.training.progress import epoch_line
from scripted import ScriptedTrainable

#: 100 targets in windows of 10: ten batches an epoch
DATA = TextStreams(np.arange(101), batch_size=1, bptt=10)


class Clocked(ScriptedTrainable):
    """A Trainable whose weight counts its batches; each batch takes one second of
    `clock`, and validation always scores the same (no epoch is better than the first)."""

    def __init__(self, clock: dict[str, float]) -> None:
        super().__init__()
        self.clock = clock

    def train_batch(self, batch) -> StepResult:
        self.clock["now"] += 1.0
        self.w = self.w + 1.0
        return StepResult(1.0, 0, 1, 1)

    def eval_batch(self, batch) -> StepResult:
        return StepResult(1.0, 5, 10, 1)


@pytest.fixture
def clock(monkeypatch) -> dict[str, float]:
    """The training loop's clock, in seconds, moved on by the batches of Clocked."""
    now = {"now": 0.0}
    monkeypatch.setattr(trainer_module, "time", SimpleNamespace(perf_counter=lambda: now["now"]))
    return now


def _fit(clock, valid=None, checkpoints=None, **settings):
    model = Clocked(clock)
    config = FitConfig(verbose=0, checkpoints=checkpoints, **{"epochs": 4, **settings})
    history = fit(model, DATA, SGD(lr=0.1), config, np.random.default_rng(0), valid=valid)
    return model, history


def test_a_run_of_all_its_epochs(clock) -> None:
    model, history = _fit(clock)
    assert history.stopped == "epochs" and len(history.epochs) == 4
    assert history.cut is None and model.w[0] == 40


def test_early_stopping(clock) -> None:
    _, history = _fit(clock, valid=DATA, patience=2, epochs=10)
    assert history.stopped == "early_stopping"
    assert [e["epoch"] for e in history.epochs] == [1, 2, 3] and history.best_epoch == 1
    assert history.to_dict()["stopped"] == "early_stopping"


def test_the_time_budget_cuts_an_epoch_and_says_so(clock) -> None:
    model, history = _fit(clock, max_minutes=15 / 60)  # past 15 s in epoch 2's 6th batch
    assert history.stopped == "time_budget"
    assert history.cut == (6, 10) and model.w[0] == 16
    first, cut = history.epochs
    assert "cut_after" not in first and (cut["cut_after"], cut["batches"]) == (6, 10)
    assert epoch_line(first, 4).startswith("epoch   1/4  loss ")
    assert epoch_line(cut, 4).startswith("epoch   2/4 (cut: 6/10 batches)  loss ")


def test_a_budget_passed_at_an_epochs_end_starts_no_other(clock) -> None:
    model, history = _fit(clock, max_minutes=9.5 / 60)  # passed in epoch 1's last batch
    assert history.stopped == "time_budget" and history.cut is None
    assert len(history.epochs) == 1 and model.w[0] == 10


def test_the_budget_ends_a_run_of_one_batch_an_epoch(clock) -> None:
    one = TextStreams(np.arange(11), batch_size=1, bptt=10)
    model = Clocked(clock)
    config = FitConfig(epochs=50, max_minutes=3.5 / 60, verbose=0)
    history = fit(model, one, SGD(lr=0.1), config, np.random.default_rng(0))
    assert history.stopped == "time_budget" and len(history.epochs) == 4


def test_a_run_the_budget_ended_resumes_under_a_new_budget(clock, tmp_path) -> None:
    _fit(clock, checkpoints=Checkpoints(tmp_path), max_minutes=15 / 60)
    resumed = Checkpoints(tmp_path, resume=True, model_saved=True)
    model, history = _fit(clock, checkpoints=resumed, max_minutes=15 / 60)
    assert [e["epoch"] for e in history.epochs] == [1, 2, 3, 4]
    assert [e.get("cut_after") for e in history.epochs] == [None, 6, None, 6]
    assert history.stopped == "time_budget" and model.w[0] == 10 + 6 + 10 + 6


def test_resuming_a_run_that_has_ended_is_refused_once_its_model_is_saved(clock, tmp_path) -> None:
    _fit(clock, checkpoints=Checkpoints(tmp_path))
    with pytest.raises(ConfigError, match="nothing to resume: all 4 epochs are done; give more"):
        _fit(clock, checkpoints=Checkpoints(tmp_path, resume=True, model_saved=True))
    # stopped before its model was saved: the resume ends the run, training nothing
    model, history = _fit(clock, checkpoints=Checkpoints(tmp_path, resume=True))
    assert len(history.epochs) == 4 and history.stopped == "epochs" and model.w[0] == 40
    model, history = _fit(clock, checkpoints=Checkpoints(tmp_path, resume=True), epochs=5)
    assert len(history.epochs) == 5 and model.w[0] == 50  # more epochs: it trains on


def test_resuming_a_run_early_stopping_ended_is_refused(clock, tmp_path) -> None:
    _fit(clock, valid=DATA, patience=2, epochs=10, checkpoints=Checkpoints(tmp_path))
    again = Checkpoints(tmp_path, resume=True, model_saved=True)
    with pytest.raises(ConfigError, match="nothing to resume: early stopping ended it after epo"):
        _fit(clock, valid=DATA, patience=2, epochs=10, checkpoints=again)
