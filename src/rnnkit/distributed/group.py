"""Data-parallel training steps: each rank's share, then one fixed-order sum.

One step of :class:`MPIGroup` on rank ``r`` of ``N``:

1. cut its share of the global batch (:func:`~rnnkit.distributed.shard`), forward
   and BPTT on it alone;
2. write its counts (loss weight ``w_r``, loss and accuracy sums, tokens, the rows
   each sparse gradient touched) and its gradients into one record of a fixed size
   (:class:`~rnnkit.distributed.Layout`), in buffers kept from step to step;
3. see every rank's record and add the gradients, each times ``w_r / sum w``, in
   rank order.

Where every rank runs on one host, the records lie in one block of memory the ranks
share (an MPI shared-memory window): each rank writes its own and, after a barrier,
reads the others' where they lie, with no copy; two records per rank, used in turn,
so a rank can write the next step's while another still reads this one's. Two ranks
on two hosts gather every record in one collective (``Allgather``): each takes in
the other's. More ranks on several hosts ("scatter") gather only the records'
headers and embedding rows; the dense gradients, the bulk, are summed in pieces:
rank k takes the k-th piece of every rank's block (``Alltoallv``), sums them in rank
order and hands its sum to every rank (``Allgatherv``). A rank then moves
2 (N - 1) / N blocks, where gathering moves N - 1, and every piece is summed once,
by one rank, in the order every other way sums it: the same bits. Each way takes
a fixed number of collectives a step, whatever the number of parameters. The first
step, and a step where a share touches more embedding rows than the records have
room for, take more: every rank reads the same headers, so all of them grow the
layout alike and send again.

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
from rnnkit.distributed.reduction import COUNTS, Layout, RecordView, header, sum_piece, totals
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
#: how the ranks see each other's records: "shared" memory (every rank on one host),
#: "gather" (a collective copy, any hosts), "scatter" (the dense gradients summed in
#: pieces, any hosts), "auto" (shared where it can be, else gather for 2 ranks and
#: scatter for more)
EXCHANGES = ("auto", "shared", "gather", "scatter")
#: from this many ranks "auto" sums in pieces where it cannot share memory: scattering
#: moves 2 (N - 1) / N blocks a rank, gathering N - 1, the same at 2 ranks (where
#: gathering takes one collective, not three)
SCATTER_FROM = 3


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
        self.exchange = _exchange(comm, chosen)
        self._insist = chosen == "shared"  # else a window too large for /dev/shm: gather
        self._layout: Layout | None = None
        self._model: Any = None  # the model the layout and buffers are for
        self._records: _Records | None = None

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
        if self.exchange == "shared" and not self._insist:  # too large for /dev/shm
            if not _all(self.comm, _room(layout, self.size)):  # (for good: no layout shrinks)
                self.exchange = _apart(self.size)
        kind = {"shared": _Shared, "gather": _Gathered, "scatter": _Scattered}[self.exchange]
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


def _exchange(comm: Any, name: str) -> str:
    """The way to see the records for `name` of EXCHANGES ("auto": shared when every
    rank of `comm` is on this host, else as :func:`_apart` says). Every rank decides
    alike."""
    if name in ("gather", "scatter"):
        return name
    from mpi4py import MPI

    host = comm.Split_type(MPI.COMM_TYPE_SHARED)  # the ranks on this one's host
    one_host = _all(comm, host.Get_size() == comm.Get_size())
    host.Free()
    if name == "shared" and not one_host:
        raise ConfigError("exchange 'shared' needs every rank on one host: use 'auto'")
    return "shared" if one_host else _apart(int(comm.Get_size()))


def _apart(ranks: int) -> str:
    """The exchange of `ranks` ranks that share no memory: gather for two, scatter
    for more (SCATTER_FROM)."""
    return "scatter" if ranks >= SCATTER_FROM else "gather"


def _all(comm: Any, flag: bool) -> bool:
    """Whether `flag` holds on every rank of `comm` (the same answer on each)."""
    from mpi4py import MPI

    out = np.zeros(1, np.int64)
    comm.Allreduce(np.array([int(flag)], np.int64), out, op=MPI.MIN)
    return bool(out[0])


def _room(layout: Layout, ranks: int, shm: str = "/dev/shm") -> bool:
    """Whether this host's shared memory (`shm`, where MPICH puts its windows) has
    room, twice over, for the two records of each of `ranks` ranks; True where it
    cannot be told. A window larger than the room left fails only once written, with
    SIGBUS, so it is never tried."""
    try:
        st = os.statvfs(shm)
    except OSError:
        return True
    return st.f_bavail * st.f_frsize >= 2 * (2 * layout.nbytes * ranks)


class _Records:
    """How the ranks see each other's records, one way of EXCHANGES: ``exchange``
    gives every rank's record (views, in rank order); then ``summed`` gives their
    blocks' sum when the exchange made it (else None: ``sum_into`` adds the blocks)."""

    def exchange(self, layout: Layout, head: Array, grads: list[tuple[Array, Array | None]]):
        raise NotImplementedError

    def summed(self, headers: Array) -> Array | None:
        return None

    def free(self) -> None:
        """Hand back what the records held (a collective where they were shared)."""


