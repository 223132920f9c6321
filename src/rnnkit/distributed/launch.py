"""Starting under ``mpiexec``: the world group, threads per rank, one line on failure.

:func:`world` is None in a plain process, so nothing MPI is imported or started
there; under ``mpiexec -n N`` (N > 1) it is the :class:`MPIGroup` of every rank.
mpi4py (with MPICH's wheels) comes with ``pip install 'rnnkit[mpi]'``.

A rank that raises must not leave the others waiting in a collective for ever:
:func:`abort_on_error` prints one line and calls ``MPI_Abort``, which ends every
rank of the job with a non-zero exit code. The checkpoint on disk is whole (each
file is written to a temporary name and renamed), so ``--resume`` continues.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

from rnnkit.distributed.group import MPIGroup
from rnnkit.errors import ConfigError, RnnkitError

__all__ = ["abort_on_error", "launched_ranks", "share_cores", "world"]

#: what launchers set in each rank's environment: the number of ranks
SIZE_VARIABLES = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "PMIX_SIZE")
#: seconds a rank other than 0 waits before aborting on a user's mistake, so that the
#: same mistake found by rank 0 ends the job with rank 0's line alone
QUIET_GRACE = 1.0
#: seconds between a failing rank's line and MPI_Abort: the launcher forwards each
#: rank's stderr on its own, and an abort at once can end the job before the line
#: gets through (a run under load once ended with an empty stderr)
FORWARD_GRACE = 0.2


def launched_ranks(environ: dict[str, str] | None = None) -> int:
    """How many ranks the launcher started (1 outside mpiexec).

    >>> launched_ranks({"PMI_SIZE": "4"}), launched_ranks({})
    (4, 1)
    """
    env = os.environ if environ is None else environ
    for name in SIZE_VARIABLES:
        value = env.get(name, "")
        if value.isdigit():
            return int(value)
    return 1


def world(seed: int = 0) -> MPIGroup | None:
    """The group of every rank under ``mpiexec -n N`` with N > 1, else None; `seed`
    seeds the ranks' dropout with the step (see :class:`MPIGroup`).

    BLAS threads per rank default to the host's cores over its ranks, unless
    ``OPENBLAS_NUM_THREADS`` (or ``OMP_NUM_THREADS``) says otherwise.
    """
    if launched_ranks() < 2:
        return None
    try:
        from mpi4py import MPI
    except ImportError:
        raise ConfigError(
            f"started by mpiexec with {launched_ranks()} ranks, but mpi4py is missing: "
            "pip install 'rnnkit[mpi]'"
        ) from None
    comm = MPI.COMM_WORLD
    if comm.Get_size() < 2:
        return None
    if not any(os.environ.get(v) for v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")):
        host = comm.Split_type(MPI.COMM_TYPE_SHARED)  # the ranks sharing this host
        share_cores(host.Get_size())
        host.Free()
    try:
        return MPIGroup(comm, seed)
    except RnnkitError:  # a wrong RNNKIT_MPI_EXCHANGE, found alike on every rank:
        if comm.Get_rank() != 0:  # rank 0 says it, as one process would; the others
            time.sleep(QUIET_GRACE)  # leave without a word (mpiexec may end them first)
            os._exit(2)
        raise


def share_cores(ranks_here: int) -> int:
    """Limit BLAS to this host's cores over its `ranks_here` ranks (at least 1 thread);
    the threads each rank now has."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    threads = max(1, (cores or 1) // max(ranks_here, 1))
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - in the mpi extra
        return threads
    threadpool_limits(limits=threads)  # for the process's life: nothing restores it
    return threads


@contextmanager
def abort_on_error(group: MPIGroup | None) -> Iterator[None]:
    """Run a rank's work; on an exception print one line and abort the whole job.

    A user's mistake (:class:`~rnnkit.errors.RnnkitError`) ends it with exit code 2
    and ``error: <message>``; anything else with 1 and the rank that failed. In a
    plain process (`group` None) the exception goes on as usual.
    """
    if group is None:
        yield
        return
    try:
        yield
    except BaseException as exc:
        code = 2 if isinstance(exc, RnnkitError) else 1
        if code == 2:
            if group.rank != 0:  # the same mistake on rank 0 says it once
                time.sleep(QUIET_GRACE)
            line = f"error: {exc}"
        else:
            line = f"error: rank {group.rank} of {group.size} failed: {type(exc).__name__}: {exc}"
        print(line, file=sys.stderr, flush=True)
        time.sleep(FORWARD_GRACE)
        group.comm.Abort(code)
        # NOTE: MPICH's MPI_Abort may return once it has told the launcher; leave at
        # once, so no traceback follows the line and nothing else runs
        os._exit(code)
