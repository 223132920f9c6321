"""FitConfig.monitor and val_scores: early stopping and the kept epoch follow the
figure named, whether the loop computes it (accuracy, loss) or the model supplies it."""

from __future__ import annotations

import numpy as np
import pytest

from rnnkit.errors import ConfigError
from rnnkit.training import SGD, FitConfig, StepResult, TextStreams, fit
from rnnkit.training.progress import epoch_line
from scripted import ScriptedTrainable

# token accuracy rises every epoch, while entity F1 peaks at epoch 2 (a tagger that
# learns to say O more and more often finds fewer entities)
ACCURACY = [0.90, 0.91, 0.92, 0.93, 0.94, 0.95]
F1 = [0.10, 0.40, 0.30, 0.20, 0.10, 0.05]


class Scripted(ScriptedTrainable):
    """A Trainable whose weights are its epoch number, and whose validation accuracy
    and entity F1 follow the scripts above."""

    def train_batch(self, batch) -> StepResult:
        self.w = self.w + 1.0  # one batch per epoch: w counts the epochs
        return StepResult(1.0, 0, 1, 1)

    def eval_batch(self, batch) -> StepResult:
        epoch = int(self.w[0])
        return StepResult(1.0, round(100 * ACCURACY[epoch - 1]), 100, 1)

    def entity_f1(self) -> dict[str, float]:
        return {"entity_f1": F1[int(self.w[0]) - 1]}


def _run(monitor: str, patience: int | None = 3, scores: bool = True):
    model = Scripted()
    data = TextStreams(np.arange(20), batch_size=1, bptt=100)  # one batch per epoch
    config = FitConfig(epochs=6, patience=patience, monitor=monitor, verbose=0,
                       val_scores=model.entity_f1 if scores else None)  # fmt: skip
    history = fit(model, data, SGD(lr=0.1), config, np.random.default_rng(0), valid=data)
    return model, history


def test_the_kept_epoch_is_entity_f1s_while_accuracy_still_rises() -> None:
    model, history = _run("val_entity_f1")
    assert [e["val_entity_f1"] for e in history.epochs] == F1[:5]
    assert history.best_epoch == 2 and history.stopped == "early_stopping"
    assert model.w[0] == 2.0  # the weights of epoch 2 are the ones kept
    assert history.monitor == "val_entity_f1" and history.to_dict()["monitor"] == "val_entity_f1"


def test_the_same_run_following_accuracy_keeps_the_last_epoch() -> None:
    model, history = _run("val_accuracy")
    assert [e["val_accuracy"] for e in history.epochs] == ACCURACY
    assert "val_entity_f1" in history.epochs[0]  # recorded, not followed
    assert history.best_epoch == 6 and history.stopped == "epochs" and model.w[0] == 6.0


def test_without_patience_the_best_f1_epoch_is_still_kept() -> None:
    model, history = _run("val_entity_f1", patience=None)
    assert len(history.epochs) == 6 and history.best_epoch == 2 and model.w[0] == 2.0


def test_a_monitor_needs_a_figure_that_is_computed() -> None:
    with pytest.raises(ConfigError, match=r"^monitor='val_entity_f1': use 'val_accuracy', "):
        FitConfig(monitor="val_entity_f1")
    with pytest.raises(ConfigError, match=r"^monitor='entity_f1': use"):
        FitConfig(monitor="entity_f1", val_scores=dict)
    with pytest.raises(ConfigError, match=r"^monitor='val_f1': val_scores gave no 'f1'$"):
        _run("val_f1")


def test_the_epoch_line_shows_the_supplied_figures() -> None:
    _, history = _run("val_entity_f1")
    line = epoch_line(history.epochs[1], 6)
    assert "  val_acc 0.9100  val_entity_f1 0.4000  " in line
