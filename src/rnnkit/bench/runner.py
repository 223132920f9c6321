"""Timing rnnkit against PyTorch, interleaved in one run, and the SGEMM peak beside them.

Each framework runs in a worker process of its own (:mod:`rnnkit.bench.worker`), so
neither's thread pool competes with the other's. For every (cell, configuration) both
workers build the same model with the same weights and batch, run warm-up steps (not
timed), then take turns: `repeats` rounds of a few steps each, one worker at a time;
the median round gives the time of a step, and a ratio is the median over the rounds
of each round's ratio. Taking turns means a slow phase of the machine hurts both sides
alike. A cell that a framework has no layer for (its
description's ``torch`` or ``keras`` is None) runs without that side: the row lists it
under ``"not_available"`` and the table shows n/a.

PyTorch runs twice: as it comes (its LSTM on oneDNN's fused kernels) and, for training
only, with oneDNN off (``torch_no_onednn``: ATen's kernels), so that each ratio says
which of PyTorch's kernels it is against. The result names the path rnnkit's
recurrences took (``"kernels"``: "compiled" or "numpy", :mod:`rnnkit.core.kernels`) and
who ran OpenBLAS's parallel products (``"kernel_threads"``: "team", the compiled
kernels' team, which also splits recurrences by rows, or "blas", OpenBLAS's threads);
each row counts how rnnkit's kernels ran in its timed rounds (``"kernel_splits"``: split
over the team, splits that did not pay, kernels left in one loop while splitting
backed off, :func:`rnnkit.core.kernels.split_counts`).
"""

from __future__ import annotations

import importlib.util
import json
import math
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rnnkit.bench.configs import (
    CONFIGS,
    QUICK,
    BenchConfig,
    find_config,
    framework_layer,
    step_flops,
)
from rnnkit.bench.threads import available_cores, blas_info
from rnnkit.core.cells import cell_names, get_cell
from rnnkit.core.kernels import kernel_path, thread_mode
from rnnkit.errors import ConfigError, RnnkitError
from rnnkit.version import __version__

__all__ = [
    "COOL_DOWN",
    "BenchOptions",
    "Worker",
    "paired_speed_up",
    "run_bench",
    "time_interleaved",
]

#: seconds between one worker's round and the next worker's: OpenBLAS's threads keep
#: spinning for about 0.1 s after their last product (measured: one core busy for
#: 105 ms), PyTorch's OpenMP threads for under 10 ms; a round must not start on a core
#: the other side's idle threads still hold.
COOL_DOWN = 0.15


@dataclass
class BenchOptions:
    """What to run; the defaults are the full benchmark."""

    configs: tuple[str, ...] = tuple(c.name for c in CONFIGS)
    cells: tuple[str, ...] = field(default_factory=cell_names)  # every registered cell
    threads: int = field(default_factory=available_cores)
    repeats: int = 7  # timed rounds per side
    round_seconds: float = 0.25  # the least time one round lasts
    torch: bool = True  # the PyTorch column (when torch is installed)
    keras: bool = False  # the optional Keras column
    memory: bool = True  # peak memory, in separate processes
    generate_tokens: int = 200  # tokens per generation run at batch 1
    sgemm_size: int = 4096  # the square product that measures the SGEMM peak

    @classmethod
    def quick(cls, **overrides: Any) -> BenchOptions:
        settings: dict[str, Any] = dict(configs=QUICK, repeats=3, round_seconds=0.05)
        settings.update(generate_tokens=50, sgemm_size=2048)
        return cls(**{**settings, **overrides})

    def __post_init__(self) -> None:
        for name in self.configs:
            find_config(name)
        for cell in self.cells:
            get_cell(cell)
        if self.threads < 1:
            raise ConfigError(f"threads={self.threads}: must be at least 1")
        if self.repeats < 1:
            raise ConfigError(f"repeats={self.repeats}: must be at least 1")


