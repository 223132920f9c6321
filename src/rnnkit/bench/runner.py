"""Timing rnnkit against PyTorch, interleaved in one run, and the SGEMM peak beside them.

For every (cell, configuration): both models are built with the same weights and fed
the same batch; each side runs warm-up steps (not timed), then the two sides take
turns, `repeats` rounds of a few steps each, and the median round gives the time of a
step. Interleaving means a slow phase of the machine hurts both sides alike.
"""

from __future__ import annotations

import importlib.util
import math
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rnnkit import __version__
from rnnkit.bench.configs import CELLS, CONFIGS, QUICK, BenchConfig, find_config, step_flops
from rnnkit.bench.memory import measure_in_subprocess
from rnnkit.bench.rnnkit_side import build_model, generation_fn, make_batch, train_step_fn
from rnnkit.bench.threads import available_cores, blas_info, limit_threads
from rnnkit.errors import ConfigError

__all__ = ["BenchOptions", "measure_sgemm", "run_bench", "time_interleaved"]


@dataclass
class BenchOptions:
    """What to run; the defaults are the full benchmark."""

    configs: tuple[str, ...] = tuple(c.name for c in CONFIGS)
    cells: tuple[str, ...] = CELLS
    threads: int = field(default_factory=available_cores)
    repeats: int = 7  # timed rounds per side
    round_seconds: float = 0.25  # the least time one round lasts
    torch: bool = True  # the PyTorch column (when torch is installed)
    keras: bool = False  # the optional Keras column
    memory: bool = True  # peak memory, in separate processes
    generate_tokens: int = 200  # tokens per generation run at batch 1

    @classmethod
    def quick(cls, **overrides: Any) -> BenchOptions:
        settings: dict[str, Any] = dict(configs=QUICK, repeats=3, round_seconds=0.05)
        settings["generate_tokens"] = 50
        return cls(**{**settings, **overrides})

    def __post_init__(self) -> None:
        for name in self.configs:
            find_config(name)
        bad = [c for c in self.cells if c not in CELLS]
        if bad:
            raise ConfigError(f"cell={bad[0]!r} is not one of {', '.join(CELLS)}")
        if self.threads < 1:
            raise ConfigError(f"threads={self.threads}: must be at least 1")
        if self.repeats < 1:
            raise ConfigError(f"repeats={self.repeats}: must be at least 1")


def _rounds_of(fn: Callable[[], Any], seconds: float) -> int:
    """Calls per timed round so that a round lasts about `seconds` (after a warm-up)."""
    fn()  # warm-up: first-call allocations, caches, lazy initialisation
    t0 = time.perf_counter()
    fn()
    once = time.perf_counter() - t0
    return max(1, math.ceil(seconds / max(once, 1e-9)))


def time_interleaved(
    fns: dict[str, Callable[[], Any]], repeats: int, round_seconds: float
) -> dict[str, float]:
    """Median seconds per call of each function, the functions taking turns round by round."""
    calls = {name: _rounds_of(fn, round_seconds) for name, fn in fns.items()}
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            n = calls[name]
            t0 = time.perf_counter()
            for _ in range(n):
                fn()
            times[name].append((time.perf_counter() - t0) / n)
    return {name: statistics.median(ts) for name, ts in times.items()}


def measure_sgemm(size: int = 4096, repeats: int = 3) -> dict[str, float]:
    """GFLOP/s of a float32 (size x size) product, NumPy's BLAS and (if present) PyTorch's."""
    rng = np.random.default_rng(0)
    a = rng.random((size, size), dtype=np.float32)
    b = rng.random((size, size), dtype=np.float32)
    c = np.empty_like(a)
    flops = 2.0 * size**3
    best = {"numpy": min(_seconds(lambda: np.matmul(a, b, out=c)) for _ in range(repeats))}
    if _has("torch"):
        import torch

        ta, tb, tc = torch.from_numpy(a), torch.from_numpy(b), torch.empty(size, size)
        best["torch"] = min(_seconds(lambda: torch.mm(ta, tb, out=tc)) for _ in range(repeats))
    return {name: flops / s / 1e9 for name, s in best.items()}


