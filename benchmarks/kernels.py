"""Training steps on both paths of the recurrences, beside PyTorch, interleaved in one process.

    OPENBLAS_NUM_THREADS=1 python benchmarks/kernels.py [--config tiny sentiment ...]
        [--cell lstm gru rnn] [--rounds 7] [--threads 1] [--core]

For every configuration of ``rnnkit bench`` and every cell, one training step of the
same network (the bench's models, the same weights) is timed in turns: rnnkit on the
NumPy path, rnnkit on the compiled path, PyTorch with oneDNN, PyTorch without. The
table gives the median over rounds of each side's tokens per second (its median step
in the round) divided by PyTorch's with oneDNN in the same round. The sides take turns
step by step, so that a machine shared with other work slows every column alike.

``--core`` times the recurrence alone instead (scan and backward pass of
:mod:`rnnkit.core.recurrences` on the configuration's B, T, d, float32): the speed-up
of the compiled path over the NumPy path, without the rest of the step, with the
gated cells' forward products per gate and as one (``use_products``; the compiled
path's "auto" picks one where BLAS has two threads or more and the product is small);
its speed-up is the NumPy path's time over the faster of the two.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from rnnkit.bench.configs import CONFIGS, find_config
from rnnkit.bench.rnnkit_side import build_model, make_batch, train_step_fn
from rnnkit.bench.threads import limit_threads
from rnnkit.bench.torch_side import build_torch, torch_train_step_fn
from rnnkit.core import recurrences
from rnnkit.core.kernels import compiled_unavailable, use_kernels


def core_pass(cell: str, T: int, B: int, d: int):
    """One scan and one backward pass of `cell` in float32, as a function of no arguments."""
    rng = np.random.default_rng(0)
    g = {"rnn": 1, "lstm": 4, "gru": 3}[cell]
    xw = rng.normal(size=(g, T, B, d)).astype(np.float32)
    W = (rng.normal(size=(d, g * d)) / np.sqrt(d)).astype(np.float32)
    H = np.zeros((T + 1, B, d), np.float32)
    C, TC, S = np.zeros_like(H), np.zeros((T, B, d), np.float32), np.zeros((T, B, d), np.float32)
    dH = rng.normal(size=(T, B, d)).astype(np.float32)
    G = np.empty_like(xw)

    def run() -> None:
        G[...] = xw
        if cell == "rnn":
            H[1:] = xw[0]
            recurrences.rnn_scan(H, W)
            recurrences.rnn_backward(dH, None, H, W)
        elif cell == "lstm":
            recurrences.lstm_scan(G, H, C, TC, W)
            recurrences.lstm_backward(dH, None, None, H, C, G, TC, W)
        else:
            recurrences.gru_scan(G, H, S, W)
            recurrences.gru_backward(dH, None, H, G, S, W)

    return run


def core_table(configs, cells, rounds: int) -> None:
    """The compiled path's speed-up over the NumPy path on the recurrence alone, with
    the gated cells' forward products per gate and as one."""
    print(
        f"{'config':10} {'cell':5} {'numpy ms':>9} {'per-gate ms':>12} {'one ms':>8} "
        f"{'speed-up':>9} {'one over per-gate':>18}"
    )
    ways = {"numpy": ("numpy", "auto"), "per-gate": ("compiled", "per-gate")}
    ways["one"] = ("compiled", "one")
    for cfg in configs:
        for cell in cells:
            run = core_pass(cell, cfg.steps, cfg.batch, cfg.hidden)
            times: dict[str, list[float]] = {k: [] for k in ways}
            for path, products in ways.values():
                with use_kernels(path), recurrences.use_products(products):
                    run()  # warm-up
            for _ in range(rounds):
                for way, ts in times.items():  # the ways take turns, call by call
                    path, products = ways[way]
                    with use_kernels(path), recurrences.use_products(products):
                        ts.append(seconds(run, 1))
            t = {k: statistics.median(v) * 1e3 for k, v in times.items()}
            # the medians of the ratios of neighbouring calls: a busy phase hits all
            n, p, o = times["numpy"], times["per-gate"], times["one"]
            fast = statistics.median(a / min(b, c) for a, b, c in zip(n, p, o, strict=True))
            one = statistics.median(a / b for a, b in zip(p, o, strict=True))
            print(
                f"{cfg.name:10} {cell:5} {t['numpy']:9.2f} {t['per-gate']:12.2f} {t['one']:8.2f} "
                f"{fast:9.2f} {one:18.2f}",
                flush=True,
            )


def seconds(step, repeats: int) -> float:
    """The median time of `repeats` calls of `step`."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run_side(torch, option, step) -> float:
    """Seconds of one step of a side: a kernel path for rnnkit, oneDNN on or off for PyTorch."""
    if isinstance(option, str):
        with use_kernels(option):
            return seconds(step, 1)
    torch.backends.mkldnn.enabled = option
    try:
        return seconds(step, 1)
    finally:
        torch.backends.mkldnn.enabled = True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", nargs="*", default=["tiny", "sentiment", "tagger"])
    parser.add_argument("--cell", nargs="*", default=["lstm", "gru", "rnn"])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--core", action="store_true", help="the recurrence alone")
    args = parser.parse_args()
    assert not compiled_unavailable(), compiled_unavailable()  # loads its BLAS first
    configs = [find_config(n) for n in args.config] if args.config else CONFIGS
    if args.core:
        with limit_threads(args.threads):
            core_table(configs, args.cell, args.rounds)
        return
    import torch

    print(f"{'config':10} {'cell':5} {'numpy':>7} {'compiled':>9} {'torch':>7} {'no-onednn':>9}")
    for cfg in configs:
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
                for option, step in sides.values():  # warm-up, first-call costs
                    run_side(torch, option, step)
                for _ in range(args.rounds):
                    # NOTE: the sides take turns step by step, so that a busy phase of a
                    # shared machine lands on all of them
                    t: dict[str, list[float]] = {name: [] for name in sides}
                    for _ in range(repeats):
                        for name, (option, step) in sides.items():
                            t[name].append(run_side(torch, option, step))
                    best = {name: statistics.median(ts) for name, ts in t.items()}
                    for name in sides:
                        ratios[name].append(best["torch"] / best[name])
            r = {k: statistics.median(v) for k, v in ratios.items()}
            print(
                f"{cfg.name:10} {cell:5} {r['numpy']:7.2f} {r['compiled']:9.2f} "
                f"{r['torch']:7.2f} {r['no-onednn']:9.2f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