class Worker:
    """A framework's worker process (:mod:`rnnkit.bench.worker`) and its command pipe."""

    def __init__(self, framework: str, threads: int, onednn: bool = True) -> None:
        self.framework = framework
        #: rnnkit's kernels split over its team, missed and skipped, summed over the
        #: "run" replies since the last reset
        self.splits: dict[str, int] = {}
        self._log = tempfile.TemporaryFile(mode="w+")
        cmd = [sys.executable, "-m", "rnnkit.bench.worker", framework, str(threads)]
        cmd += [] if onednn else ["no-onednn"]
        self._proc = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log, text=True
        )

    def ask(self, **command: Any) -> dict[str, Any]:
        """Send one command and return the reply; a failure raises RnnkitError."""
        assert self._proc.stdin is not None and self._proc.stdout is not None
        try:
            self._proc.stdin.write(json.dumps(command) + "\n")
            self._proc.stdin.flush()
            line = self._proc.stdout.readline()
        except BrokenPipeError:
            line = ""
        if not line:
            self._log.seek(0)
            last = (self._log.read().strip().splitlines() or ["no output"])[-1]
            raise RnnkitError(f"the {self.framework} benchmark worker stopped: {last}")
        reply: dict[str, Any] = json.loads(line)
        for key, n in reply.get("splits", {}).items():
            self.splits[key] = self.splits.get(key, 0) + int(n)
        if "error" in reply:
            raise RnnkitError(f"{self.framework} benchmark: {reply['error']}")
        return reply

    def close(self) -> None:
        if self._proc.poll() is None:
            try:
                self.ask(quit=True)
            except RnnkitError:
                pass
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        for pipe in (self._proc.stdin, self._proc.stdout, self._log):
            if pipe is not None:
                pipe.close()


def time_interleaved(
    workers: dict[str, Worker], repeats: int, round_seconds: float
) -> dict[str, list[float]]:
    """Seconds per call of each worker's set-up function in each of `repeats` rounds,
    the workers taking turns round by round."""
    calls = {}
    for name, w in workers.items():
        w.ask(run=1)  # warm-up: first-call allocations, caches, lazy initialisation
        once = w.ask(run=1)["seconds"]
        calls[name] = max(1, math.ceil(round_seconds / max(once, 1e-9)))
        time.sleep(COOL_DOWN)
    times: dict[str, list[float]] = {name: [] for name in workers}
    for _ in range(repeats):
        for name, w in workers.items():
            times[name].append(w.ask(run=calls[name])["seconds"] / calls[name])
            time.sleep(COOL_DOWN)
    return times


def paired_speed_up(times: dict[str, list[float]], side: str, against: str) -> float:
    """How many times faster `side` ran than `against`: the median over the rounds of
    :func:`time_interleaved` of each round's ratio. A round's runs follow each other
    within a second, so a slow spell of the machine (seconds long, and 10 to 30%)
    weighs on both sides of a ratio, where a ratio of two medians could take them
    from different spells."""
    pairs = zip(times[side], times[against], strict=True)
    return statistics.median(other / own for own, other in pairs)


