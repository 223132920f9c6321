"""Training speed, memory and generation latency of rnnkit, side by side with PyTorch.

``rnnkit bench`` (or ``python benchmarks/speed.py``) times training steps (forward,
BPTT, SGD update) of the same network with the same weights and batch in rnnkit and in
PyTorch, each in a worker process of its own, taking turns in one run, and reports
tokens per second, their ratio, the
GFLOP/s achieved against the machine's SGEMM peak measured in the same run, the peak
memory of a step (each side in a process of its own) and the latency of generating
one token at batch 1. Nothing here asserts a time; it measures.

>>> [c.name for c in CONFIGS]
['tiny', 'sentiment', 'tagger', 'char-lm', 'medium', 'large']
"""

from rnnkit.bench.configs import CONFIGS, QUICK, BenchConfig, find_config, step_flops
from rnnkit.bench.report import format_table
from rnnkit.bench.runner import BenchOptions, Worker, run_bench, time_interleaved

__all__ = [
    "CONFIGS",
    "QUICK",
    "BenchConfig",
    "BenchOptions",
    "Worker",
    "find_config",
    "format_table",
    "run_bench",
    "step_flops",
    "time_interleaved",
]
