"""Starting a rank: how many ranks the launcher started, and BLAS threads per rank."""

from __future__ import annotations

import os
from types import SimpleNamespace

import pytest

from rnnkit.distributed import MPIGroup, launched_ranks, share_cores
from rnnkit.distributed.exchanges import apart, room
from rnnkit.distributed.reduction import Layout
from rnnkit.errors import ConfigError

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


class _OneRank:
    """Enough of a communicator for a group that never exchanges."""

    def Get_rank(self) -> int:
        return 0

    def Get_size(self) -> int:
        return 2


def test_the_exchange_is_chosen_by_name_and_a_wrong_one_is_one_clear_error(monkeypatch) -> None:
    assert MPIGroup(_OneRank(), exchange="gather").exchange == "gather"
    monkeypatch.setenv("RNNKIT_MPI_EXCHANGE", "gather")
    assert MPIGroup(_OneRank()).exchange == "gather"  # the variable, when none is given
    monkeypatch.setenv("RNNKIT_MPI_EXCHANGE", "rdma")
    choices = r"EXCHANGE='rdma': choose one of auto, shared, gather, scatter$"
    with pytest.raises(ConfigError, match=choices):
        MPIGroup(_OneRank())  # the variable is named, as the user wrote it
    with pytest.raises(ConfigError, match=r"^exchange='both': choose one of"):
        MPIGroup(_OneRank(), exchange="both")
    assert MPIGroup(_OneRank(), exchange="scatter").exchange == "scatter"


@pytest.mark.parametrize(("ranks", "way"), [(2, "gather"), (3, "scatter"), (64, "scatter")])
def test_ranks_that_share_no_memory_gather_two_and_scatter_more(ranks: int, way: str) -> None:
    # scattering moves 2 (N - 1) / N blocks through a rank, gathering N - 1
    assert apart(ranks) == way


def test_a_shared_window_is_used_only_where_the_hosts_shared_memory_hasroom(
    monkeypatch, tmp_path
) -> None:
    layout = Layout(((1000,),), ("<f4",), (-1,))  # a record of 4,056 bytes
    assert room(layout, 2, str(tmp_path / "absent"))  # cannot be told: try the window
    free = {"blocks": 10**6}
    monkeypatch.setattr(
        os, "statvfs", lambda _: SimpleNamespace(f_bavail=free["blocks"], f_frsize=1)
    )
    assert room(layout, 2)  # 1 MB free against 2 x 2 ranks x 2 records x 4 kB
    free["blocks"] = 2 * 2 * 2 * layout.nbytes - 1
    assert not room(layout, 2)  # room for them, not twice over: gather instead
