"""StatefulNetwork: a language network trained window by window, carrying its state.

Truncated BPTT over text streams (:mod:`rnnkit.training.streams`): a batch that
continues the previous one starts every recurrent layer from the state the previous
batch ended in, held constant, so the gradient stops at the window's first step.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rnnkit.errors import ConfigError
from rnnkit.layers import Dense
from rnnkit.layers.recurrent import RecurrentLayer
from rnnkit.models.heads import compute_loss
from rnnkit.models.sequential import Sequential
from rnnkit.training import Batch, StepResult

__all__ = ["StatefulNetwork"]

Array = np.ndarray


class StatefulNetwork:
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

    def forward(
        self, x: Array, states: list[Any] | None, training: bool
    ) -> tuple[Array, list[Any], list[Any]]:
        """Logits (B, T, V), the layers' caches, and each recurrent layer's final state."""
        caches: list[Any] = []
        finals: list[Any] = []
        last = len(self.net.layers) - 1
        for i, layer in enumerate(self.net.layers):
            if isinstance(layer, RecurrentLayer):
                s = None if states is None else states[len(finals)]
                x, cache = layer.forward(x, None, training=training, initial_state=s)
                finals.append(layer.final_state(cache))
            elif i == last and isinstance(layer, Dense):
                x, cache = layer.forward(x, training=training, logits=True)
            else:
                x, cache = layer.forward(x, training=training)
            caches.append(cache)
        return x, caches, finals

    def backward(self, dy: Array, caches: list[Any], had_state: bool) -> None:
        for layer, cache in zip(reversed(self.net.layers), reversed(caches), strict=True):
            dy = layer.backward(dy, cache)
            if had_state and isinstance(layer, RecurrentLayer):
                dy = dy[0]  # (dx, dL/d carried state): the gradient stops at the window start

    def _step(self, batch: Batch, which: str, training: bool) -> StepResult:
        states = self.states[which] if batch.carry else None
        logits, caches, finals = self.forward(batch.x, states, training)
        self.states[which] = finals
        assert self.net.loss is not None and batch.y is not None
        value, dlogits, correct, count = compute_loss(
            self.net.loss, logits, batch.y, None, "token_mean"
        )
        if training:
            self.backward(dlogits, caches, states is not None)
        # loss summed over tokens and counted per token: the loop's means are per token
        return StepResult(value * count, correct, count, count)

    def train_batch(self, batch: Batch) -> StepResult:
        return self._step(batch, "train", training=True)

    def eval_batch(self, batch: Batch) -> StepResult:
        return self._step(batch, "eval", training=False)

    def zero_grad(self) -> None:
        self.net.zero_grad()

    def param_slots(self):
        return self.net.param_slots()

    def get_weights(self) -> list[Array]:
        return self.net.get_weights()

    def set_weights(self, weights: list[Array]) -> None:
        self.net.set_weights(weights)
