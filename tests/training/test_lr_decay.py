"""FitConfig.lr_decay: the learning rate is cut after every epoch that is not the best."""

from __future__ import annotations

import numpy as np
import pytest

from rnnkit.errors import ConfigError
from rnnkit.training import SGD, FitConfig, StepResult, TextStreams, fit
from scripted import ScriptedTrainable


class Scripted(ScriptedTrainable):
    """A Trainable whose validation losses follow a script (one per epoch)."""

    def __init__(self, val_losses: list[float]) -> None:
        super().__init__()
        self.val_losses = iter(val_losses)
        self.current = 0.0

    def train_batch(self, batch) -> StepResult:
        self.current = next(self.val_losses)
        return StepResult(1.0, 0, 1, 1)

    def eval_batch(self, batch) -> StepResult:
        return StepResult(self.current, 0, 1, 1)


def test_lr_halves_after_each_epoch_without_a_better_validation_loss() -> None:
    data = TextStreams(np.arange(20), batch_size=1, bptt=100)  # one batch per epoch
    opt = SGD(lr=0.8)
    config = FitConfig(epochs=5, monitor="val_loss", lr_decay=0.5, verbose=0)
    history = fit(Scripted([3.0, 2.0, 2.5, 1.0, 1.5]), data, opt, config,
                  np.random.default_rng(0), valid=data)  # fmt: skip
    assert [e["lr"] for e in history.epochs] == [0.8, 0.8, 0.8, 0.4, 0.4]
    assert opt.lr == 0.2
    assert history.best_epoch == 4


def test_lr_decay_must_be_a_fraction() -> None:
    with pytest.raises(ConfigError, match=r"lr_decay=1\.5"):
        FitConfig(lr_decay=1.5)
