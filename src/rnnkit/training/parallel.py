"""What the training loop asks of a data-parallel group (``rnnkit.distributed``).

The loop stays the same with one process or many: a group trains each global batch
(its share on every rank, the gradients summed into the model's), and tells the ranks
one decision where each could otherwise decide alone (a time budget passed, the
validation figures), so they never part ways. Rank 0 alone prints and writes.

A model trained so has, beside the :class:`~rnnkit.training.trainer.Trainable` calls,
``loss_weight(batch)``: what its loss on the batch is a mean over (sequences, or
tokens), so that each rank's gradient counts by its share of the global batch.
"""

from __future__ import annotations

from typing import Any, Protocol, TypeVar

import numpy as np

from rnnkit.training.optimizers import ParamSlot

__all__ = ["ParallelGroup"]

T = TypeVar("T")
Array = np.ndarray


class ParallelGroup(Protocol):
    """The ranks training one model together; ``rank`` 0 is the one that writes."""

    rank: int
    size: int

    def train_step(
        self, model: Any, source: Any, index: Any, step: int
    ) -> tuple[Any, int, list[ParamSlot]]:
        """Train the global batch `index` of `source` at optimizer step `step` (counted
        from 0 over the run): the StepResult and tokens of the whole batch, and the
        parameter slots holding its summed gradient."""
        ...

    def from_root(self, value: T) -> T:
        """Rank 0's `value`, on every rank."""
        ...

    def gather_rows(self, arrays: dict[str, Array]) -> dict[str, Array]:
        """Every rank's arrays (states carried per batch row), joined along their rows
        in rank order: the arrays of the whole batch."""
        ...

    def own_rows(self, arrays: dict[str, Array]) -> dict[str, Array]:
        """This rank's rows of whole-batch arrays (the inverse of gather_rows)."""
        ...
