"""How the ranks of a group see each other's records: the ways of EXCHANGES.

- "shared": every rank on one host. The records lie in one block of memory the ranks
  share (an MPI shared-memory window): each rank writes its own and, after a
  barrier, reads the others' where they lie, with no copy; two records per rank,
  used in turn, so a rank can write the next step's while another still reads this
  one's.
- "gather": every record copied to every rank by one collective (``Allgather``);
  what "auto" does for two ranks on two hosts, each taking in the other's.
- "scatter": every rank gathers the others' headers and embedding rows; the dense
  gradients, the bulk, are summed in pieces: rank k takes the k-th piece of every
  rank's block (``Alltoallv``), sums them in rank order and hands its sum to every
  rank (``Allgatherv``). A rank takes in 2 (N - 1) / N blocks, where gathering takes
  N - 1; "auto" does this for more ranks on several hosts.

Each way takes a fixed number of collectives a step, whatever the number of
parameters, and gives the same bits: every piece of every record is summed once, in
rank order, whoever sums it (:meth:`~rnnkit.distributed.Layout.sum_into`,
:func:`~rnnkit.distributed.reduction.sum_piece`).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from rnnkit.distributed.reduction import Layout, sum_piece
from rnnkit.errors import ConfigError

__all__ = [
    "EXCHANGES",
    "SCATTER_FROM",
    "Gathered",
    "Records",
    "Scattered",
    "Shared",
    "apart",
    "choose",
    "on_every_rank",
    "room",
]

Array = np.ndarray
#: how the ranks see each other's records: "shared" memory (every rank on one host),
#: "gather" (a collective copy, any hosts), "scatter" (the dense gradients summed in
#: pieces, any hosts), "auto" (shared where it can be, else gather for 2 ranks and
#: scatter for more)
EXCHANGES = ("auto", "shared", "gather", "scatter")
#: from this many ranks "auto" sums in pieces where it cannot share memory: scattering
#: moves 2 (N - 1) / N blocks a rank, gathering N - 1, the same at 2 ranks (where
#: gathering takes one collective, not three)
SCATTER_FROM = 3


def choose(comm: Any, name: str) -> str:
    """The way to see the records for `name` of EXCHANGES ("auto": shared when every
    rank of `comm` is on this host, else as :func:`apart` says). Every rank decides
    alike."""
    if name in ("gather", "scatter"):
        return name
    from mpi4py import MPI

    host = comm.Split_type(MPI.COMM_TYPE_SHARED)  # the ranks on this one's host
    one_host = on_every_rank(comm, host.Get_size() == comm.Get_size())
    host.Free()
    if name == "shared" and not one_host:
        raise ConfigError("exchange 'shared' needs every rank on one host: use 'auto'")
    return "shared" if one_host else apart(int(comm.Get_size()))


def apart(ranks: int) -> str:
    """The exchange of `ranks` ranks that share no memory: gather for two, scatter
    for more (SCATTER_FROM)."""
    return "scatter" if ranks >= SCATTER_FROM else "gather"


def on_every_rank(comm: Any, flag: bool) -> bool:
    """Whether `flag` holds on every rank of `comm` (the same answer on each)."""
    from mpi4py import MPI

    out = np.zeros(1, np.int64)
    comm.Allreduce(np.array([int(flag)], np.int64), out, op=MPI.MIN)
    return bool(out[0])


def room(layout: Layout, ranks: int, shm: str = "/dev/shm") -> bool:
    """Whether this host's shared memory (`shm`, where MPICH puts its windows) has
    room, twice over, for the two records of each of `ranks` ranks; True where it
    cannot be told. A window larger than the room left fails only once written, with
    SIGBUS, so it is never tried."""
    try:
        st = os.statvfs(shm)
    except OSError:
        return True
    return st.f_bavail * st.f_frsize >= 2 * (2 * layout.nbytes * ranks)


class Records:
    """How the ranks see each other's records, one way of EXCHANGES: ``exchange``
    gives every rank's record (views, in rank order); then ``summed`` gives their
    blocks' sum when the exchange made it (else None: ``sum_into`` adds the blocks)."""

    def exchange(self, layout: Layout, head: Array, grads: list[tuple[Array, Array | None]]):
        raise NotImplementedError

    def summed(self, headers: Array) -> Array | None:
        return None

    def free(self) -> None:
        """Hand back what the records held (a collective where they were shared)."""


class Gathered(Records):
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


class Scattered(Records):
    """Every rank's header, ids and rows gathered to every rank (``Allgatherv``, in
    place), the blocks summed in pieces: this rank takes its piece of every rank's
    block (``Alltoallv``), sums them in rank order and every rank gathers the summed
    pieces (``Allgatherv``). For a layout with a block (``Layout.block_pieces``); one
    without (slots held whole in several dtypes) is gathered."""

    def __init__(self, comm: Any, layout: Layout) -> None:
        from mpi4py import MPI

        self.comm, self.rank, n = comm, int(comm.Get_rank()), int(comm.Get_size())
        self.received = np.zeros((n, layout.nbytes), np.uint8)  # by rank; own row packed
        self.everyone = [layout.views(rec) for rec in self.received]
        own = self.everyone[self.rank].block
        assert own is not None, "a layout with no block is gathered"
        pieces = layout.block_pieces(n)  # (first entry, entries) per rank
        first, size = pieces[self.rank]
        self.mine = np.zeros((n, size), own.dtype)  # this rank's piece of every block
        self.tmp = np.zeros(size, own.dtype)
        self.block = np.zeros(own.size, own.dtype)  # the summed pieces, every rank's
        self.piece = self.block[first : first + size]  # this rank's sum
        # the messages, as bytes (counts, then offsets): every rank's prefix into its
        # row of `received`; the pieces of a block; this rank's piece from every rank
        byte, item = MPI.BYTE, own.itemsize
        rows = [[layout.prefix] * n, [r * layout.nbytes for r in range(n)]]
        cut = [[k * item for _, k in pieces], [a * item for a, _ in pieces]]
        from_each = [[size * item] * n, [r * size * item for r in range(n)]]
        self.prefixes = [self.received, *rows, byte]
        self.out, self.into = [own, *cut, byte], [self.mine, *from_each, byte]
        self.gather = [self.block, *cut, byte]
        self.in_place = MPI.IN_PLACE

    def exchange(self, layout: Layout, head: Array, grads: list[tuple[Array, Array | None]]):
        """Pack this rank's record; every rank's header and rows, and this rank's piece
        of every block: the records' views, in rank order (the blocks unread)."""
        layout.pack(self.everyone[self.rank], head, grads)
        self.comm.Allgatherv(self.in_place, self.prefixes)
        self.comm.Alltoallv(self.out, self.into)
        return self.everyone

    def summed(self, headers: Array) -> Array:
        """The blocks summed: this rank's piece summed in rank order, then every
        rank's piece gathered."""
        sum_piece(list(self.mine), headers, self.piece, self.tmp)
        self.comm.Allgatherv(self.in_place, self.gather)
        return self.block


class Shared(Records):
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
