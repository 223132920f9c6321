"""One framework's side of the benchmark, in a process of its own.

Two frameworks in one process share the cores with two thread pools (NumPy's BLAS
and PyTorch's OpenMP), and each pool's threads keep spinning for a while after its
last call, taking the cores from the other. So each side runs in its own worker
process, and the runner has them take turns: only one works at a time, on a machine
the other has left alone.

``python -m rnnkit.bench.worker FRAMEWORK THREADS [no-onednn]`` reads one JSON command
per line on stdin and answers each with one JSON line on stdout (``no-onednn``: a
PyTorch side with ``torch.backends.mkldnn.enabled = False``, so that its LSTM runs
ATen's own kernels instead of oneDNN's fused ones):

- ``{"setup": {"cell": ..., "config": ..., "task": "train" | "generate", "tokens": n}}``
  builds the model (the rnnkit model from the benchmark's seed, so every worker has
  the same weights; PyTorch and Keras copy them) and answers ``{"first_loss": x}``
  for training (the loss of one step, before its update) or ``{}``; rnnkit's side adds
  ``"kernels"``, the path its recurrences take (:mod:`rnnkit.core.kernels`);
- ``{"run": n}`` runs the set-up function n times: ``{"seconds": s}``;
- ``{"sgemm": size}``: ``{"gflops": x}`` of a float32 (size x size) product;
- ``{"quit": true}``.
A failure answers ``{"error": "one line"}``.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from typing import Any

__all__ = ["FRAMEWORKS", "serve"]

FRAMEWORKS = ("rnnkit", "torch", "keras")


def _setup(framework: str, cmd: dict[str, Any]) -> tuple[Callable[[], Any], dict[str, Any]]:
    from rnnkit.bench.configs import find_config
    from rnnkit.bench.rnnkit_side import build_model, generation_fn, make_batch, train_step_fn

    cfg, cell = find_config(cmd["config"]), cmd["cell"]
    if cmd["task"] == "generate":
        lm = build_model(cfg, cell, lm=True)
        if framework == "rnnkit":
            return generation_fn(lm, cmd["tokens"]), {}
        from rnnkit.bench.torch_side import build_torch, torch_generation_fn

        return torch_generation_fn(build_torch(lm, cfg, cell, lm=True), cmd["tokens"]), {}
    model, batch = build_model(cfg, cell), make_batch(cfg)
    if framework == "rnnkit":
        from rnnkit.core.kernels import kernel_path

        fn = train_step_fn(model, batch)
        return fn, {"first_loss": float(fn()), "kernels": kernel_path()}
    elif framework == "torch":
        from rnnkit.bench.torch_side import build_torch, torch_train_step_fn

        fn = torch_train_step_fn(build_torch(model, cfg, cell), batch, cfg)
    else:
        from rnnkit.bench.keras_side import keras_train_step_fn

        fn = keras_train_step_fn(model, batch, cfg, cell)
    return fn, {"first_loss": float(fn())}


def _sgemm(framework: str, size: int) -> float:
    import numpy as np

    rng = np.random.default_rng(0)
    a, b = (rng.random((size, size), dtype=np.float32) for _ in range(2))
    if framework == "rnnkit":
        c = np.empty_like(a)

        def product() -> Any:
            return np.matmul(a, b, out=c)
    else:
        import torch

        ta, tb, tc = torch.from_numpy(a), torch.from_numpy(b), torch.empty(size, size)

        def product() -> Any:
            return torch.mm(ta, tb, out=tc)

    product()  # warm-up
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        product()
        best = min(best, time.perf_counter() - t0)
    return 2.0 * size**3 / best / 1e9


def serve(framework: str, threads: int, onednn: bool = True) -> None:
    """Answer commands from stdin until told to quit (see the module docstring)."""
    counts: Callable[[], dict[str, int]] | None = None  # rnnkit's split counts
    if framework in ("torch", "keras"):
        import os

        os.environ.setdefault("KERAS_BACKEND", "torch")
        import torch

        torch.set_num_threads(threads)
        torch.backends.mkldnn.enabled = onednn  # type: ignore[assignment]
    else:  # NOTE: load the compiled kernels' BLAS now, so that the thread limit covers it
        from rnnkit.core.kernels import compiled_unavailable, split_counts

        compiled_unavailable()
        counts = split_counts
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # NumPy keeps its BLAS library's default
        limits = None
    else:
        limits = threadpool_limits(limits=threads, user_api="blas")
    # NOTE: the replies alone go to stdout; anything a library prints goes to stderr
    replies, sys.stdout = sys.stdout, sys.stderr
    fn: Callable[[], Any] | None = None
    for line in sys.stdin:
        cmd = json.loads(line)
        try:
            if "quit" in cmd:
                break
            if "setup" in cmd:
                fn, reply = _setup(framework, cmd["setup"])
            elif "run" in cmd:
                assert fn is not None, "run before setup"
                before = counts() if counts else {}
                t0 = time.perf_counter()
                for _ in range(int(cmd["run"])):
                    fn()
                reply = {"seconds": time.perf_counter() - t0}
                if counts:  # how the compiled kernels' rows were split
                    after = counts()
                    reply["splits"] = {k: after[k] - before[k] for k in before}
            elif "sgemm" in cmd:
                reply = {"gflops": _sgemm(framework, int(cmd["sgemm"]))}
            else:
                reply = {"error": f"unknown command {sorted(cmd)}"}
        except Exception as exc:  # the runner reports it; the worker stays up
            reply = {"error": f"{type(exc).__name__}: {exc}".splitlines()[0]}
        replies.write(json.dumps(reply) + "\n")
        replies.flush()
    del limits


if __name__ == "__main__":
    args = sys.argv[1:]
    if len(args) not in (2, 3) or args[0] not in FRAMEWORKS or args[2:] not in ([], ["no-onednn"]):
        sys.exit(
            f"usage: python -m rnnkit.bench.worker {{{','.join(FRAMEWORKS)}}} THREADS [no-onednn]"
        )
    serve(args[0], int(args[1]), onednn=args[2:] != ["no-onednn"])
