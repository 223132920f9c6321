"""The parts of a data-parallel step that one process does not have, each alone.

    python benchmarks/mpi_exchange.py [--config tiny sentiment tagger char-lm medium]
        [--ranks 2] [--rounds 2000]

For each configuration of ``rnnkit bench`` (the tanh RNN model the bench trains) the
global batch is cut into ``--ranks`` shares and each share's forward and BPTT fill one
record, as :class:`rnnkit.distributed.MPIGroup` writes them. Then:

- ``sum``: adding the records in rank order into the model's gradients
  (``Layout.sum_into``), timed in this process, the best of several rounds;
- ``shared`` and ``gather``: under ``mpiexec -n N`` (started by this script), each
  rank writing its record and seeing every rank's, two of the ways ``MPIGroup`` can:
  a shared-memory window and one barrier (ranks on one host), or one ``Allgather``
  (ranks anywhere); the median over ``--rounds`` exchanges, each after a barrier so
  the ranks start together;
- ``scatter``: the third way (ranks anywhere, the default from 3 ranks on several
  hosts): the headers and rows gathered, then the blocks summed in pieces, which
  includes the dense part of ``sum``.

Times are microseconds per step. The record's bytes say how much each rank writes.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from rnnkit.bench.configs import CONFIGS, find_config
from rnnkit.bench.rnnkit_side import build_model, make_batch
from rnnkit.distributed import Accumulate
from rnnkit.distributed.exchanges import Gathered, Scattered, Shared
from rnnkit.distributed.group import _fitting
from rnnkit.training import SequenceDataset

#: the configurations timed unless --config says otherwise: every one but large
DEFAULT = [c.name for c in CONFIGS if c.name != "large"]


def shares(config: str, ranks: int):
    """The model, each share's (header, gradients) and the layout holding them all."""
    cfg = find_config(config)
    model = build_model(cfg, "rnn")
    batch = make_batch(cfg)
    data = SequenceDataset(batch.x, batch.y, per_step=cfg.many_to_many)
    group, index = Accumulate(ranks), np.arange(cfg.batch)
    parts = []
    for r in range(ranks):  # each share's gradient, copied before the next
        head, grads = group._train_share(model, data, index, r, 0)
        copies = [(g.copy(), None if rows is None else rows.copy()) for g, rows in grads]
        parts.append((head, copies))
    layout = _fitting(np.stack([head for head, _ in parts]), model.param_slots())
    return model, parts, layout


def time_sum(config: str, ranks: int) -> dict:
    """Microseconds of one sum of the shares' records, and the record's bytes."""
    model, parts, layout = shares(config, ranks)
    records = [layout.views(np.zeros(layout.nbytes, np.uint8)) for _ in parts]
    for rec, (head, grads) in zip(records, parts, strict=True):
        layout.pack(rec, head, grads)
    slots, group = model.param_slots(), Accumulate(ranks)
    best = []
    for _ in range(7):
        start = time.perf_counter()
        for _ in range(50):
            group._finish(layout, records, slots)
        best.append((time.perf_counter() - start) / 50)
    return {"bytes": layout.nbytes, "sum_us": min(best) * 1e6}


def worker(config: str, rounds: int) -> None:
    """Under mpiexec: time this rank's exchange both ways; rank 0 prints the medians."""
    from mpi4py import MPI

    comm = MPI.COMM_WORLD
    _, parts, layout = shares(config, comm.Get_size())
    head, grads = parts[comm.Get_rank()]
    out = {}
    ways = (("shared", Shared), ("gather", Gathered), ("scatter", Scattered))
    for name, kind in ways:
        records = kind(comm, layout)
        times = []
        for i in range(rounds + 50):
            comm.Barrier()
            start = time.perf_counter()
            seen = records.exchange(layout, head, grads)
            records.summed(np.stack([rec.header for rec in seen]))  # None but scattered
            if i >= 50:  # the first rounds touch the pages
                times.append(time.perf_counter() - start)
        records.free()
        out[f"{name}_us"] = statistics.median(times) * 1e6
    if comm.Get_rank() == 0:
        print(json.dumps(out))


def _mpiexec() -> str:
    """The mpiexec beside this Python (the mpich wheel), else the one on PATH."""
    beside = Path(sys.prefix) / "bin" / "mpiexec"
    return str(beside) if beside.is_file() else "mpiexec"


def main(argv: list[str]) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--config", nargs="+", default=DEFAULT)
    p.add_argument("--ranks", type=int, default=2)
    p.add_argument("--rounds", type=int, default=2000, help="exchanges timed per way")
    p.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        worker(args.worker[0], int(args.worker[1]))
        return
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    print(f"{args.ranks} ranks; microseconds per step (sum: best of 7; exchange: median)")
    print(
        f"{'config':<10}{'record bytes':>14}{'sum':>10}{'shared':>10}{'gather':>10}{'scatter':>10}"
    )
    for config in args.config:
        summed = time_sum(config, args.ranks)
        command = [_mpiexec(), "-n", str(args.ranks), sys.executable, __file__]
        command += ["--worker", config, str(args.rounds)]
        done = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
        ex = json.loads(done.stdout.strip().splitlines()[-1])
        print(
            f"{config:<10}{summed['bytes']:>14,}{summed['sum_us']:>10.0f}"
            f"{ex['shared_us']:>10.0f}{ex['gather_us']:>10.0f}{ex['scatter_us']:>10.0f}",
            flush=True,
        )


if __name__ == "__main__":
    main(sys.argv[1:])
