"""Training steps with one part of the compiled path switched off, in turns, one process.

    python benchmarks/switches.py rows|side|units [--config tiny sentiment ...]
        [--cell rnn lstm gru] [--pairs 400] [--threads 2]

- ``rows``: the compiled row passes of :mod:`rnnkit.core.embedding` (an id lookup's
  gradient, SGD on the touched rows) against NumPy's gathers and scatters;
- ``side``: the gated cells' backward kernels writing the gates' gradients side by
  side (T, B, g d) against gate-major (g, T, B, d).

For each configuration of ``rnnkit bench`` and each cell, one training step of the
bench's model is timed with the part on and off, alternately step by step (the order
swapped every pair), so that a slow spell of the machine, seconds long, covers both.
The table gives each side's median step and the median of the pairs' ratios, off over
on. The part is switched off by replacing the function that chooses it; nothing else
changes.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rnnkit.bench.configs import CONFIGS, find_config
from rnnkit.bench.rnnkit_side import build_model, make_batch, train_step_fn
from rnnkit.bench.threads import limit_threads
from rnnkit.core import embedding, recurrences
from rnnkit.core.kernels import compiled_unavailable, use_kernels
from rnnkit.layers import gru, lstm


def _none(*_: object) -> None:
    return None


#: switch name -> the (module, attribute) pairs whose replacement by `_none` turns it off
SWITCHES = {
    "rows": [(embedding, "_rows_kernel")],
    "side": [(lstm, "side_by_side"), (gru, "side_by_side")],
    "units": [(recurrences, "_unit_parts")],
}


@contextmanager
def switched_off(name: str) -> Iterator[None]:
    """A block with the part `name` of SWITCHES off."""
    kept = [(module, attr, getattr(module, attr)) for module, attr in SWITCHES[name]]
    for module, attr, _ in kept:
        setattr(module, attr, _none)
    try:
        yield
    finally:
        for module, attr, fn in kept:
            setattr(module, attr, fn)


def _timed(step: Callable[[], object]) -> float:
    start = time.perf_counter()
    step()
    return time.perf_counter() - start


def compare(name: str, config: str, cell: str, pairs: int) -> tuple[float, float, float]:
    """(median step on, median step off, median over the pairs of off / on), seconds."""
    cfg = find_config(config)
    step = train_step_fn(build_model(cfg, cell), make_batch(cfg))
    for _ in range(3):  # both ways warm: buffers of both layouts allocated
        step()
        with switched_off(name):
            step()
    on, off, ratios = [], [], []
    for i in range(pairs):
        first_on = i % 2 == 0
        if first_on:
            on.append(_timed(step))
        with switched_off(name):
            off.append(_timed(step))
        if not first_on:
            on.append(_timed(step))
        ratios.append(off[-1] / on[-1])
    return statistics.median(on), statistics.median(off), statistics.median(ratios)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("switch", choices=sorted(SWITCHES))
    parser.add_argument("--config", nargs="*", default=[c.name for c in CONFIGS[:3]])
    parser.add_argument("--cell", nargs="*", default=["rnn", "lstm", "gru"])
    parser.add_argument("--pairs", type=int, default=400)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    if compiled_unavailable():
        raise SystemExit(f"the compiled kernels cannot run: {compiled_unavailable()}")
    with use_kernels("compiled"), limit_threads(args.threads):
        print(f"{'config':10} {'cell':5} {'on ms':>9} {'off ms':>9} {'speed-up':>9}")
        for config in args.config:
            for cell in args.cell:
                on, off, ratio = compare(args.switch, config, cell, args.pairs)
                row = f"{config:10} {cell:5} {on * 1e3:9.3f} {off * 1e3:9.3f} {ratio:9.3f}"
                print(row, flush=True)


if __name__ == "__main__":
    main()
