"""Training steps on both paths of the recurrences, beside PyTorch, interleaved in one process.

    OPENBLAS_NUM_THREADS=1 python benchmarks/kernels.py [--config tiny sentiment ...]
        [--cell lstm gru rnn] [--rounds 7] [--threads 1]

For every configuration of ``rnnkit bench`` and every cell, one training step of the
same network (the bench's models, the same weights) is timed in turns: rnnkit on the
NumPy path, rnnkit on the compiled path, PyTorch with oneDNN, PyTorch without. Each
round times every side once (the median of a few steps); the table gives the median
over rounds of each side's tokens per second divided by PyTorch's with oneDNN in
the same round, so that a machine shared with other work slows every column alike.
"""

from __future__ import annotations

import argparse
import statistics
import time

from rnnkit.bench.configs import CONFIGS, find_config
from rnnkit.bench.rnnkit_side import build_model, make_batch, train_step_fn
from rnnkit.bench.threads import limit_threads
from rnnkit.bench.torch_side import build_torch, torch_train_step_fn
from rnnkit.core.kernels import compiled_unavailable, use_kernels


def seconds(step, repeats: int) -> float:
    """The median time of `repeats` calls of `step`."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", nargs="*", default=["tiny", "sentiment", "tagger"])
    parser.add_argument("--cell", nargs="*", default=["lstm", "gru", "rnn"])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    import torch

    assert not compiled_unavailable(), compiled_unavailable()  # loads SciPy's BLAS first
    print(f"{'config':10} {'cell':5} {'numpy':>7} {'compiled':>9} {'torch':>7} {'no-onednn':>9}")
    for cfg in [find_config(n) for n in args.config] if args.config else CONFIGS:
        repeats = max(3, int(2e5 // (cfg.tokens * cfg.hidden)))
        for cell in args.cell:
            batch = make_batch(cfg)
            sides = {}
            for path in ("numpy", "compiled"):
                with use_kernels(path):
                    sides[path] = (path, train_step_fn(build_model(cfg, cell), batch))
            net = build_torch(build_model(cfg, cell), cfg, cell)
            torch_step = torch_train_step_fn(net, batch, cfg)
            sides["torch"] = (True, torch_step)
            sides["no-onednn"] = (False, torch_step)
            ratios: dict[str, list[float]] = {k: [] for k in sides}
            with limit_threads(args.threads):
                for _ in range(args.rounds):
                    t = {}
                    for name, (option, step) in sides.items():
                        if isinstance(option, str):
                            with use_kernels(option):
                                step()  # warm
                                t[name] = seconds(step, repeats)
                        else:
                            torch.backends.mkldnn.enabled = option
                            step()
                            t[name] = seconds(step, repeats)
                    torch.backends.mkldnn.enabled = True
                    for name in sides:
                        ratios[name].append(t["torch"] / t[name])
            r = {k: statistics.median(v) for k, v in ratios.items()}
            print(
                f"{cfg.name:10} {cell:5} {r['numpy']:7.2f} {r['compiled']:9.2f} "
                f"{r['torch']:7.2f} {r['no-onednn']:9.2f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
