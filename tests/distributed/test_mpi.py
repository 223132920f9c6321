"""``mpiexec -n 2``: the ranks agree bit for bit, equal one process accumulating the
same shares, and abort together.

Each test starts mpiexec in a subprocess with a timeout (a hang fails, it never
blocks the suite); all skip, saying why, without mpi4py or mpiexec (the ``mpi``
extra). Threads: one per rank, and one in this process, so BLAS sums alike.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from data_parallel import GROUP_SEED, tagger
from rnnkit.distributed import Accumulate

pytest.importorskip("mpi4py", reason="mpi4py is missing: pip install 'rnnkit[mpi]'")
threadpoolctl = pytest.importorskip("threadpoolctl", reason="threadpoolctl is missing")

HELPER = Path(__file__).parents[1] / "data_parallel.py"
#: seconds one mpiexec run may take on a loaded machine before the test fails
TIMEOUT = 120


def _mpiexec() -> str:
    """The mpiexec next to this Python (the venv's MPICH wheel), else on PATH."""
    beside = Path(sys.prefix) / "bin" / "mpiexec"
    found = str(beside) if beside.is_file() else shutil.which("mpiexec")
    if found is None:
        pytest.skip("mpiexec is missing: pip install 'rnnkit[mpi]'")
    return found


def _run(
    *argv: str | Path,
    cwd: Path | None = None,
    threads: bool = True,
    exchange: str = "auto",
    ranks: int = 2,
) -> subprocess.CompletedProcess[str]:
    """``mpiexec -n RANKS python ARGV``, one BLAS thread per rank (`threads` False: the
    thread variables unset, as a user's shell has them), the records exchanged as
    `exchange` says (``RNNKIT_MPI_EXCHANGE``)."""
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    env["RNNKIT_MPI_EXCHANGE"] = exchange
    if not threads:
        env = {k: v for k, v in env.items() if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")}
    env["PYTHONPATH"] = os.pathsep.join(
        [str(Path(__file__).parents[2] / "src"), env.get("PYTHONPATH", "")]
    )
    command = [_mpiexec(), "-n", str(ranks), sys.executable, *map(str, argv)]
    return subprocess.run(
        command, capture_output=True, text=True, timeout=TIMEOUT, env=env, cwd=cwd, check=False
    )


def _load(path: Path) -> list[np.ndarray]:
    with np.load(path) as f:
        return [f[f"arr_{i}"] for i in range(len(f.files))]


@pytest.mark.parametrize(
    ("exchange", "ranks"), [("shared", 2), ("gather", 2), ("scatter", 2), ("scatter", 3)]
)
def test_ranks_hold_the_weights_of_one_process_accumulating_their_shares(
    tmp_path: Path, exchange: str, ranks: int
) -> None:
    # every way of seeing the other ranks' records: this host's shared memory,
    # Allgather, and the dense gradients summed in pieces (three ranks: three pieces,
    # shares of 3, 2 and 2 sentences)
    done = _run(HELPER, "train", tmp_path, exchange=exchange, ranks=ranks)
    assert done.returncode == 0, done.stderr
    weights = [_load(tmp_path / f"rank{r}.npz") for r in range(ranks)]
    with threadpoolctl.threadpool_limits(1):
        accumulated = tagger(Accumulate(ranks, seed=GROUP_SEED)).model_.get_weights()
    for j, expected in enumerate(accumulated):
        for rank in weights:
            np.testing.assert_array_equal(rank[j], weights[0][j])  # every rank: the same bits
            np.testing.assert_array_equal(rank[j], expected)  # the same sums, the same order


def test_a_rank_that_raises_ends_the_job_with_one_clear_line(tmp_path: Path) -> None:
    done = _run(HELPER, "fail", tmp_path)
    assert done.returncode != 0
    assert "error: rank 1 of 2 failed: RuntimeError: a bug in the third batch" in done.stderr
    assert "Traceback" not in done.stderr
    assert not list(tmp_path.iterdir())  # no rank got as far as writing


def test_a_rank_killed_mid_epoch_ends_the_job(tmp_path: Path) -> None:
    done = _run(HELPER, "die", tmp_path)  # the others wait in a collective: mpiexec ends them
    assert done.returncode != 0
    assert not list(tmp_path.iterdir())


def test_carried_rows_gather_in_rank_order_and_split_back(tmp_path: Path) -> None:
    done = _run(HELPER, "rows", tmp_path)
    assert done.returncode == 0, done.stderr
    for r in range(2):
        with np.load(tmp_path / f"rows{r}.npz") as f:
            assert f["whole"][:, 0].tolist() == [0, 0, 1, 1, 1]  # rank 0's 2 rows, rank 1's 3
            # split back by the sharding rule: 3 and 2 rows (the first share the longer)
            assert f["back"].shape == ((3, 3) if r == 0 else (2, 3))


def test_each_rank_takes_its_share_of_the_cores(tmp_path: Path) -> None:
    done = _run(HELPER, "threads", tmp_path, threads=False)
    assert done.returncode == 0, done.stderr
    each = max(1, len(os.sched_getaffinity(0)) // 2)  # two ranks on this host
    for r in range(2):
        assert (tmp_path / f"threads{r}.txt").read_text().split() == [f"[{each}]"]
