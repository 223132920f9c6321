"""StatefulNetwork: a language network trained window by window, carrying its state.

Truncated BPTT over text streams (:mod:`rnnkit.training.streams`): a batch that
continues the previous one starts every recurrent layer from the state the previous
batch ended in, held constant, so the gradient stops at the window's first step.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rnnkit.errors import ConfigError, ModelFileError
from rnnkit.layers.recurrent import RecurrentLayer
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

    # -- checkpoints ---------------------------------------------------------------
    def carry_arrays(self) -> dict[str, Array]:
        """The training state carried into the next window, per recurrent layer
        (``"0"``, or one array per state of the cell, ``"0.h"`` and ``"0.c"`` for an
        LSTM); empty when nothing is carried."""
        out: dict[str, Array] = {}
        for i, state in enumerate(self.states["train"] or ()):
            out.update(zip(self._carry_names(i), _as_tuple(state), strict=True))
        return out

    def load_carry_arrays(self, arrays: dict[str, Array]) -> None:
        """Carry what :meth:`carry_arrays` recorded into the next training window."""
        states: list[Any] = []
        for i, layer in enumerate(self._recurrent()):
            names = self._carry_names(i)
            if any(n not in arrays or arrays[n].ndim != 2 for n in names):
                raise ModelFileError(f"the carried state of recurrent layer {i} is missing")
            parts = tuple(arrays[n].copy() for n in names)
            states.append(parts if layer.n_states > 1 else parts[0])
        self.states["train"] = states

    def _recurrent(self) -> list[RecurrentLayer]:
        return [layer for layer in self.net.layers if isinstance(layer, RecurrentLayer)]

    def _carry_names(self, i: int) -> list[str]:
        """The names of recurrent layer i's carried arrays: "i", or "i.<state>" each."""
        states = self._recurrent()[i].cell.states
        return [f"{i}.{s}" for s in states] if len(states) > 1 else [str(i)]

    def train_batch(self, batch: Batch) -> StepResult:
        return self._step(batch, "train", training=True)

    def eval_batch(self, batch: Batch) -> StepResult:
        return self._step(batch, "eval", training=False)

    def loss_weight(self, batch: Batch) -> float:
        """The batch's targets: its loss is the mean over every one of them."""
        return float(batch.n_tokens)


def _as_tuple(state: Any) -> tuple[Array, ...]:
    """A layer's state as a tuple: (h,), or the tuple it already is ((h, c))."""
    return state if isinstance(state, tuple) else (state,)
