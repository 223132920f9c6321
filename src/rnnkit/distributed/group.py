"""Data-parallel training steps: each rank's share, then one fixed-order sum.

One step of :class:`MPIGroup` on rank ``r`` of ``N``:

1. cut its share of the global batch (:func:`~rnnkit.distributed.shard`), forward
   and BPTT on it alone;
2. gather every rank's counts (loss weight ``w_r``, loss and accuracy sums, tokens,
   which gradients are row-sparse and how many rows): one small message;
3. pack its gradients times ``w_r / sum w`` (and the ids of the embedding rows it
   touched) into one buffer, gather every rank's in one message, and add them in
   rank order (:mod:`~rnnkit.distributed.reduction`).

Two collectives a step, whatever the number of parameters.

The result is the gradient of the global batch's loss, a mean over all of its
sequences (or tokens), never a mean of the ranks' means; every rank holds the same
bits, applies the same optimizer step and so keeps the same weights.

:class:`Accumulate` runs the same steps in one process, the ``N`` shares one after
the other: ``mpiexec -n N`` and ``Accumulate(N)`` train the same weights.
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

import numpy as np

from rnnkit.distributed.reduction import combine, pack
from rnnkit.distributed.sharding import shard, share_size
from rnnkit.errors import ConfigError
from rnnkit.training.checkpoint import model_generators
from rnnkit.training.optimizers import ParamSlot
from rnnkit.training.trainer import StepResult

__all__ = ["Accumulate", "MPIGroup"]

Array = np.ndarray
T = TypeVar("T")
#: the counts every rank sends each step, before its gradients
COUNTS = ("weight", "loss_sum", "correct", "count", "n_sequences", "tokens")


class _Steps:
    """What both groups share: a rank's share trained, the counts, the stale rows."""

    rank: int
    size: int

    def __init__(self, seed: int) -> None:
        self.seed = int(seed)
        #: slot key -> rows of a sparse gradient this group wrote (the union of the
        #: ranks'), which the model's zero_grad, knowing only its own, would leave
        self._written: dict[str, Array] = {}
        self._generators: tuple[Any, list[np.random.Generator]] | None = None

    def _train_share(self, model: Any, source: Any, index: Any, rank: int, step: int):
        """Forward and BPTT on `rank`'s share; (counts, (gradient, rows) per slot).

        The model's random generators (dropout, scheduled sampling) are drawn afresh
        from (seed, step, rank): each share its own masks, the same in every run with
        this many ranks, after a resume too, with no per-rank state to save.
        """
        if self._generators is None or self._generators[0] is not model:
            self._generators = (model, model_generators(model))  # found once: a walk
        for i, g in enumerate(self._generators[1]):
            fresh = np.random.default_rng([self.seed, step, rank, i])
            g.bit_generator.state = fresh.bit_generator.state
        for key, _, g, _ in model.param_slots():  # zero what the last sum wrote
            rows = self._written.pop(key, None)
            if rows is not None:
                g[rows] = 0.0
        model.zero_grad()
        part = shard(index, rank, self.size)
        counts = np.zeros(len(COUNTS))
        if share_size(part):  # an empty share (fewer rows than ranks) adds nothing
            weight = getattr(model, "loss_weight", None)
            if weight is None:
                name = type(model).__name__
                raise ConfigError(f"{name} cannot train data parallel: it has no loss_weight")
            batch = source.batch(part)
            r = model.train_batch(batch)
            sums = (r.loss_sum, r.correct, r.count, r.n_sequences, batch.n_tokens)
            counts[:] = (weight(batch), *sums)
        grads = [(g, rows) for _, _, g, rows in model.param_slots()]
        return counts, grads

    def _finish(self, counts: Array, slots: list[ParamSlot], values, rows, sparse):
        """The global StepResult and tokens; the summed gradients written into `slots`."""
        n_slots = len(slots)
        row_counts = counts[:, len(COUNTS) + n_slots :]
        out = combine(values, rows, row_counts, slots, sparse)
        for key, _, _, union in out:
            if union is not None:
                self._written[key] = union
        total = [float(sum(counts[r, i] for r in range(len(counts)))) for i in range(len(COUNTS))]
        _, loss_sum, correct, count, n_seq, tokens = total  # summed in rank order
        return StepResult(loss_sum, int(correct), int(count), int(n_seq)), int(tokens), out


def _layout(counts: Array, n_slots: int) -> list[bool]:
    """Which slots travel as rows: those every rank holds sparse."""
    dense = counts[:, len(COUNTS) : len(COUNTS) + n_slots]
    return [not dense[:, j].any() for j in range(n_slots)]


def _slot_counts(grads: list[tuple[Array, Array | None]]) -> Array:
    """Per slot: 1 if dense; then per slot the rows touched (0 if dense)."""
    dense = [1.0 if rows is None else 0.0 for _, rows in grads]
    n_rows = [0.0 if rows is None else float(len(rows)) for _, rows in grads]
    return np.array(dense + n_rows)


def _lengths(counts: Array, slots: list[ParamSlot], sparse: list[bool]):
    """Per rank: the entries of its values buffer, and the ids of its rows buffer."""
    n_rows = counts[:, len(COUNTS) + len(slots) :]
    n_values, n_ids = [], []
    for r in range(len(counts)):
        values = ids = 0
        for j, (_, _, g, _) in enumerate(slots):
            if sparse[j]:
                ids += int(n_rows[r, j])
                values += int(n_rows[r, j]) * int(np.prod(g.shape[1:], dtype=np.int64))
            else:
                values += g.size
        n_values.append(values)
        n_ids.append(ids)
    return n_values, n_ids


