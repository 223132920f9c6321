"""Peak memory of a training step, each framework measured in a process of its own.

``python -m rnnkit.bench.memory FRAMEWORK CELL CONFIG THREADS`` builds the model and
its batch, records the resident memory, resets the kernel's high-water mark
(``/proc/self/clear_refs``), runs three training steps and prints one JSON object:
``step_mib``, the peak resident memory during the steps above what the process held
before them (activations, gradients, workspace), and ``process_mib``, the peak of the
whole process (libraries included). On a system without ``/proc`` the peak is the
process's lifetime maximum (``getrusage``).
"""

from __future__ import annotations

import gc
import json
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

__all__ = ["measure_in_subprocess"]

FRAMEWORKS = ("rnnkit", "torch")
_STATUS = Path("/proc/self/status")


def _status_kib(key: str) -> int | None:
    try:
        for line in _STATUS.read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def _reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _measure(framework: str, cell: str, config: str, threads: int) -> dict[str, Any]:
    from rnnkit.bench.configs import find_config
    from rnnkit.bench.rnnkit_side import build_model, make_batch, train_step_fn
    from rnnkit.bench.threads import limit_threads

    cfg = find_config(config)
    model, batch = build_model(cfg, cell), make_batch(cfg)
    if framework == "torch":
        from rnnkit.bench.torch_side import build_torch, torch_train_step_fn

        net = build_torch(model, cfg, cell)
        del model  # only the torch copy of the weights stays
        step = torch_train_step_fn(net, batch, cfg)
    else:
        step = train_step_fn(model, batch)
    with limit_threads(threads):
        gc.collect()
        base = _status_kib("VmRSS") or 0
        exact = _reset_peak()
        for _ in range(3):
            step()
        peak = _status_kib("VmHWM") if exact else None
    if peak is None:  # getrusage: KiB on Linux
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"step_mib": max(peak - base, 0) / 1024, "process_mib": peak / 1024, "exact": exact}


def measure_in_subprocess(framework: str, cell: str, config: str, threads: int) -> dict[str, Any]:
    """Run :func:`_measure` in a fresh interpreter and return what it printed."""
    cmd = [sys.executable, "-m", "rnnkit.bench.memory", framework, cell, config, str(threads)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": last}
    return json.loads(done.stdout)


if __name__ == "__main__":
    framework, cell, config, threads = sys.argv[1:5]
    if framework not in FRAMEWORKS:
        sys.exit(f"framework must be one of {FRAMEWORKS}")
    print(json.dumps(_measure(framework, cell, config, int(threads))))