def _has(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def _bench_one(
    cfg: BenchConfig, cell: str, opts: BenchOptions, workers: dict[str, Worker]
) -> dict[str, Any]:
    row: dict[str, Any] = {"cell": cell, "config": cfg.to_dict()}
    missing = [name for name, w in workers.items() if framework_layer(cell, w.framework) is None]
    if missing:  # that framework has no layer for the cell: no column of its own
        row["not_available"] = list(dict.fromkeys(workers[name].framework for name in missing))
        workers = {name: w for name, w in workers.items() if name not in missing}
    setup: dict[str, Any] = {"cell": cell, "config": cfg.name, "task": "train"}
    replies = {name: w.ask(setup=setup) for name, w in workers.items()}
    first = {name: reply["first_loss"] for name, reply in replies.items()}
    row["kernels"] = replies["rnnkit"]["kernels"]
    if "torch" in first:  # the same weights and batch: the first losses must agree
        row["first_loss"] = first
        row["same_loss"] = bool(
            abs(first["rnnkit"] - first["torch"]) <= 1e-4 * max(1.0, abs(first["torch"]))
        )
    workers["rnnkit"].splits = {}
    rounds = time_interleaved(workers, opts.repeats, opts.round_seconds)
    row["kernel_splits"] = workers["rnnkit"].splits  # how rnnkit's kernels ran
    seconds = {name: statistics.median(ts) for name, ts in rounds.items()}
    flops = step_flops(cfg, cell)
    row["gflop_per_step"] = flops / 1e9
    for name, s in seconds.items():
        row[f"{name}_ms_per_step"] = 1e3 * s
        row[f"{name}_tokens_per_s"] = cfg.tokens / s
        row[f"{name}_gflops"] = flops / s / 1e9
    for key, other in (("ratio", "torch"), ("ratio_no_onednn", "torch_no_onednn")):
        if other in rounds:
            row[key] = paired_speed_up(rounds, "rnnkit", other)
    if "keras" in rounds:
        row["keras_ratio"] = paired_speed_up(rounds, "rnnkit", "keras")
    # latency per generated token at batch 1, a language model of the config's sizes
    gen = {k: w for k, w in workers.items() if k in ("rnnkit", "torch")}
    setup = {"cell": cell, "config": cfg.name, "task": "generate", "tokens": opts.generate_tokens}
    for w in gen.values():
        w.ask(setup=setup)
    rounds = time_interleaved(gen, max(3, opts.repeats // 2), opts.round_seconds)
    for name, ts in rounds.items():
        row[f"{name}_gen_us_per_token"] = 1e6 * statistics.median(ts) / opts.generate_tokens
    if "torch" in rounds:
        row["gen_ratio"] = paired_speed_up(rounds, "rnnkit", "torch")
    return row


def run_bench(opts: BenchOptions, progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Run the benchmark; returns the JSON-able result (see :func:`rnnkit.bench.format_table`)."""
    if opts.torch and not _has("torch"):
        opts.torch = False
    if opts.keras and not (_has("keras") and _has("torch")):
        raise ConfigError("the Keras column needs keras and torch: pip install keras torch")
    if not _has("threadpoolctl") and opts.threads != available_cores():
        raise ConfigError(
            f"threads={opts.threads} needs threadpoolctl to limit NumPy's BLAS: "
            "pip install threadpoolctl"
        )
    kernels = kernel_path()  # a ConfigError here, not in the worker, for a wrong setting
    threads_mode = thread_mode() if kernels == "compiled" else "blas"
    sides = ["rnnkit"] + (["torch"] if opts.torch else []) + (["keras"] if opts.keras else [])
    workers = {name: Worker(name, opts.threads) for name in sides}
    if opts.torch:
        workers["torch_no_onednn"] = Worker("torch", opts.threads, onednn=False)
    try:
        sgemm = {name: workers[name].ask(sgemm=opts.sgemm_size)["gflops"] for name in sides[:2]}
        results = []
        for name in opts.configs:
            cfg = find_config(name)
            for cell in opts.cells:
                if progress:
                    progress(f"{cell} {cfg.name} ...")
                row = _bench_one(cfg, cell, opts, workers)
                row["peak_fraction"] = row["rnnkit_gflops"] / max(sgemm.values())
                results.append(row)
    finally:
        for w in workers.values():
            w.close()
    if opts.memory:
        from rnnkit.bench.memory import measure_in_subprocess  # NOTE: here: it is also a script

        for row in results:
            if progress:
                progress(f"memory {row['cell']} {row['config']['name']} ...")
            for side in sides[:2]:
                if side in row.get("not_available", ()):
                    continue
                m = measure_in_subprocess(side, row["cell"], row["config"]["name"], opts.threads)
                row[f"{side}_peak_mib"] = m.get("step_mib")
                row[f"{side}_process_mib"] = m.get("process_mib")
    return {
        "results": results,
        "kernels": kernels,
        "kernel_threads": threads_mode,
        "sgemm_peak_gflops": max(sgemm.values()),
        "sgemm_gflops": {("numpy" if k == "rnnkit" else k): v for k, v in sgemm.items()},
        "summary": _summary(results) if opts.torch else {},
        "threads": opts.threads,
        "machine": _machine(),
        "versions": _versions(opts),
        "options": {"repeats": opts.repeats, "round_seconds": opts.round_seconds},
    }


def _summary(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Geometric mean and minimum of the throughput ratio, per cell PyTorch has."""
    out: dict[str, Any] = {}
    for cell in dict.fromkeys(r["cell"] for r in results if "ratio" in r):
        ratios = [r["ratio"] for r in results if r["cell"] == cell]
        gen = [r["gen_ratio"] for r in results if r["cell"] == cell]
        plain = [r["ratio_no_onednn"] for r in results if r["cell"] == cell]
        out[cell] = {
            "geomean_ratio": _geomean(ratios),
            "min_ratio": min(ratios),
            "geomean_gen_ratio": _geomean(gen),
            "geomean_ratio_no_onednn": _geomean(plain),
            "min_ratio_no_onednn": min(plain),
        }
    return out


def _geomean(values: list[float]) -> float:
    return math.exp(statistics.fmean(math.log(x) for x in values))


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
    from importlib.metadata import PackageNotFoundError, version

    versions: dict[str, Any] = {"rnnkit": __version__, "numpy": np.__version__}
    for name, wanted in (("torch", opts.torch), ("keras", opts.keras)):
        if wanted:
            try:
                versions[name] = version(name)
            except PackageNotFoundError:
                versions[name] = None
    versions["blas"] = blas_info()
    return versions
