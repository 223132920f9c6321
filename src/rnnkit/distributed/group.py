"""Data-parallel training steps: each rank's share, then one fixed-order sum.

One step of :class:`MPIGroup` on rank ``r`` of ``N``:

1. cut its share of the global batch (:func:`~rnnkit.distributed.shard`), forward
   and BPTT on it alone;
2. write its counts (loss weight ``w_r``, loss and accuracy sums, tokens, the rows
   each sparse gradient touched) and its gradients into one record of a fixed size
   (:class:`~rnnkit.distributed.Layout`), in buffers kept from step to step;
3. see every rank's record and add the gradients, each times ``w_r / sum w``, in
   rank order.

How the ranks see each other's records (shared memory on one host, collectives
between hosts: one ``Allgather``, or the dense gradients summed in pieces) is
:mod:`rnnkit.distributed.exchanges`; every way gives the same bits. The first step,
and a step where a share touches more embedding rows than the records have room
for, take one more exchange: every rank reads the same headers, so all of them grow
the layout alike and send again.

The result is the gradient of the global batch's loss, a mean over all of its
sequences (or tokens), never a mean of the ranks' means; every rank holds the same
bits, applies the same optimizer step and so keeps the same weights.

:class:`Accumulate` runs the same steps in one process, the ``N`` shares one after
the other, and sums the same records: ``mpiexec -n N`` and ``Accumulate(N)`` train
the same weights.
"""

from __future__ import annotations

import json
import os
from typing import Any, TypeVar

import numpy as np

from rnnkit.core.embedding import zero_rows
from rnnkit.core.workspace import Workspace
from rnnkit.distributed.exchanges import (
    EXCHANGES,
    Gathered,
    Records,
    Scattered,
    Shared,
    apart,
    choose,
    on_every_rank,
    room,
)
from rnnkit.distributed.reduction import COUNTS, Layout, RecordView, header, totals
from rnnkit.distributed.sharding import shard, share_size
from rnnkit.errors import ConfigError
from rnnkit.training.checkpoint import model_generators
from rnnkit.training.optimizers import ParamSlot
from rnnkit.training.trainer import StepResult

__all__ = ["EXCHANGES", "Accumulate", "MPIGroup"]

Array = np.ndarray
T = TypeVar("T")
#: draws of a generator set aside for each share (PCG64's period is 2**128)
STRIDE = 2**64


class _Steps:
    """What both groups share: a rank's share trained, the counts, the stale rows."""

    rank: int
    size: int

    def __init__(self, seed: int) -> None:
        self.seed = int(seed)
        #: slot key -> rows of a sparse gradient this group wrote (the union of the
        #: ranks'), which the model's zero_grad, knowing only its own, would leave
        self._written: dict[str, Array] = {}
        #: the model, its random generators, and each one's state at the start of
        #: its sequence (drawn from the seed once)
        self._generators: tuple[Any, list[np.random.Generator], list[Any]] | None = None
        self._scratch = Workspace()  # the scaled shares being added (not state)

    def _train_share(self, model: Any, source: Any, index: Any, rank: int, step: int):
        """Forward and BPTT on `rank`'s share; its header and (gradient, rows) per slot.

        The model's random generators (dropout, scheduled sampling) are set afresh
        from (seed, step, rank): each share its own masks, the same in every run with
        this many ranks, after a resume too, with no per-rank state to save.
        """
        if self._generators is None or self._generators[0] is not model:
            found = model_generators(model)  # found once: a walk
            starts: list[Any] = [
                np.random.default_rng([self.seed, i]).bit_generator.state for i in range(len(found))
            ]
            self._generators = (model, found, starts)
        _, found, starts = self._generators
        # NOTE: share k = step * size + rank draws from its own stretch of each
        # generator's sequence, STRIDE draws long: advancing PCG64 (default_rng's) there
        # costs a few microseconds, where seeding a new generator per share cost tens
        share = (step * self.size + rank) * STRIDE
        for g, start in zip(found, starts, strict=True):
            bits: Any = g.bit_generator
            bits.state = start
            bits.advance(share)
        for key, _, g, _ in model.param_slots():  # zero what the last sum wrote
            rows = self._written.pop(key, None)
            if rows is not None:
                zero_rows(g, rows)
        model.zero_grad()
        part = shard(index, rank, self.size)
        counts = [0.0] * len(COUNTS)
        if share_size(part):  # an empty share (fewer rows than ranks) adds nothing
            weight = getattr(model, "loss_weight", None)
            if weight is None:
                name = type(model).__name__
                raise ConfigError(f"{name} cannot train data parallel: it has no loss_weight")
            batch = source.batch(part)
            r = model.train_batch(batch)
            sums = (r.loss_sum, r.correct, r.count, r.n_sequences, batch.n_tokens)
            counts = [weight(batch), *sums]
        grads = [(g, rows) for _, _, g, rows in model.param_slots()]
        return header(counts, [rows for _, rows in grads]), grads

    def _finish(
        self,
        layout: Layout,
        records: list[RecordView],
        slots: list[ParamSlot],
        headers=None,
        summed: Array | None = None,
    ):
        """The global StepResult and tokens; the summed gradients written into `slots`
        (`headers`: the records' stacked, when at hand; `summed`: the blocks' sum,
        when the ranks made it in pieces)."""
        if headers is None:
            headers = np.stack([rec.header for rec in records])  # (N, k)
        out = layout.sum_into(records, slots, self._scratch, headers, summed)
        for (key, _, g, union), (_, _, own, _) in zip(out, slots, strict=True):
            if union is not None and g is own:  # the sum written over this rank's rows
                self._written[key] = union
        _, loss_sum, correct, count, n_seq, tokens = totals(headers)  # in rank order
        return StepResult(loss_sum, int(correct), int(count), int(n_seq)), int(tokens), out


