"""The cost model of data-parallel training on many hosts: the bytes that reach each
rank per step against the compute of a step, and the speed-up they predict.

    python benchmarks/mpi_cost.py [--cell rnn lstm] [--config tagger char-lm medium large]
        [--ranks 2 8 32] [--gbits 1 10] [--gflops 20]

For each model of ``rnnkit bench`` (embedding, one recurrent layer, Dense) and each
number of ranks N, the configuration's global batch is cut into N shares as the ranks
cut it, and the records are laid out as :class:`rnnkit.distributed.MPIGroup` lays
them out for those shares (room for a quarter more embedding rows than the most any
share touches). Then, per rank and step:

- ``gather`` (``RNNKIT_MPI_EXCHANGE=gather``) takes in the N - 1 other records;
- ``scatter`` takes in the other ranks' headers and rows (N - 1 of them) and
  2 (N - 1) / N blocks of dense gradients: its pieces of the others' blocks, then
  the others' summed pieces;
- ``auto`` between hosts is gather at 2 ranks and scatter from 3.

With C the seconds of one step of the whole global batch on one rank (its FLOPs at
``--gflops`` GFLOP/s: one core) and b the bytes taken in at ``--gbits`` Gbit/s, the
predicted speed-up is ``S(N) = C / (C / N + b / bandwidth)``: compute shared
perfectly, messages neither overlapped with it nor slowed by latency (each way takes
one to three collectives a step, tens of microseconds each on a network).
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from rnnkit.bench.configs import find_config, step_flops
from rnnkit.bench.rnnkit_side import build_model, make_batch
from rnnkit.distributed import Layout, header, shard
from rnnkit.distributed.exchanges import apart
from rnnkit.training import SequenceDataset

MB = 1e6


def layout_for(cfg, shapes, dtypes, sparse, x: np.ndarray, ranks: int) -> Layout:
    """The record layout of `ranks` shares of the batch `x` (ids (B, T)): each sparse
    slot (the embedding) has the rows of the ids its share holds."""
    heads = []
    for r in range(ranks):
        ids = np.unique(x[shard(np.arange(len(x)), r, ranks)])
        heads.append(header([1.0, 0, 0, 0, 0, 0], [ids if s else None for s in sparse]))
    return Layout.fitting(np.array(heads), shapes, dtypes)


def taken_in(layout: Layout, ranks: int, way: str) -> float:
    """Bytes one rank takes in per step, the records seen `way`."""
    if way == "gather" or not layout.block_pieces(ranks):
        return (ranks - 1) * layout.nbytes
    block = layout.nbytes - layout.prefix
    return (ranks - 1) * layout.prefix + 2 * (ranks - 1) / ranks * block


def main(argv: list[str]) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cell", nargs="+", default=["rnn", "lstm"])
    p.add_argument("--config", nargs="+", default=["tagger", "char-lm", "medium", "large"])
    p.add_argument("--ranks", nargs="+", type=int, default=[2, 8, 32])
    p.add_argument("--gbits", nargs="+", type=float, default=[1.0, 10.0])
    p.add_argument("--gflops", type=float, default=20.0, help="compute per rank")
    args = p.parse_args(argv)
    cols = [(n, g) for n in args.ranks for g in args.gbits]
    head = ["cell", "config", "dense MB", "rows MB (N=2)", "GFLOP / step", "compute / step"]
    head += [f"S({n}) {g:g} Gbit/s" for n, g in cols]
    print("| " + " | ".join(head) + " |")
    print("|---|---|" + "--:|" * (len(head) - 2))
    for cell in args.cell:
        for name in args.config:
            cfg = find_config(name)
            model = build_model(cfg, cell)
            batch = make_batch(cfg)
            one = SequenceDataset(batch.x, batch.y, per_step=cfg.many_to_many).batch([0])
            model.zero_grad()
            model.train_batch(one)  # one sequence: which gradients come as rows
            slots = model.param_slots()
            shapes = [g.shape for _, _, g, _ in slots]
            dtypes = [g.dtype for _, _, g, _ in slots]
            sparse = [rows is not None for *_, rows in slots]
            dense = sum(g.nbytes for (_, _, g, _), s in zip(slots, sparse, strict=True) if not s)
            two = layout_for(cfg, shapes, dtypes, sparse, batch.x, 2)
            flops = step_flops(cfg, cell)
            compute = flops / (args.gflops * 1e9)  # seconds, the whole batch on one rank
            row = [cell, name, f"{dense / MB:.2f}", f"{(two.nbytes - dense) / MB:.2f}"]
            row += [f"{flops / 1e9:.2f}", f"{compute * 1e3:,.0f} ms"]
            for n, gbits in cols:
                layout = layout_for(cfg, shapes, dtypes, sparse, batch.x, n)
                seconds = taken_in(layout, n, apart(n)) / (gbits * 1e9 / 8)
                gathered = taken_in(layout, n, "gather") / (gbits * 1e9 / 8)
                s = compute / (compute / n + seconds)
                g = compute / (compute / n + gathered)
                row.append(f"{s:.1f}" if n < 3 else f"{s:.1f} ({g:.1f})")
            print("| " + " | ".join(row) + " |", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
