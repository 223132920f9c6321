"""The same thread count for both sides: NumPy's BLAS pool and PyTorch's intra-op pool."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["available_cores", "blas_info", "limit_threads"]


def available_cores() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


@contextmanager
def limit_threads(n: int) -> Iterator[None]:
    """Run the body with `n` BLAS threads for NumPy (threadpoolctl) and for PyTorch."""
    torch = sys.modules.get("torch")
    before = torch.get_num_threads() if torch is not None else None
    if torch is not None:
        torch.set_num_threads(n)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # NumPy keeps its library's default (all cores)
        yield
    else:
        with threadpool_limits(limits=n, user_api="blas"):
            yield
    finally:
        if torch is not None and before is not None:
            torch.set_num_threads(before)


def blas_info() -> list[dict[str, object]]:
    """The BLAS libraries loaded, with their kernels and threads (threadpoolctl)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    keys = ("internal_api", "version", "architecture", "num_threads", "prefix")
    return [{k: lib.get(k) for k in keys} for lib in threadpool_info()]
