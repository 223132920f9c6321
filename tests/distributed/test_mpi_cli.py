"""``mpiexec -n 2 rnnkit train``: rank 0 alone prints and writes; --resume continues.

Each run is a subprocess with a timeout; all skip, saying why, without mpi4py or
mpiexec (the ``mpi`` extra).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rnnkit.io import read_config

pytest.importorskip("mpi4py", reason="mpi4py is missing: pip install 'rnnkit[mpi]'")

#: seconds one mpiexec run may take on a loaded machine before the test fails
TIMEOUT = 120
SRC = Path(__file__).parents[2] / "src"


def _run(
    *argv: str | Path, cwd: Path | None = None, **environ: str
) -> subprocess.CompletedProcess[str]:
    """``mpiexec -n 2 rnnkit ARGV`` (the mpiexec beside this Python, else on PATH),
    with `environ` added to the environment."""
    beside = Path(sys.prefix) / "bin" / "mpiexec"
    mpiexec = str(beside) if beside.is_file() else shutil.which("mpiexec")
    if mpiexec is None:
        pytest.skip("mpiexec is missing: pip install 'rnnkit[mpi]'")
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    env["PYTHONPATH"] = os.pathsep.join([str(SRC), env.get("PYTHONPATH", "")])
    env.update(environ)
    command = [mpiexec, "-n", "2", sys.executable, "-m", "rnnkit.cli.main", *map(str, argv)]
    return subprocess.run(
        command, capture_output=True, text=True, timeout=TIMEOUT, env=env, cwd=cwd, check=False
    )


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
    return _run(*TRAIN, "--data", data, "--out", out, *flags)


def test_rank_0_alone_prints_and_writes(tmp_path: Path) -> None:
    data = _conllu(tmp_path / "train.conllu")
    work = tmp_path / "work"
    work.mkdir()
    done = _run(*TRAIN, "--data", data, "--out", "m", cwd=work)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in work.iterdir()) == ["m"]  # nothing beside the model
    assert done.stdout.count("model saved to m") == 1
    assert done.stdout.count("epoch   1/") == 1
    # one line says how the job runs: two ranks on this host, one BLAS thread each
    line = "data parallel on 2 ranks, gradients summed in memory the ranks share, "
    line += "1 BLAS thread each"
    assert done.stdout.count(line) == 1
    assert read_config(work / "m")["task"] == "tag"


def test_a_wrong_exchange_is_one_line_from_rank_0_and_exit_code_2(tmp_path: Path) -> None:
    data = _conllu(tmp_path / "train.conllu")
    done = _run(*TRAIN, "--data", data, "--out", tmp_path / "m", RNNKIT_MPI_EXCHANGE="rdma")
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert lines == [
        "error: RNNKIT_MPI_EXCHANGE='rdma': choose one of auto, shared, gather, scatter"
    ]
    assert not (tmp_path / "m").exists()


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


@pytest.mark.slow
def test_a_language_model_trains_and_resumes_under_mpi(tmp_path: Path) -> None:
    text = tmp_path / "input.txt"
    text.write_text("the cat sat on the mat. " * 80, encoding="utf-8")
    lm = ("train", "--task", "lm", "--data", text, "--hidden", "8", "--embed", "8")
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    assert _run(*lm, "--out", straight, "--epochs", "2").returncode == 0
    first = _run(*lm, "--out", resumed, "--epochs", "1", "--keep-checkpoint")
    assert first.returncode == 0, first.stderr
    done = _run(*lm, "--out", resumed, "--epochs", "2", "--resume")
    assert done.returncode == 0, done.stderr
    a = (straight / "weights.safetensors").read_bytes()
    assert a == (resumed / "weights.safetensors").read_bytes()