def _fitting(headers: Array, slots: list[ParamSlot], old: Layout | None = None) -> Layout:
    """The layout holding these headers for these slots (`old` when it does)."""
    shapes = [g.shape for _, _, g, _ in slots]
    dtypes = [g.dtype for _, _, g, _ in slots]
    if old is not None and (list(old.shapes), list(old.dtypes)) != (
        shapes,
        [np.dtype(d).str for d in dtypes],
    ):
        old = None  # another model
    return Layout.fitting(headers, shapes, dtypes, old)


class MPIGroup(_Steps):
    """The ranks of an MPI communicator training one model (mpi4py's ``COMM_WORLD``).

    Parameters
    ----------
    comm : an mpi4py communicator (``MPI.COMM_WORLD``)
    seed : int
        With the step and the rank, seeds the model's dropout at every step.
    exchange : one of EXCHANGES, or None for ``RNNKIT_MPI_EXCHANGE`` (default "auto")
        How the ranks see each other's records: "shared" needs every rank on one host;
        "auto" shares where it can, and where the ranks span hosts, or the host's
        shared memory has too little room, gathers (2 ranks) or scatters (more).
    """

    def __init__(self, comm: Any, seed: int = 0, exchange: str | None = None) -> None:
        super().__init__(seed)
        self.comm = comm
        self.rank, self.size = int(comm.Get_rank()), int(comm.Get_size())
        given = "exchange" if exchange is not None else "RNNKIT_MPI_EXCHANGE"
        chosen = exchange if exchange is not None else os.environ.get(given, "auto")
        if chosen not in EXCHANGES:
            raise ConfigError(f"{given}={chosen!r}: choose one of {', '.join(EXCHANGES)}")
        #: "shared" or "gather": how the records of the current layout are seen
        self.exchange = choose(comm, chosen)
        self._insist = chosen == "shared"  # else a window too large for /dev/shm: gather
        self._layout: Layout | None = None
        self._model: Any = None  # the model the layout and buffers are for
        self._records: Records | None = None

    def describe(self) -> str:
        """One line for the start of a run: the ranks, and how their gradients meet."""
        how = {
            "shared": "in memory the ranks share",
            "gather": "by MPI Allgather",
            "scatter": "in pieces across the ranks (MPI Alltoallv, Allgatherv)",
        }[self.exchange]
        return f"data parallel on {self.size} ranks, gradients summed {how}"

    def train_step(self, model: Any, source: Any, index: Any, step: int):
        head, grads = self._train_share(model, source, index, self.rank, step)
        slots = model.param_slots()
        if self._layout is None or self._model is not model:  # the first step: the
            heads = np.empty((self.size, head.size))  # headers say how to lay out
            self.comm.Allgather(head, heads)
            self._lay_out(_fitting(heads, slots), model)
        assert self._layout is not None and self._records is not None
        records = self._records.exchange(self._layout, head, grads)
        headers = np.stack([rec.header for rec in records])  # (N, k), a few numbers
        if not self._layout.holds(headers):  # more rows than room: every rank sees it
            self._lay_out(_fitting(headers, slots, self._layout), model)
            records = self._records.exchange(self._layout, head, grads)
            headers = np.stack([rec.header for rec in records])
        summed = self._records.summed(headers)  # None but when scattered
        return self._finish(self._layout, records, slots, headers, summed)

    def _lay_out(self, layout: Layout, model: Any) -> None:
        """Buffers for `layout`, kept (and their views made) until it changes."""
        if self._records is not None:
            self._records.free()
        self._layout, self._model = layout, model
        if self.exchange == "shared" and not self._insist:  # (for good: none shrinks)
            if not on_every_rank(self.comm, room(layout, self.size)):  # no /dev/shm room
                self.exchange = apart(self.size)
        kind = {"shared": Shared, "gather": Gathered, "scatter": Scattered}[self.exchange]
        if kind is Scattered and not layout.block_pieces(self.size):  # nothing to cut
            kind = Gathered
        self._records = kind(self.comm, layout)

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
            head, grads = self._train_share(model, source, index, r, step)
            copies = [(g.copy(), None if rows is None else rows.copy()) for g, rows in grads]
            shares.append((head, copies))
        slots = model.param_slots()
        layout = _fitting(np.stack([head for head, _ in shares]), slots)
        records = [layout.views(np.zeros(layout.nbytes, np.uint8)) for _ in shares]
        for rec, (head, grads) in zip(records, shares, strict=True):
            layout.pack(rec, head, grads)  # the records the ranks would send
        return self._finish(layout, records, slots)

    def from_root(self, value: T) -> T:
        return value

    def gather_rows(self, arrays: dict[str, Array]) -> dict[str, Array]:
        return arrays

    def own_rows(self, arrays: dict[str, Array]) -> dict[str, Array]:
        return arrays
