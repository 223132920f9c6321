"""``mpiexec -n 2``: the ranks agree bit for bit, equal one process accumulating the
same shares, abort together, and leave the writing to rank 0.

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
from rnnkit.io import read_config

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


def _run(*argv: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    env["PYTHONPATH"] = os.pathsep.join(
        [str(Path(__file__).parents[2] / "src"), env.get("PYTHONPATH", "")]
    )
    command = [_mpiexec(), "-n", "2", sys.executable, *map(str, argv)]
    return subprocess.run(
        command, capture_output=True, text=True, timeout=TIMEOUT, env=env, cwd=cwd, check=False
    )


def _load(path: Path) -> list[np.ndarray]:
    with np.load(path) as f:
        return [f[f"arr_{i}"] for i in range(len(f.files))]


def test_ranks_hold_the_weights_of_one_process_accumulating_their_shares(tmp_path: Path) -> None:
    done = _run(HELPER, "train", tmp_path)
    assert done.returncode == 0, done.stderr
    rank0, rank1 = _load(tmp_path / "rank0.npz"), _load(tmp_path / "rank1.npz")
    with threadpoolctl.threadpool_limits(1):
        accumulated = tagger(Accumulate(2, seed=GROUP_SEED)).model_.get_weights()
    for a, b, c in zip(rank0, rank1, accumulated, strict=True):
        np.testing.assert_array_equal(a, b)  # every rank: the same bits
        np.testing.assert_array_equal(a, c)  # the same sums in the same order


def test_a_rank_that_raises_ends_the_job_with_one_clear_line(tmp_path: Path) -> None:
    done = _run(HELPER, "fail", tmp_path)
    assert done.returncode != 0
    assert "error: rank 1 of 2 failed: RuntimeError: a bug in the third batch" in done.stderr
    assert "Traceback" not in done.stderr
    assert not list(tmp_path.iterdir())  # no rank got as far as writing


def _conllu(path: Path, n: int = 60) -> Path:
    rng = np.random.default_rng(0)
    lines = []
    for _ in range(n):
        for i, w in enumerate(rng.integers(0, 30, size=rng.integers(2, 9)), 1):
            lines.append(f"{i}\tw{w}\t_\t{'NOUN' if w % 2 else 'VERB'}\t_\t_\t_\t_\t_\t_")
        lines.append("")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


TRAIN = ("train", "--task", "tag", "--hidden", "8", "--embed", "8", "--batch-size", "7")


def _train(data: Path, out: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    return _run("-m", "rnnkit.cli.main", *TRAIN, "--data", data, "--out", out, *flags)


def test_rank_0_alone_prints_and_writes(tmp_path: Path) -> None:
    data = _conllu(tmp_path / "train.conllu")
    work = tmp_path / "work"
    work.mkdir()
    done = _run("-m", "rnnkit.cli.main", *TRAIN, "--data", data, "--out", "m", cwd=work)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in work.iterdir()) == ["m"]  # nothing beside the model
    assert done.stdout.count("model saved to m") == 1
    assert done.stdout.count("epoch   1/") == 1
    assert read_config(work / "m")["task"] == "tag"


@pytest.mark.slow
def test_resume_under_mpi_trains_on_to_the_same_weights(tmp_path: Path) -> None:
    data = _conllu(tmp_path / "train.conllu")
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    assert _train(data, straight, "--epochs", "2").returncode == 0
    first = _train(data, resumed, "--epochs", "1", "--keep-checkpoint")
    assert first.returncode == 0, first.stderr
    done = _train(data, resumed, "--epochs", "2", "--resume")
    assert done.returncode == 0, done.stderr
    assert "resuming at step" in done.stdout
    a = (straight / "weights.safetensors").read_bytes()
    assert a == (resumed / "weights.safetensors").read_bytes()
