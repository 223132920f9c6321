"""The compiled recurrences alone, split three ways over the team's threads, in turns.

    python benchmarks/splits.py [--shape gru:50x128x1024 lstm:100x64x512 ...]
        [--rounds 25] [--threads 2]

For each cell and shape (T x B x d), the forward kernel (scan) and the backward kernel
(BPTT and the weight gradients) of :mod:`rnnkit.core.recurrences` run on the same
random buffers, float32, three ways in turns, round after round:

- ``rows``: the batch's rows in two parts, each part's whole time loop on a thread of
  its own, never waiting for the other;
- ``units``: every row in each part, half the units each, the parts meeting at every
  step;
- ``one loop``: one thread runs the loop, OpenBLAS's two threads each product.

The table gives each way's median time and GFLOP/s of the per-step products (2 T B g
d^2 each way), and the median over the rounds of each round's speed-up over ``rows``:
a slow spell of the machine, seconds long, falls on a round's three ways alike.
``recurrences.kernel_parts`` chooses between rows and units for training (units for a
gated forward pass from ``UNIT_AREA``): this is how that choice was measured.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from contextlib import AbstractContextManager

import numpy as np

from rnnkit.bench.threads import limit_threads
from rnnkit.core import recurrences
from rnnkit.core.kernels import compiled_unavailable, use_kernels
from rnnkit.core.workspace import Workspace

GATES = {"rnn": 1, "lstm": 4, "gru": 3}
#: way -> the context that makes every kernel split that way (two threads)
WAYS: dict[str, Callable[[], AbstractContextManager[int]]] = {
    "rows": lambda: recurrences.use_row_parts(2),
    "units": lambda: recurrences.use_unit_parts(2),
    "one loop": lambda: recurrences.use_row_parts(1),
}
DEFAULT = ["gru:50x128x1024", "lstm:50x128x1024", "rnn:50x128x1024", "gru:100x64x512",
           "lstm:100x64x512", "rnn:100x64x512", "gru:64x64x256", "lstm:40x32x128"]  # fmt: skip


def kernels_of(cell: str, T: int, B: int, d: int) -> Callable[[], tuple[float, float]]:
    """A function running `cell`'s forward then backward kernel on fixed buffers: their
    seconds."""
    rng = np.random.default_rng(0)
    g = GATES[cell]
    W = (rng.standard_normal((d, g * d)) * 0.03).astype(np.float32)
    xw = (rng.standard_normal((g, T, B, d)) * 0.5).astype(np.float32)
    dH = np.full((T, B, d), 0.01, np.float32)
    ws = Workspace()

    def run() -> tuple[float, float]:
        H = np.zeros((T + 1, B, d), np.float32)
        if cell == "rnn":
            H[1:] = xw[0]
            start = time.perf_counter()
            recurrences.rnn_scan(H, W, ws=ws)
            mid = time.perf_counter()
            recurrences.rnn_backward(dH, None, H, W, ws=ws)
            return mid - start, time.perf_counter() - mid
        G = xw.copy()
        if cell == "gru":
            S = np.zeros((T, B, d), np.float32)
            start = time.perf_counter()
            recurrences.gru_scan(G, H, S, W, ws=ws)
            mid = time.perf_counter()
            recurrences.gru_backward(dH, None, H, G, S, W, ws=ws)
            return mid - start, time.perf_counter() - mid
        C, TC = np.zeros((T + 1, B, d), np.float32), np.zeros((T, B, d), np.float32)
        start = time.perf_counter()
        recurrences.lstm_scan(G, H, C, TC, W, ws=ws)
        mid = time.perf_counter()
        recurrences.lstm_backward(dH, None, None, H, C, G, TC, W, ws=ws)
        return mid - start, time.perf_counter() - mid

    return run


def compare(cell: str, T: int, B: int, d: int, rounds: int) -> dict[str, list[float]]:
    """Per way: median forward s, median backward s, and their median speed-ups over rows."""
    run = kernels_of(cell, T, B, d)
    times: dict[str, list[tuple[float, float]]] = {way: [] for way in WAYS}
    for split in WAYS.values():  # every way's buffers allocated, its threads started
        with split():
            run()
    for _ in range(rounds):
        for way, split in WAYS.items():
            with split():
                times[way].append(run())
    out = {}
    for way, pairs in times.items():
        rows = times["rows"]
        ups = [[r[i] / p[i] for r, p in zip(rows, pairs, strict=True)] for i in (0, 1)]
        out[way] = [statistics.median(p[i] for p in pairs) for i in (0, 1)]
        out[way] += [statistics.median(ups[0]), statistics.median(ups[1])]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shape", nargs="*", default=DEFAULT, help="cell:TxBxd")
    parser.add_argument("--rounds", type=int, default=25)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    if compiled_unavailable():
        raise SystemExit(f"the compiled kernels cannot run: {compiled_unavailable()}")
    print(f"{'cell':5} {'T x B x d':13} {'way':9} {'forward ms':>11} {'GFLOP/s':>8} "
          f"{'speed-up':>8} {'backward ms':>12} {'speed-up':>8}")  # fmt: skip
    with use_kernels("compiled"), limit_threads(args.threads):
        for shape in args.shape:
            cell, dims = shape.split(":")
            T, B, d = (int(n) for n in dims.split("x"))
            flops = 2 * T * B * GATES[cell] * d * d
            for way, (fwd, bwd, up_f, up_b) in compare(cell, T, B, d, args.rounds).items():
                print(f"{cell:5} {dims:13} {way:9} {fwd * 1e3:11.2f} {flops / fwd / 1e9:8.1f} "
                      f"{up_f:8.3f} {bwd * 1e3:12.2f} {up_b:8.3f}", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
