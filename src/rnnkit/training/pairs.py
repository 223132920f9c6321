"""Source and target sequences of different lengths, cut into padded mini-batches.

The encoder-decoder's data (:class:`PairDataset`): each example is a source (S_i,)
and a target (T_i,) of ids, the target ending in ``<eos>``. A batch pads each side to
its own longest and gives the decoder, for teacher forcing, its input: the target
shifted right behind ``<sos>``, so that at step t it reads y_{t-1} and is asked for y_t.

>>> import numpy as np
>>> ds = PairDataset([np.array([5, 6, 7]), np.array([8])],
...                  [np.array([4, 3]), np.array([5, 6, 3])], sos_id=2)
>>> b = ds.batch(np.array([0, 1]))
>>> b.x.tolist(), b.y_in.tolist(), b.y.tolist()
([[5, 6, 7], [8, 0, 0]], [[2, 4, 0], [2, 5, 6]], [[4, 3, 0], [5, 6, 3]])
>>> b.y_mask.tolist()
[[True, True, False], [True, True, True]]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rnnkit.data.batching import bucket_batches
from rnnkit.errors import DataError, ShapeError
from rnnkit.training.dataset import Batch

__all__ = ["PairBatch", "PairDataset", "pad_ids"]

Array = np.ndarray


@dataclass
class PairBatch(Batch):
    """A batch of pairs: x (B, S) source ids with mask and lengths; y (B, T) target ids.

    y_in (B, T) is what the decoder reads under teacher forcing (``<sos>`` y_1 ..
    y_{T-1}); y_mask (B, T) is False at the target's pads.
    """

    y_in: Array | None = None
    y_mask: Array | None = None

    @property
    def n_tokens(self) -> int:
        """Source and target tokens of the batch."""
        return int(self.lengths.sum()) + (0 if self.y_mask is None else int(self.y_mask.sum()))


class PairDataset:
    """Pairs of id sequences: sources (S_i,) and targets (T_i,) ending in ``<eos>``.

    Batches are bucketed by source length; with teacher forcing the decoder reads the
    target shifted behind `sos_id`. `targets` may be None when only decoding.
    """

    def __init__(
        self, sources: Sequence[Array], targets: Sequence[Array] | None, *, sos_id: int
    ) -> None:
        self.sources = [np.asarray(s) for s in sources]
        if not self.sources:
            raise DataError("no pairs: the dataset is empty")
        self.lengths = np.array([len(s) for s in self.sources], dtype=np.int64)
        if (self.lengths == 0).any():
            raise DataError(f"source {int(np.argmin(self.lengths))} is empty")
        self.targets = None if targets is None else [np.asarray(t) for t in targets]
        if self.targets is not None:
            if len(self.targets) != len(self.sources):
                raise ShapeError(f"{len(self.sources)} sources but {len(self.targets)} targets")
            if any(len(t) == 0 for t in self.targets):
                raise DataError("a target is empty: it needs at least <eos>")
        self.sos_id = int(sos_id)

    def __len__(self) -> int:
        return len(self.sources)

    def batch(self, index: Array) -> PairBatch:
        index = np.asarray(index)
        x, mask = pad_ids([self.sources[i] for i in index])
        out = PairBatch(x, mask, self.lengths[index], None, index)
        if self.targets is not None:
            y, y_mask = pad_ids([self.targets[i] for i in index])
            y_in = np.zeros_like(y)
            y_in[:, 0] = self.sos_id
            y_in[:, 1:] = y[:, :-1]  # the shift: y_{t-1} at step t
            y_in *= y_mask  # pads read 0, like every pad
            out.y, out.y_in, out.y_mask = y, y_in, y_mask
        return out

    def batches(
        self, batch_size: int, rng: np.random.Generator | None = None, bucket: bool = True
    ) -> list[Array]:
        """Index arrays of the mini-batches, shuffled with `rng`, bucketed by source length."""
        return bucket_batches(
            self.lengths, batch_size, rng, shuffle=rng is not None, bucket_size=50 if bucket else 1
        )


def pad_ids(seqs: Sequence[Array]) -> tuple[Array, Array]:
    """Id sequences padded with 0 to the longest: (B, T) ids and the (B, T) mask."""
    lengths = np.array([len(s) for s in seqs])
    T = int(lengths.max())
    dtype = seqs[0].dtype if len(seqs[0]) else np.int64
    x = np.zeros((len(seqs), T), dtype=dtype)
    for row, s in enumerate(seqs):
        x[row, : len(s)] = s
    return x, np.arange(T)[None, :] < lengths[:, None]