def _seconds(fn: Callable[[], Any]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def _has(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def _bench_one(cfg: BenchConfig, cell: str, opts: BenchOptions) -> dict[str, Any]:
    model, batch = build_model(cfg, cell), make_batch(cfg)
    fns: dict[str, Callable[[], Any]] = {"rnnkit": train_step_fn(model, batch)}
    row: dict[str, Any] = {"cell": cell, "config": cfg.to_dict()}
    if opts.torch:
        from rnnkit.bench.torch_side import build_torch, torch_train_step_fn

        net = build_torch(model, cfg, cell)
        fns["torch"] = torch_train_step_fn(net, batch, cfg)
        # the same weights and batch: the first losses must agree (before any update)
        first = {name: fns[name]() for name in ("rnnkit", "torch")}
        row["first_loss"] = first
        row["same_loss"] = bool(
            abs(first["rnnkit"] - first["torch"]) <= 1e-4 * max(1.0, abs(first["torch"]))
        )
    if opts.keras:
        from rnnkit.bench.keras_side import keras_train_step_fn

        fns["keras"] = keras_train_step_fn(model, batch, cfg, cell)
    seconds = time_interleaved(fns, opts.repeats, opts.round_seconds)
    flops = step_flops(cfg, cell)
    row["gflop_per_step"] = flops / 1e9
    for name, s in seconds.items():
        row[f"{name}_ms_per_step"] = 1e3 * s
        row[f"{name}_tokens_per_s"] = cfg.tokens / s
        row[f"{name}_gflops"] = flops / s / 1e9
    if opts.torch:
        row["ratio"] = row["rnnkit_tokens_per_s"] / row["torch_tokens_per_s"]
    if opts.keras:
        row["keras_ratio"] = row["rnnkit_tokens_per_s"] / row["keras_tokens_per_s"]
    row.update(_generation(cfg, cell, opts))
    return row


def _generation(cfg: BenchConfig, cell: str, opts: BenchOptions) -> dict[str, Any]:
    """Latency per generated token at batch 1, a language model of the config's sizes."""
    lm = build_model(cfg, cell, lm=True)
    fns: dict[str, Callable[[], Any]] = {"rnnkit": generation_fn(lm, opts.generate_tokens)}
    if opts.torch:
        from rnnkit.bench.torch_side import build_torch, torch_generation_fn

        fns["torch"] = torch_generation_fn(
            build_torch(lm, cfg, cell, lm=True), opts.generate_tokens
        )
    seconds = time_interleaved(fns, max(3, opts.repeats // 2), opts.round_seconds)
    out = {f"{k}_gen_us_per_token": 1e6 * s / opts.generate_tokens for k, s in seconds.items()}
    if opts.torch:
        out["gen_ratio"] = out["torch_gen_us_per_token"] / out["rnnkit_gen_us_per_token"]
    return out


def run_bench(opts: BenchOptions, progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Run the benchmark; returns the JSON-able result (see :func:`rnnkit.bench.format_table`)."""
    if opts.torch and not _has("torch"):
        opts.torch = False
    if opts.keras and not (_has("keras") and _has("torch")):
        raise ConfigError("the Keras column needs keras and torch: pip install keras torch")
    if opts.torch:
        import torch  # noqa: F401  (imported first, so limit_threads sets its pool too)
    results = []
    with limit_threads(opts.threads):
        sgemm = measure_sgemm()
        for name in opts.configs:
            cfg = find_config(name)
            for cell in opts.cells:
                if progress:
                    progress(f"{cell} {cfg.name} ...")
                row = _bench_one(cfg, cell, opts)
                row["peak_fraction"] = row["rnnkit_gflops"] / max(sgemm.values())
                results.append(row)
    if opts.memory:
        for row in results:
            if progress:
                progress(f"memory {row['cell']} {row['config']['name']} ...")
            sides = ("rnnkit", "torch") if opts.torch else ("rnnkit",)
            for side in sides:
                m = measure_in_subprocess(side, row["cell"], row["config"]["name"], opts.threads)
                row[f"{side}_peak_mib"] = m.get("step_mib")
                row[f"{side}_process_mib"] = m.get("process_mib")
    return {
        "results": results,
        "sgemm_peak_gflops": max(sgemm.values()),
        "sgemm_gflops": sgemm,
        "summary": _summary(results) if opts.torch else {},
        "threads": opts.threads,
        "machine": _machine(),
        "versions": _versions(opts),
        "options": {"repeats": opts.repeats, "round_seconds": opts.round_seconds},
    }


def _summary(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Geometric mean and minimum of the throughput ratio, per cell."""
    out: dict[str, Any] = {}
    for cell in dict.fromkeys(r["cell"] for r in results):
        ratios = [r["ratio"] for r in results if r["cell"] == cell]
        gen = [r["gen_ratio"] for r in results if r["cell"] == cell]
        out[cell] = {
            "geomean_ratio": math.exp(statistics.fmean(math.log(x) for x in ratios)),
            "min_ratio": min(ratios),
            "geomean_gen_ratio": math.exp(statistics.fmean(math.log(x) for x in gen)),
        }
    return out


def _machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {"cpu": cpu, "cores": available_cores(), "python": platform.python_version()}


def _versions(opts: BenchOptions) -> dict[str, Any]:
    versions: dict[str, Any] = {"rnnkit": __version__, "numpy": np.__version__}
    if opts.torch:
        import torch

        versions["torch"] = torch.__version__
    if opts.keras:
        import keras

        versions["keras"] = keras.__version__
    versions["blas"] = blas_info()
    return versions
