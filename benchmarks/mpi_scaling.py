"""Data-parallel training speed: tokens per second on 1 and N ranks, side by side.

    python benchmarks/mpi_scaling.py [--config tagger medium] [--cell rnn] [--ranks 2]
        [--steps 4] [--rounds 3]

For each configuration of ``rnnkit bench`` (the same model: embedding, one recurrent
layer, Dense; the same global batch) it times training steps (forward, BPTT, the
gradients summed over the ranks, an SGD update) three ways, interleaved round by
round so a busy machine slows them alike:

- ``1p x 1t``: one process, one BLAS thread;
- ``1p x Nt``: one process, N BLAS threads;
- ``mpi N x 1t``: ``mpiexec -n N``, one thread per rank, each rank a share of the batch.

It prints each way's median tokens per second (global tokens: the whole batch) and
the ratios of the MPI run to the two single processes. Each way runs in a fresh
process (``--worker``), started by this script, with OPENBLAS_NUM_THREADS set.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from rnnkit.bench.configs import find_config
from rnnkit.bench.rnnkit_side import build_model, make_batch
from rnnkit.training import SequenceDataset


def _mpiexec() -> str:
    """The mpiexec beside this Python (the mpich wheel), else the one on PATH."""
    beside = Path(sys.prefix) / "bin" / "mpiexec"
    return str(beside) if beside.is_file() else "mpiexec"


def worker(config: str, cell: str, steps: int) -> None:
    """Time `steps` training steps (after one warm-up); rank 0 prints tokens per second."""
    cfg = find_config(config)
    model = build_model(cfg, cell)
    batch = make_batch(cfg)
    data = SequenceDataset(batch.x, batch.y, per_step=cfg.many_to_many)
    index = np.arange(cfg.batch)
    group = None
    if os.environ.get("PMI_SIZE", "1") != "1":
        from mpi4py import MPI

        from rnnkit.distributed import MPIGroup

        group = MPIGroup(MPI.COMM_WORLD)
    assert model.optimizer is not None

    def step(i: int) -> None:
        if group is None:
            model.zero_grad()
            model.train_batch(data.batch(index))
            slots = model.param_slots()
        else:
            _, _, slots = group.train_step(model, data, index, i)
        model.optimizer.step(slots)

    step(0)  # warm-up: buffers allocated, pages touched
    if group is not None:
        group.comm.Barrier()
    start = time.perf_counter()
    for i in range(steps):
        step(i + 1)
    seconds = time.perf_counter() - start
    if group is None or group.rank == 0:
        print(json.dumps({"tokens_per_s": steps * cfg.tokens / seconds}))


def _measure(way: str, ranks: int, config: str, cell: str, steps: int) -> float:
    """Tokens per second of one way, in a fresh process (or mpiexec job)."""
    threads = ranks if way == "threads" else 1
    env = {**os.environ, "OPENBLAS_NUM_THREADS": str(threads), "OMP_NUM_THREADS": str(threads)}
    command = [sys.executable, __file__, "--worker", config, cell, str(steps)]
    if way == "mpi":
        command = [_mpiexec(), "-n", str(ranks), *command]
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
    return float(json.loads(done.stdout.strip().splitlines()[-1])["tokens_per_s"])


def main(argv: list[str]) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--config", nargs="+", default=["tagger", "medium"])
    p.add_argument("--cell", default="rnn")
    p.add_argument("--ranks", type=int, default=2)
    p.add_argument("--steps", type=int, default=4, help="timed steps per measurement")
    p.add_argument("--rounds", type=int, default=3, help="interleaved rounds (median)")
    p.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        config, cell, steps = args.worker
        worker(config, cell, int(steps))
        return
    n = args.ranks
    ways = {"single": "1p x 1t", "threads": f"1p x {n}t", "mpi": f"mpi {n} x 1t"}
    print("command: python benchmarks/mpi_scaling.py " + shlex.join(argv), flush=True)
    print(f"cores: {os.cpu_count()}; cell {args.cell}; tokens per second (median of "
          f"{args.rounds} interleaved rounds, {args.steps} steps each)\n")  # fmt: skip
    head = f"{'config':<10}" + "".join(f"{w:>14}" for w in ways.values())
    print(head + f"{'mpi / 1p x 1t':>15}{f'mpi / 1p x {n}t':>15}", flush=True)
    for config in args.config:
        seen: dict[str, list[float]] = {w: [] for w in ways}
        for _ in range(args.rounds):
            for way in ways:
                seen[way].append(_measure(way, n, config, args.cell, args.steps))
        med = {w: statistics.median(v) for w, v in seen.items()}
        row = f"{config:<10}" + "".join(f"{med[w]:>14,.0f}" for w in ways)
        row += f"{med['mpi'] / med['single']:>14.2f}x{med['mpi'] / med['threads']:>14.2f}x"
        print(row, flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
