"""StatefulNetwork: a language network trained window by window, carrying its state.

Truncated BPTT over text streams (:mod:`rnnkit.training.streams`): a batch that
continues the previous one starts every recurrent layer from the state the previous
batch ended in, held constant, so the gradient stops at the window's first step.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rnnkit.errors import ConfigError
from rnnkit.models.heads import compute_loss
from rnnkit.models.layer_stack import WrapsNetwork
from rnnkit.models.sequential import Sequential
from rnnkit.training import Batch, StepResult

__all__ = ["StatefulNetwork"]

Array = np.ndarray


class StatefulNetwork(WrapsNetwork):
    """A Sequential language network trained on text streams, carrying its state.

    It is the :class:`~rnnkit.training.trainer.Trainable` the training loop drives:
    a batch with ``carry`` starts every recurrent layer from the state the previous
    batch ended in (training and evaluation each keep their own), any other batch
    from zeros. The carried state is a constant of the window: the gradient with
    respect to it is dropped, which is where truncated BPTT stops.
    """

    def __init__(self, net: Sequential) -> None:
        if net.loss is None:
            raise ConfigError("compile the network before wrapping it")
        self.net = net
        self.states: dict[str, list[Any] | None] = {"train": None, "eval": None}

    def _step(self, batch: Batch, which: str, training: bool) -> StepResult:
        states = self.states[which] if batch.carry else None
        logits, caches = self.net.forward(
            batch.x, None, training=training, logits=True, initial_states=states
        )
        self.states[which] = self.net.final_states(caches)
        assert self.net.loss is not None and batch.y is not None
        value, dlogits, correct, count = compute_loss(
            self.net.loss, logits, batch.y, None, "token_mean"
        )
        if training:
            self.net.backward(dlogits, caches)  # no gradient into the carried state
        # loss summed over tokens and counted per token: the loop's means are per token
        return StepResult(value * count, correct, count, count)

    def train_batch(self, batch: Batch) -> StepResult:
        return self._step(batch, "train", training=True)

    def eval_batch(self, batch: Batch) -> StepResult:
        return self._step(batch, "eval", training=False)
