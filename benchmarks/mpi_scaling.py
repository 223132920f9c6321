"""Data-parallel training speed: tokens per second on 1 and N ranks, side by side.

    python benchmarks/mpi_scaling.py [--config tiny sentiment tagger char-lm medium]
        [--cell rnn] [--ranks 2] [--seconds 1.0] [--rounds 5] [--share-batch]

For each configuration of ``rnnkit bench`` (the same model: embedding, one recurrent
layer, Dense; the same global batch) it times training steps (forward, BPTT, the
gradients summed over the ranks, an SGD update) three ways, interleaved round by
round so a busy machine slows them alike:

- ``1p x 1t``: one process, one BLAS thread;
- ``1p x Nt``: one process, N BLAS threads;
- ``mpi N x 1t``: ``mpiexec -n N``, one thread per rank, each rank a share of the batch;
- ``N apart``: N plain one-thread processes at once, each training one share alone,
  nothing exchanged or summed: their tokens per second together are what the machine
  gives N ranks with no exchange, sum or duplicated update, the ceiling of ``mpi``.

The ranks see each other's records as ``rnnkit.distributed.MPIGroup`` chooses (one
host: a shared-memory window); ``RNNKIT_MPI_EXCHANGE=gather`` or ``scatter`` times
the collectives that ranks on several hosts use instead.

The global batch is the configuration's, so each of N ranks trains 1/N of it. With
``--share-batch`` each rank's share is the configuration's batch instead, and all
three ways train the N times larger global batch (the convention of PyTorch's DDP and
Horovod, where the batch size is per worker): the same work per step for all three,
only more of it in each rank.

Each measurement runs in a fresh process (``--worker``, OPENBLAS_NUM_THREADS set),
warms up for WARMUP steps (buffers allocated, pages touched, threads started, the
ranks' message layout agreed), then times as many steps as fill `--seconds` at the pace
of the last PACE warm-up steps (rank 0 decides, so every rank runs as many). It prints
each way's median tokens per second (global tokens: the whole batch) and the medians
of the rounds' ratios of the MPI run to the two single processes: a round's three runs
follow each other, so their ratio is less shaken by load that comes and goes than a
ratio of medians.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shlex
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from rnnkit.bench.configs import CONFIGS, find_config
from rnnkit.bench.rnnkit_side import build_model, make_batch
from rnnkit.training import SequenceDataset

#: untimed steps before the timed ones, and the last of them whose median sets the pace:
#: the first steps of a process pay for its buffers, pages and threads (with 3 steps
#: and their mean, a two-thread tagger run planned 43 steps for 2 s and lasted 0.2)
WARMUP = 8
PACE = 4
#: the configurations timed unless --config says otherwise: every one but large
DEFAULT = [c.name for c in CONFIGS if c.name != "large"]


def _mpiexec() -> str:
    """The mpiexec beside this Python (the mpich wheel), else the one on PATH."""
    beside = Path(sys.prefix) / "bin" / "mpiexec"
    return str(beside) if beside.is_file() else "mpiexec"


def worker(config: str, cell: str, seconds: float, batch: int) -> None:
    """Time about `seconds` of training steps after WARMUP; rank 0 prints tokens/s."""
    cfg = find_config(config)
    cfg = replace(cfg, batch=batch or cfg.batch)  # the global batch
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

    warm = []
    for i in range(WARMUP):
        start = time.perf_counter()
        step(i)
        warm.append(time.perf_counter() - start)
    pace = statistics.median(warm[-PACE:])  # the first steps pay for starting up
    steps = np.array([max(WARMUP, math.ceil(seconds / pace))], np.int64)
    if group is not None:  # rank 0's count, so every rank meets as often
        group.comm.Bcast(steps, root=0)
        group.comm.Barrier()
    start = time.perf_counter()
    for i in range(int(steps[0])):
        step(WARMUP + i)
    elapsed = time.perf_counter() - start
    if group is None or group.rank == 0:
        tokens = int(steps[0]) * cfg.tokens
        print(json.dumps({"tokens_per_s": tokens / elapsed, "steps": int(steps[0])}))


def _measure(way: str, ranks: int, config: str, cell: str, seconds: float, batch: int) -> dict:
    """Tokens per second (and steps timed) of one way, in a fresh process or job."""
    threads = ranks if way == "threads" else 1
    env = {**os.environ, "OPENBLAS_NUM_THREADS": str(threads), "OMP_NUM_THREADS": str(threads)}
    if way == "apart":  # N processes at once, each one share of the global batch
        share = batch or find_config(config).batch  # cut as the ranks cut it
        rows = [len(part) for part in np.array_split(np.arange(share), ranks)]
        jobs = [
            subprocess.Popen(
                [sys.executable, __file__, "--worker", config, cell, str(seconds), str(n)],
                stdout=subprocess.PIPE,
                text=True,
                env=env,
            )
            for n in rows
        ]
        outs = [json.loads(job.communicate()[0].strip().splitlines()[-1]) for job in jobs]
        if any(job.returncode for job in jobs):
            raise RuntimeError(f"a worker of {config} failed")
        total = sum(o["tokens_per_s"] for o in outs)
        return {"tokens_per_s": total, "steps": min(o["steps"] for o in outs)}
    command = [sys.executable, __file__, "--worker", config, cell, str(seconds), str(batch)]
    if way == "mpi":
        command = [_mpiexec(), "-n", str(ranks), *command]
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str]) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--config", nargs="+", default=DEFAULT)
    p.add_argument("--cell", default="rnn")
    p.add_argument("--ranks", type=int, default=2)
    p.add_argument("--seconds", type=float, default=1.0, help="timed seconds per measurement")
    p.add_argument("--rounds", type=int, default=5, help="interleaved rounds (median)")
    p.add_argument(
        "--share-batch",
        action="store_true",
        help="each rank's share is the configuration's batch (global: N times it)",
    )
    p.add_argument("--worker", nargs=4, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        config, cell, seconds, batch = args.worker
        worker(config, cell, float(seconds), int(batch))
        return
    n = args.ranks
    ways = {
        "single": "1p x 1t",
        "threads": f"1p x {n}t",
        "mpi": f"mpi {n} x 1t",
        "apart": f"{n} apart",
    }
    print("command: python benchmarks/mpi_scaling.py " + shlex.join(argv), flush=True)
    print(f"cores: {os.cpu_count()}; cell {args.cell}; tokens per second, median of "
          f"{args.rounds} interleaved rounds of about {args.seconds:g} s each; ratios: "
          "median of the rounds' ratios\n")  # fmt: skip
    head = f"{'config':<10}{'steps':>7}" + "".join(f"{w:>14}" for w in ways.values())
    print(
        head + f"{'mpi / 1p x 1t':>15}{f'mpi / 1p x {n}t':>15}{'apart / 1p x 1t':>17}"
        f"{'mpi / apart':>13}",
        flush=True,
    )
    for config in args.config:
        batch = n * find_config(config).batch if args.share_batch else 0  # 0: the config's
        seen: dict[str, list[dict]] = {w: [] for w in ways}
        for _ in range(args.rounds):
            for way in ways:
                seen[way].append(_measure(way, n, config, args.cell, args.seconds, batch))
        speed = {w: [r["tokens_per_s"] for r in v] for w, v in seen.items()}
        med = {w: statistics.median(v) for w, v in speed.items()}
        pairs = [("mpi", "single"), ("mpi", "threads"), ("apart", "single"), ("mpi", "apart")]
        ratios = [
            statistics.median(a / b for a, b in zip(speed[x], speed[y], strict=True))
            for x, y in pairs
        ]
        steps = statistics.median(r["steps"] for r in seen["mpi"])
        row = f"{config:<10}{steps:>7.0f}" + "".join(f"{med[w]:>14,.0f}" for w in ways)
        widths = (14, 14, 16, 12)
        print(
            row + "".join(f"{r:>{w}.2f}x" for r, w in zip(ratios, widths, strict=True)), flush=True
        )


if __name__ == "__main__":
    main(sys.argv[1:])
