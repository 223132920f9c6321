"""Batches of a long token stream for truncated backpropagation through time.

A language model learns from text far longer than any sequence it could unroll, so
the text is cut into windows of ``bptt`` steps and BPTT runs inside each window only.
Inputs are the tokens, targets the same tokens one step later.

Two ways to cut it, and what happens to the hidden state:

- **stateful** (the default): the text is split into ``batch_size`` equal streams, one
  per batch row, and each batch is the next ``bptt`` tokens of every stream. Row i of
  a batch continues row i of the batch before it, so the model starts each window from
  the state the previous window ended in (carried forward, but no gradient flows back
  through it: the gradient stops at the window's first step). Batches come in text
  order, and the state goes back to zero at the start of every epoch (and of every
  evaluation). The model can thus use context from long before the window.
- **not stateful** (random partitioning): every epoch the text is cut into windows of
  ``bptt`` tokens from a random offset, the windows are shuffled into batches, and
  each starts from the zero state. The model sees at most ``bptt`` tokens of context.

>>> import numpy as np
>>> streams = TextStreams(np.arange(13), batch_size=2, bptt=4)
>>> [(b.x.tolist(), b.carry) for b in map(streams.batch, streams.batches(2))]
[([[0, 1, 2, 3], [6, 7, 8, 9]], False), ([[4, 5], [10, 11]], True)]
>>> streams.batch(streams.batches(2)[0]).y.tolist()
[[1, 2, 3, 4], [7, 8, 9, 10]]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnkit.errors import ConfigError, DataError
from rnnkit.training.dataset import Batch

__all__ = ["TextStreams", "Window"]

Array = np.ndarray


@dataclass(frozen=True)
class Window:
    """One batch: where each row starts in the text, its steps, and whether it carries state."""

    starts: Array
    steps: int
    carry: bool


class TextStreams:
    """A token stream as batches of windows (see the module docstring).

    Parameters
    ----------
    ids : (N,) int array, the whole text
    batch_size : rows per batch (the number of parallel streams when stateful);
        lowered to what the text can fill
    bptt : steps per window, the length BPTT unrolls
    stateful : carry the state from window to window (True) or start each from zero
    """

    def __init__(self, ids: Array, batch_size: int, bptt: int, stateful: bool = True) -> None:
        ids = np.asarray(ids)
        if ids.ndim != 1 or not np.issubdtype(ids.dtype, np.integer):
            raise DataError(f"a token stream is a 1-D array of ids, got {ids.dtype} {ids.shape}")
        if len(ids) < 2:
            raise DataError(f"{len(ids)} token(s): a language model needs at least two")
        for name, value in (("batch_size", batch_size), ("bptt", bptt)):
            if int(value) < 1:
                raise ConfigError(f"{name}={value}: must be at least 1")
        self.ids = ids
        self.bptt = int(bptt)
        self.stateful = bool(stateful)
        self.batch_size = min(int(batch_size), self._most_rows())

    def _most_rows(self) -> int:
        n = len(self.ids) - 1  # (input, target) pairs
        return n if self.stateful else max(1, n // self.bptt)

    @property
    def n_targets(self) -> int:
        """Tokens predicted in one pass (an epoch, or an evaluation)."""
        if self.stateful:
            return self.batch_size * ((len(self.ids) - 1) // self.batch_size)
        return sum(len(w.starts) * w.steps for w in self.batches(self.batch_size))

    def batches(
        self, batch_size: int | None = None, rng: np.random.Generator | None = None, bucket=True
    ) -> list[Window]:
        """The windows of one pass, in the order to visit them.

        The layout was fixed when the streams were made, so `batch_size` and `bucket`
        (the :class:`~rnnkit.training.SequenceDataset` arguments) are ignored. Without
        `rng` nothing is random: random partitioning then starts at offset 0, in order.
        """
        B, T = self.batch_size, self.bptt
        n = len(self.ids) - 1
        if self.stateful:
            L = n // B  # steps per stream; the last n - B L tokens are left out
            base = np.arange(B) * L
            return [Window(base + t, min(T, L - t), carry=t > 0) for t in range(0, L, T)]
        offset = 0 if rng is None or n <= T else int(rng.integers(min(T, n - T + 1)))
        count = (n - offset) // T
        if count == 0:  # shorter than one window: one window of all of it
            return [Window(np.array([0]), n, carry=False)]
        starts = offset + np.arange(count) * T
        if rng is not None:
            starts = starts[rng.permutation(count)]
        return [Window(starts[i : i + B], T, carry=False) for i in range(0, count, B)]

    def batch(self, index: Window) -> Batch:
        """The inputs (B, steps), the targets one step later, and an all-real mask."""
        steps = np.arange(index.steps)
        pos = index.starts[:, None] + steps[None, :]
        x = self.ids[pos].astype(np.intp)
        y = self.ids[pos + 1].astype(np.intp)
        B = len(index.starts)
        mask = np.ones((B, index.steps), dtype=bool)
        lengths = np.full(B, index.steps, dtype=np.int64)
        return Batch(x, mask, lengths, y, index.starts, carry=index.carry)
