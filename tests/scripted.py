"""A stand-in for a model under the training loop: one weight array, no parameters to
update, whose validation figures a test scripts (tests/training)."""

from __future__ import annotations

import numpy as np


class ScriptedTrainable:
    """What the training loop needs of a model besides its two steps: a weight it can
    keep and restore (the kept epoch's), and nothing to zero or update. Subclasses
    supply ``train_batch`` and ``eval_batch``."""

    def __init__(self) -> None:
        self.w = np.zeros(1)

    def zero_grad(self) -> None:
        pass

    def param_slots(self) -> list:
        return []

    def get_weights(self) -> list[np.ndarray]:
        return [self.w.copy()]

    def set_weights(self, weights) -> None:
        self.w = weights[0]
