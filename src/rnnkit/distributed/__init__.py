"""Data-parallel training over MPI: the same model as one process, on many.

``mpiexec -n N rnnkit train ...`` trains on N ranks (processes, on one host or
many): every rank builds the same model from the seed, takes its share of each
global batch (:func:`shard`), runs forward and BPTT on it, and the ranks exchange
their gradients as one fixed-size record per rank (:class:`Layout`), summed in rank
order (whole on every rank, or in pieces, each by one rank, and then shared), so
every rank applies the same update and holds the same weights.
:class:`Accumulate` is the same arithmetic in one process. Rank 0 alone prints and
writes; a failing rank ends the job (:func:`abort_on_error`).
"""

from rnnkit.distributed.group import Accumulate, MPIGroup
from rnnkit.distributed.launch import abort_on_error, launched_ranks, share_cores, world
from rnnkit.distributed.reduction import Layout, header
from rnnkit.distributed.sharding import shard, share_size

__all__ = [
    "Accumulate",
    "Layout",
    "MPIGroup",
    "abort_on_error",
    "header",
    "launched_ranks",
    "shard",
    "share_cores",
    "share_size",
    "world",
]
