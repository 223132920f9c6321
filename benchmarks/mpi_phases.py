"""Where a data-parallel step's time goes, rank by rank, beside processes that never talk.

    python benchmarks/mpi_phases.py [--config tagger sentiment] [--ranks 2] [--steps 300]

For each configuration of ``rnnkit bench`` (its tanh RNN model, the configuration's
batch cut into ``--ranks`` shares) it runs ``mpiexec -n N`` with one thread per rank
and times, per step and rank, the median of:

- ``share``: forward and BPTT on the rank's share (``MPIGroup._train_share``);
- ``record``: writing the rank's record (``Layout.pack``);
- ``exchange``: the record written and every rank's seen, the barrier's wait included;
- ``sum``: adding the records in rank order (``Layout.sum_into``);
- ``update``: the optimizer's step;
- ``step``: all of it.

Then N plain one-thread processes at once each train one share alone, nothing
exchanged ("apart"), and print their median step and the part of it that is the
update: what a rank's step would cost if the exchange, the sum and the update of the
other share's rows were free.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from rnnkit.bench.configs import find_config
from rnnkit.bench.rnnkit_side import build_model, make_batch
from rnnkit.training import SequenceDataset

#: untimed steps first (buffers, the ranks' record layout)
WARMUP = 20


def _timing(owner: Any, name: str, label: str, seen: dict[str, list[float]]) -> None:
    """Wrap `owner.name` so each call adds its seconds to seen[label]."""
    fn: Callable[..., Any] = getattr(owner, name)

    def timed(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        out = fn(*args, **kwargs)
        seen[label].append(time.perf_counter() - start)
        return out

    setattr(owner, name, timed)


def _medians_ms(seen: dict[str, list[float]]) -> dict[str, float]:
    return {k: round(1e3 * statistics.median(v), 3) for k, v in seen.items()}


def rank_worker(config: str, steps: int) -> None:
    """Under mpiexec: time the phases of `steps` steps; print this rank's medians."""
    from mpi4py import MPI

    from rnnkit.distributed import exchanges, group, reduction

    cfg = find_config(config)
    model = build_model(cfg, "rnn")
    batch = make_batch(cfg)
    data = SequenceDataset(batch.x, batch.y, per_step=cfg.many_to_many)
    index = np.arange(cfg.batch)
    ranks = group.MPIGroup(MPI.COMM_WORLD)
    seen: dict[str, list[float]] = defaultdict(list)
    _timing(group._Steps, "_train_share", "share", seen)
    _timing(reduction.Layout, "pack", "record", seen)
    for way in (exchanges.Shared, exchanges.Gathered, exchanges.Scattered):
        _timing(way, "exchange", "exchange", seen)
    _timing(reduction.Layout, "sum_into", "sum", seen)
    optimizer = model.optimizer
    assert optimizer is not None
    _timing(type(optimizer), "step", "update", seen)
    for i in range(WARMUP + steps):
        if i == WARMUP:
            seen.clear()
        start = time.perf_counter()
        _, _, slots = ranks.train_step(model, data, index, i)
        optimizer.step(slots)
        seen["step"].append(time.perf_counter() - start)
    print(json.dumps({"rank": ranks.rank, **_medians_ms(seen)}), flush=True)


def apart_worker(config: str, rows: int, steps: int) -> None:
    """One share trained alone: print the median step and update."""
    cfg = replace(find_config(config), batch=rows)
    model = build_model(cfg, "rnn")
    batch = make_batch(cfg)
    data = SequenceDataset(batch.x, batch.y, per_step=cfg.many_to_many)
    index = np.arange(rows)
    optimizer = model.optimizer
    assert optimizer is not None
    seen: dict[str, list[float]] = defaultdict(list)
    for i in range(WARMUP + steps):
        start = time.perf_counter()
        model.zero_grad()
        model.train_batch(data.batch(index))
        middle = time.perf_counter()
        optimizer.step(model.param_slots())
        if i >= WARMUP:
            seen["update"].append(time.perf_counter() - middle)
            seen["step"].append(time.perf_counter() - start)
    print(json.dumps(_medians_ms(seen)), flush=True)


def main(argv: list[str]) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--config", nargs="+", default=["tagger", "sentiment"])
    p.add_argument("--ranks", type=int, default=2)
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--rank-worker", nargs=2, help=argparse.SUPPRESS)
    p.add_argument("--apart-worker", nargs=3, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.rank_worker:
        rank_worker(args.rank_worker[0], int(args.rank_worker[1]))
        return
    if args.apart_worker:
        config, rows, steps = args.apart_worker
        apart_worker(config, int(rows), int(steps))
        return
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    beside = Path(sys.prefix) / "bin" / "mpiexec"
    mpiexec = str(beside) if beside.is_file() else "mpiexec"
    me = [sys.executable, __file__]
    for config in args.config:
        steps = str(args.steps)
        command = [mpiexec, "-n", str(args.ranks), *me, "--rank-worker", config, steps]
        done = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
        lines = [json.loads(line) for line in done.stdout.split("\n") if line.strip()]
        shares = np.array_split(np.arange(find_config(config).batch), args.ranks)
        jobs = [
            subprocess.Popen(
                [*me, "--apart-worker", config, str(len(s)), steps],
                stdout=subprocess.PIPE,
                text=True,
                env=env,
            )
            for s in shares
        ]
        apart = [json.loads(job.communicate()[0].strip()) for job in jobs]
        print(f"{config}: milliseconds per step, median of {args.steps} steps")
        for line in sorted(lines, key=lambda d: d["rank"]):
            rank = line.pop("rank")
            print(f"  rank {rank}: " + ", ".join(f"{k} {v:.3f}" for k, v in line.items()))
        for i, a in enumerate(apart):
            print(f"  apart {i}: " + ", ".join(f"{k} {v:.3f}" for k, v in a.items()))


if __name__ == "__main__":
    main(sys.argv[1:])
