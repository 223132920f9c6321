"""Starting a rank: how many ranks the launcher started, and BLAS threads per rank."""

from __future__ import annotations

import os

import pytest

from rnnkit.distributed import launched_ranks, share_cores

threadpoolctl = pytest.importorskip("threadpoolctl", reason="threadpoolctl is missing")


def test_the_launchers_variables_give_the_ranks() -> None:
    assert launched_ranks({"OMPI_COMM_WORLD_SIZE": "3"}) == 3
    assert launched_ranks({"PMI_SIZE": "x"}) == 1


@pytest.mark.parametrize("ranks_here", [1, 2, 64])
def test_ranks_on_a_host_share_its_cores(ranks_here: int) -> None:
    cores = len(os.sched_getaffinity(0))
    with threadpoolctl.threadpool_limits(limits=None):  # restored afterwards
        threads = share_cores(ranks_here)
        assert threads == max(1, cores // ranks_here)  # at least one, however many ranks
        blas = [i for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"]
        assert blas and all(i["num_threads"] == threads for i in blas)