def _scale(counts: Array, rank: int) -> float:
    """This rank's share of the global loss weight, w_r / sum_r w_r."""
    total = float(sum(counts[r, 0] for r in range(len(counts))))
    return float(counts[rank, 0]) / total if total > 0 else 0.0


class MPIGroup(_Steps):
    """The ranks of an MPI communicator training one model (mpi4py's ``COMM_WORLD``).

    Parameters
    ----------
    comm : an mpi4py communicator (``MPI.COMM_WORLD``)
    seed : int
        With the step and the rank, seeds the model's dropout at every step.
    """

    def __init__(self, comm: Any, seed: int = 0) -> None:
        super().__init__(seed)
        self.comm = comm
        self.rank, self.size = int(comm.Get_rank()), int(comm.Get_size())

    def train_step(self, model: Any, source: Any, index: Any, step: int):
        counts, grads = self._train_share(model, source, index, self.rank, step)
        counts = np.concatenate([counts, _slot_counts(grads)])
        everyone = np.empty((self.size, len(counts)))
        self.comm.Allgather(counts, everyone)  # (N, k): the ranks' counts, in rank order
        slots = model.param_slots()
        sparse = _layout(everyone, len(slots))
        values, rows = pack(grads, sparse, _scale(everyone, self.rank))
        # one message: the values, then the rows' ids, as bytes; each rank's lengths
        # follow from the counts every rank already holds
        n_values, n_rows = _lengths(everyone, slots, sparse)
        sent = np.concatenate([values.view(np.uint8), rows.view(np.uint8)])
        item = values.dtype.itemsize
        sizes = [v * item + 8 * n for v, n in zip(n_values, n_rows, strict=True)]
        parts = list(zip(self._gatherv(sent, sizes), n_values, strict=True))
        all_values = [p[: v * item].view(values.dtype) for p, v in parts]
        all_rows = [p[v * item :].view(np.int64) for p, v in parts]
        return self._finish(everyone, slots, all_values, all_rows, sparse)

    def _gatherv(self, buf: Array, sizes: list[int]) -> list[Array]:
        """Allgatherv: one contiguous message in, every rank's buffer out."""
        out = np.empty(sum(sizes), dtype=buf.dtype)
        self.comm.Allgatherv(np.ascontiguousarray(buf), [out, sizes])
        return np.split(out, np.cumsum(sizes)[:-1])

    def gather_rows(self, arrays: dict[str, Array]) -> dict[str, Array]:
        """Every rank's arrays joined along their rows in rank order (rank 0's names;
        a rank holding none of an array, its share empty, adds no rows)."""
        out = {}
        for name in self.from_root(sorted(arrays)):
            own = arrays.get(name)
            spec: list[Any] = [] if own is None else [list(own.shape[1:]), own.dtype.str]
            shape, dtype = self.from_root(spec)  # rank 0 holds every name
            rows = np.zeros((0, *shape), dtype) if own is None else np.ascontiguousarray(own)
            sizes = np.empty(self.size, np.int64)
            self.comm.Allgather(np.array([rows.size], np.int64), sizes)
            parts = self._gatherv(rows.reshape(-1), [int(n) for n in sizes])
            out[name] = np.concatenate(parts).reshape(-1, *shape)
        return out

    def own_rows(self, arrays: dict[str, Array]) -> dict[str, Array]:
        return {k: shard(v, self.rank, self.size) for k, v in arrays.items()}

    def from_root(self, value: T) -> T:
        """Rank 0's `value` (a bool, or a dict of floats), sent as JSON: no pickle,
        and a float's repr reads back to the same bits."""
        data = np.frombuffer(json.dumps(value).encode(), np.uint8) if self.rank == 0 else None
        size = np.array([0 if data is None else data.size], np.int64)
        self.comm.Bcast(size, root=0)
        buf = data.copy() if data is not None else np.empty(int(size[0]), np.uint8)
        self.comm.Bcast(buf, root=0)
        return json.loads(buf.tobytes().decode())


class Accumulate(_Steps):
    """One process accumulating the ``size`` shares of every batch in rank order: the
    same weights as ``mpiexec -n size`` with the same `seed`, for checking and for
    training a large batch in small pieces.

    >>> Accumulate(2).size, Accumulate(2).rank
    (2, 0)
    """

    def __init__(self, size: int, seed: int = 0) -> None:
        super().__init__(seed)
        if size < 1:
            raise ConfigError(f"size={size}: at least one share")
        self.rank, self.size = 0, int(size)

    def train_step(self, model: Any, source: Any, index: Any, step: int):
        if getattr(index, "carry", False) and self.size > 1:
            raise ConfigError("carried states (stateful text streams) need one rank per share")
        shares = []
        for r in range(self.size):  # each share's gradient, copied before the next
            counts, grads = self._train_share(model, source, index, r, step)
            copies = [(g.copy(), None if rows is None else rows.copy()) for g, rows in grads]
            shares.append((np.concatenate([counts, _slot_counts(grads)]), copies))
        everyone = np.stack([c for c, _ in shares])
        slots = model.param_slots()
        sparse = _layout(everyone, len(slots))
        packed = [pack(g, sparse, _scale(everyone, r)) for r, (_, g) in enumerate(shares)]
        values, rows = [v for v, _ in packed], [w for _, w in packed]
        return self._finish(everyone, slots, values, rows, sparse)

    def from_root(self, value: T) -> T:
        return value

    def gather_rows(self, arrays: dict[str, Array]) -> dict[str, Array]:
        return arrays

    def own_rows(self, arrays: dict[str, Array]) -> dict[str, Array]:
        return arrays
