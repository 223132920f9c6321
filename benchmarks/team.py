"""Training steps with the kernels' team against OpenBLAS's own threads, in one process.

    python benchmarks/team.py [--config sentiment tagger ...] [--cell lstm gru rnn]
        [--rounds 9] [--threads 2]

The team (``RNNKIT_THREADS=team``, the default) runs OpenBLAS's parallel products and
splits the compiled recurrences by rows over the same threads; "blas" leaves the
products to OpenBLAS's threads and runs each batch in one loop. For each configuration
of ``rnnkit bench`` and each cell, one training step of the bench's model (the same
weights and batch) is timed both ways in turns, a round of a few steps each, and the
table gives the median step of each and the speed-up of the team. Each turn starts
after a pause of 0.25 s: OpenBLAS's idle threads spin for about 0.1 s after their last
product, and a turn of the team begun inside that time would share a core with them.
"""

from __future__ import annotations

import argparse
import statistics
import time

from rnnkit.bench.configs import CONFIGS, find_config
from rnnkit.bench.rnnkit_side import build_model, make_batch, train_step_fn
from rnnkit.bench.threads import limit_threads
from rnnkit.core.kernels import compiled_unavailable, thread_mode, use_kernels, use_team

#: steps timed in each turn, after one untimed
STEPS = 7
#: seconds between turns (see the module docstring)
PAUSE = 0.25


def median_steps(config: str, cell: str, rounds: int) -> dict[bool, float]:
    """The median step in seconds with the team (True) and without (False)."""
    cfg = find_config(config)
    step = train_step_fn(build_model(cfg, cell), make_batch(cfg))
    turns: dict[bool, list[float]] = {True: [], False: []}
    for _ in range(rounds):
        for team in (True, False):
            with use_team(team):
                time.sleep(PAUSE)
                step()
                times = []
                for _ in range(STEPS):
                    start = time.perf_counter()
                    step()
                    times.append(time.perf_counter() - start)
            turns[team].append(statistics.median(times))
    return {team: statistics.median(times) for team, times in turns.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", nargs="*", default=[c.name for c in CONFIGS[:5]])
    parser.add_argument("--cell", nargs="*", default=["lstm", "gru", "rnn"])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    if compiled_unavailable():
        raise SystemExit(f"the compiled kernels cannot run: {compiled_unavailable()}")
    with use_kernels("compiled"), limit_threads(args.threads):
        if thread_mode() != "team":
            raise SystemExit("the team is off (RNNKIT_THREADS=blas, or NumPy has another BLAS)")
        print(f"{'config':10} {'cell':5} {'team ms':>9} {'blas ms':>9} {'speed-up':>9}")
        for config in args.config:
            for cell in args.cell:
                ms = median_steps(config, cell, args.rounds)
                team, blas = ms[True] * 1e3, ms[False] * 1e3
                print(
                    f"{config:10} {cell:5} {team:9.2f} {blas:9.2f} {blas / team:9.2f}", flush=True
                )


if __name__ == "__main__":
    main()
