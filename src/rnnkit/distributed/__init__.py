"""Data-parallel training over MPI: the same model as one process, on many.

``mpiexec -n N rnnkit train ...`` trains on N ranks (processes, on one host or
many): every rank builds the same model from the seed, takes its share of each
global batch (:func:`shard`), runs forward and BPTT on it, and the gradients are
summed in rank order (:func:`combine`), so every rank applies the same update and
holds the same weights. :class:`Accumulate` is the same arithmetic in one process.
Rank 0 alone prints and writes; a failing rank ends the job (:func:`abort_on_error`).
"""

from rnnkit.distributed.group import Accumulate, MPIGroup
from rnnkit.distributed.launch import abort_on_error, launched_ranks, world
from rnnkit.distributed.reduction import combine, pack
from rnnkit.distributed.sharding import shard, share_size

__all__ = [
    "Accumulate",
    "MPIGroup",
    "abort_on_error",
    "combine",
    "launched_ranks",
    "pack",
    "shard",
    "share_size",
    "world",
]