class _Gathered(_Records):
    """Every rank's record copied to every rank by one ``Allgather`` a step."""

    def __init__(self, comm: Any, layout: Layout) -> None:
        self.comm = comm
        self.send = np.zeros(layout.nbytes, np.uint8)
        self.received = np.zeros((comm.Get_size(), layout.nbytes), np.uint8)  # by rank
        self.own = layout.views(self.send)
        self.everyone = [layout.views(rec) for rec in self.received]

    def exchange(self, layout: Layout, head: Array, grads: list[tuple[Array, Array | None]]):
        """Pack this rank's record, gather every rank's: their views, in rank order."""
        layout.pack(self.own, head, grads)
        self.comm.Allgather(self.send, self.received)
        return self.everyone


class _Scattered(_Records):
    """Every rank's header, ids and rows gathered to every rank (``Allgatherv``, in
    place), the blocks summed in pieces: this rank takes its piece of every rank's
    block (``Alltoallv``), sums them in rank order and every rank gathers the summed
    pieces (``Allgatherv``). A layout with no block (slots held whole in several
    dtypes) goes whole, as gathered."""

    def __init__(self, comm: Any, layout: Layout) -> None:
        from mpi4py import MPI

        self.comm, self.rank, n = comm, int(comm.Get_rank()), int(comm.Get_size())
        self.received = np.zeros((n, layout.nbytes), np.uint8)  # by rank; own row packed
        self.everyone = [layout.views(rec) for rec in self.received]
        own = self.everyone[self.rank].block
        self.pieces = layout.block_pieces(n)  # (first entry, entries) per rank
        # the messages, in bytes: every rank's prefix into its row of `received` ...
        nbytes, prefix = layout.nbytes, layout.prefix
        spans = [[prefix] * n, [r * nbytes for r in range(n)]]
        self.prefixes = [self.received, *spans, MPI.BYTE]
        item, (_, size) = (1, (0, 0)) if own is None else (own.itemsize, self.pieces[self.rank])
        dtype = np.uint8 if own is None else own.dtype
        # ... this rank's piece of every rank's block, by rank, and the summed pieces
        self.mine = np.zeros((n, size), dtype)
        self.tmp = np.zeros(size, dtype)
        self.block = np.zeros(0 if own is None else own.size, dtype)
        spans = [[k * item for _, k in self.pieces], [a * item for a, _ in self.pieces]]
        block = self.received[self.rank, prefix : prefix + self.block.nbytes]
        self.out = [block, *spans, MPI.BYTE]  # (nothing to send without a block)
        self.into = [self.mine, [size * item] * n, [r * size * item for r in range(n)], MPI.BYTE]
        self.gather = [self.block, *spans, MPI.BYTE]
        self.in_place = MPI.IN_PLACE

    def exchange(self, layout: Layout, head: Array, grads: list[tuple[Array, Array | None]]):
        """Pack this rank's record; every rank's header and rows, and this rank's piece
        of every block: the records' views, in rank order (the blocks unread)."""
        layout.pack(self.everyone[self.rank], head, grads)
        self.comm.Allgatherv(self.in_place, self.prefixes)
        if self.pieces:
            self.comm.Alltoallv(self.out, self.into)
        return self.everyone

    def summed(self, headers: Array) -> Array | None:
        """The blocks summed: this rank's piece summed in rank order, then every
        rank's piece gathered."""
        if not self.pieces:
            return None
        first, size = self.pieces[self.rank]
        sum_piece(list(self.mine), headers, self.block[first : first + size], self.tmp)
        self.comm.Allgatherv(self.in_place, self.gather)
        return self.block


class _Shared(_Records):
    """Every rank's records in one shared-memory window of their host, two per rank.

    A step writes this rank's record of the turn, waits at a barrier for every rank's,
    and reads them in place. A rank writes turn ``t + 2``'s record only once past the
    barrier of ``t + 1``, which every rank reaches only after reading turn ``t``'s:
    the two turns never overlap.
    """

    def __init__(self, comm: Any, layout: Layout) -> None:
        from mpi4py import MPI

        self.comm, self.turn, n = comm, 0, layout.nbytes
        self.window = MPI.Win.Allocate_shared(2 * n, 1, comm=comm)
        self.window.Lock_all(MPI.MODE_NOCHECK)  # passive access for the window's life
        mine = comm.Get_rank()
        blocks = [self._block(r, n) for r in range(comm.Get_size())]  # (2, n) per rank
        self.own = [layout.views(blocks[mine][t]) for t in range(2)]
        self.everyone = [[layout.views(b[t]) for b in blocks] for t in range(2)]

    def _block(self, rank: int, n: int) -> Array:
        buf, _ = self.window.Shared_query(rank)
        memory: Any = buf  # an MPI buffer: the buffer protocol, which numpy reads
        return np.frombuffer(memory, np.uint8, count=2 * n).reshape(2, n)

    def exchange(self, layout: Layout, head: Array, grads: list[tuple[Array, Array | None]]):
        """Write this rank's record of the turn; every rank's, once all are written."""
        t, self.turn = self.turn, 1 - self.turn
        layout.pack(self.own[t], head, grads)
        self.window.Sync()  # this rank's writes are visible ...
        self.comm.Barrier()  # ... once every rank has written
        self.window.Sync()
        return self.everyone[t]

    def free(self) -> None:
        """Hand the window back (a collective: every rank relays out alike)."""
        self.own, self.everyone = [], []  # no view may outlive the memory
        self.window.Unlock_all()
        self.window.Free()


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
