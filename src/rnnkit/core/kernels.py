"""Which recurrences run: the NumPy reference or the compiled kernels, and loading the latter.

The time loops of :mod:`rnnkit.core.rnn`, :mod:`rnnkit.core.lstm` and
:mod:`rnnkit.core.gru` are NumPy code: each step is a product ``h_{t-1} W`` and a dozen
element-wise calls on (B, d) blocks, and at small sizes the calls' overhead costs more
than their arithmetic. The same loops exist in C (``csrc/recurrence.c``): one GEMM per
gate and step, then one vectorised pass over the gates. They are built into a library
when rnnkit is installed where a C compiler exists, and call single- and
double-precision GEMM from the OpenBLAS inside NumPy's wheel (the library NumPy's own
products use), or else from SciPy's BLAS (``scipy.linalg.cython_blas``).

One switch chooses the path: the environment variable ``RNNKIT_KERNELS`` ("numpy" or
"compiled"), read when the kernels are first needed, or :func:`use_kernels` for a
block of code. By default the compiled path runs when it is present. Asking for it
when it is absent is a :class:`~rnnkit.errors.ConfigError` naming why.

With NumPy's OpenBLAS, loading the kernels also hands OpenBLAS's parallel products to
the kernels' team of threads (``csrc/team.h``), which then splits recurrences by rows
or units as well (:func:`rnnkit.core.recurrences.kernel_parts`): one set of threads for both, so
that neither spins on the core the other needs. ``RNNKIT_THREADS=blas`` leaves the
products to OpenBLAS's own threads and every batch in one loop.

>>> kernel_path() in ("numpy", "compiled")
True
>>> with use_kernels("numpy"):
...     kernel_path()
'numpy'
>>> with use_kernels("fortran"):
...     pass
Traceback (most recent call last):
...
rnnkit.errors.ConfigError: kernels='fortran' is not one of numpy, compiled
"""

from __future__ import annotations

import ctypes
import importlib.machinery
import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

import numpy as np

from rnnkit.errors import ConfigError

__all__ = [
    "KERNEL_PATHS",
    "blas_threads",
    "compiled_function",
    "compiled_library",
    "compiled_unavailable",
    "kernel_path",
    "pointer",
    "split_counts",
    "team_threads",
    "thread_mode",
    "use_kernels",
    "use_team",
]

#: the values of RNNKIT_KERNELS, the reference first
KERNEL_PATHS = ("numpy", "compiled")
#: the shared library's name, beside this module (setup.py builds it)
LIBRARY = "recurrence_kernels"
#: the version the library reports: a build of other sources is not used
ABI_VERSION = 15
#: the path chosen by use_kernels, over RNNKIT_KERNELS while a block runs
_chosen: list[str] = []


def _checked(name: str, source: str) -> str:
    if name not in KERNEL_PATHS:
        raise ConfigError(f"{source}={name!r} is not one of {', '.join(KERNEL_PATHS)}")
    return name


def kernel_path() -> str:
    """The path the recurrences take now: "compiled" or "numpy".

    :func:`use_kernels` first, then ``RNNKIT_KERNELS``, then "compiled" when it is
    built and loads, else "numpy". A ConfigError when "compiled" is asked for and
    cannot run.
    """
    if _chosen:
        name = _chosen[-1]
    elif os.environ.get("RNNKIT_KERNELS"):
        name = _checked(os.environ["RNNKIT_KERNELS"].strip(), "RNNKIT_KERNELS")
    else:
        return "numpy" if compiled_unavailable() else "compiled"
    if name == "compiled" and compiled_unavailable():
        raise ConfigError(f"the compiled kernels were asked for but {compiled_unavailable()}")
    return name


@contextmanager
def use_kernels(name: str) -> Iterator[str]:
    """Run a ``with`` block on one path, "numpy" or "compiled" (nested blocks allowed)."""
    _chosen.append(_checked(name, "kernels"))
    try:
        yield kernel_path()
    finally:
        _chosen.pop()


def compiled_unavailable() -> str:
    """Why the compiled kernels cannot run ("" when they can)."""
    return _load()[1]


def compiled_library() -> ctypes.CDLL | None:
    """The loaded kernels when the compiled path is chosen, else None."""
    if kernel_path() != "compiled":
        return None
    return _load()[0]


#: every compiled function is built once per dtype, its name ending in one of these
DTYPE_SUFFIX = {np.dtype(np.float32): "f32", np.dtype(np.float64): "f64"}


def compiled_function(name: str, dtype: np.dtype | type):
    """The compiled `name` for arrays of `dtype` (``rnn_forward``, ``rows_add``, ...), or
    None where the compiled path is off or absent, or does not cover the dtype."""
    lib = compiled_library()
    suffix = DTYPE_SUFFIX.get(np.dtype(dtype))
    return None if lib is None or suffix is None else getattr(lib, f"{name}_{suffix}")


@cache
def _load() -> tuple[ctypes.CDLL | None, str]:
    """(the library, "") or (None, the reason it cannot be used), once per process."""
    here = Path(__file__).parent
    found = [here / (LIBRARY + s) for s in importlib.machinery.EXTENSION_SUFFIXES]
    found = [p for p in found if p.exists()]
    if not found:
        return None, "they are not built (pip install a source tree where gcc exists)"
    blas = _numpy_blas() or _scipy_blas()
    if blas is None:
        return None, "no BLAS was found for them (NumPy's OpenBLAS, or SciPy: pip install scipy)"
    try:
        lib = ctypes.CDLL(str(found[0]))
    except OSError as exc:
        return None, f"{found[0].name} does not load: {exc}"
    if lib.rnnkit_kernels_version() != ABI_VERSION:
        return None, f"{found[0].name} is a stale build (rebuild: pip install -e .)"
    lib.rnnkit_set_blas.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int]
    lib.rnnkit_set_blas(*blas)
    _declare(lib)
    _start_team(lib)
    return lib, ""


#: how long (microseconds) a worker of the team spins for the next job before it sleeps:
#: long enough to span the Python between the products of a training step and between
#: its batches (a wake-up from sleep costs tens of microseconds on an idle machine and
#: milliseconds on a busy one), a fifth of the time OpenBLAS's own threads spin
TEAM_SPIN_US = 20_000
#: the values of RNNKIT_THREADS: the team (default) or OpenBLAS's own threads
THREAD_MODES = ("team", "blas")
_team = {"on": False}


def _start_team(lib: ctypes.CDLL) -> None:
    """Hand OpenBLAS's parallel products to the kernels' team of threads, when NumPy's
    OpenBLAS is the BLAS and ``RNNKIT_THREADS`` is not "blas"."""
    blas = _numpy_openblas()
    lib.rnnkit_team_config.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_long]
    lib.rnnkit_team_workers.restype = ctypes.c_int
    lib.rnnkit_team_sleepers.restype = ctypes.c_int
    lib.rnnkit_team_blas_calls.restype = ctypes.c_long
    if blas is None:
        return
    mode = os.environ.get("RNNKIT_THREADS", "team").strip() or "team"
    if mode not in THREAD_MODES:
        raise ConfigError(f"RNNKIT_THREADS={mode!r} is not one of {', '.join(THREAD_MODES)}")
    address = ctypes.c_void_p
    get = address.from_buffer(blas.scipy_openblas_get_num_threads64_).value
    put = address.from_buffer(blas.scipy_openblas_set_num_threads64_).value
    lib.rnnkit_team_config(get, put, TEAM_SPIN_US)
    if mode == "team":
        _set_team(lib, True)


def _set_team(lib: ctypes.CDLL, on: bool) -> None:
    """OpenBLAS's parallel products on the team (True) or on its own threads."""
    blas = _numpy_openblas()
    assert blas is not None
    jobs = ctypes.c_void_p.from_buffer(lib.rnnkit_blas_jobs).value if on else None
    blas.scipy_openblas_set_threads_callback_function64_.argtypes = [ctypes.c_void_p]
    blas.scipy_openblas_set_threads_callback_function64_(jobs)
    _team["on"] = on


def thread_mode() -> str:
    """Who runs OpenBLAS's parallel products: "team" (the kernels' team, which also runs
    split recurrences) or "blas" (OpenBLAS's own threads; every batch in one loop)."""
    _load()
    return "team" if _team["on"] else "blas"


def team_threads() -> int:
    """Threads a compiled kernel may split a batch's rows over: BLAS's thread count when
    the team runs OpenBLAS's products too, else 1 (the rows in one loop)."""
    if not _team["on"]:
        return 1
    return blas_threads()


def split_counts() -> dict[str, int]:
    """Since the kernels loaded: kernels split over the team ("split"), splits that did
    not pay ("missed": the caller ran every part, or waited long for a worker) and
    kernels run in one loop while splitting backed off after misses ("skipped");
    zeros without the compiled library."""
    lib = compiled_library()
    out = (ctypes.c_long * 3)()
    if lib is not None:
        lib.rnnkit_team_split_counts(out)
    return dict(zip(("split", "missed", "skipped"), (int(n) for n in out), strict=True))


@contextmanager
def use_team(on: bool) -> Iterator[bool]:
    """Run a block with OpenBLAS's products and the kernels' rows on the team (True) or
    with OpenBLAS's own threads and every batch in one loop (False); the benchmarks
    compare the two. NOTE: process-wide while the block runs."""
    lib = _load()[0]
    if lib is None or _numpy_openblas() is None:
        yield False
        return
    before = _team["on"]
    _set_team(lib, on)
    try:
        yield on
    finally:
        _set_team(lib, before)


def _numpy_blas() -> tuple[int, int, int] | None:
    """(sgemm, dgemm, 1) from the OpenBLAS in NumPy's wheel (64-bit integers), if it is one.

    NOTE: the same library NumPy's matmul calls, already loaded: the same kernels and the
    same thread pool, which threadpoolctl limits along with NumPy's.
    """
    blas = _numpy_openblas()
    if blas is None:
        return None
    address = ctypes.c_void_p
    sgemm, dgemm = blas.scipy_sgemm_64_, blas.scipy_dgemm_64_
    return address.from_buffer(sgemm).value or 0, address.from_buffer(dgemm).value or 0, 1


def blas_threads() -> int:
    """The threads the kernels' BLAS may use for one product (NumPy's OpenBLAS, as
    ``OPENBLAS_NUM_THREADS`` or threadpoolctl set them); 1 where it cannot be asked."""
    blas = _numpy_openblas()
    return int(blas.scipy_openblas_get_num_threads64_()) if blas is not None else 1


@cache
def _numpy_openblas() -> ctypes.CDLL | None:
    """The OpenBLAS in NumPy's wheel, with the symbols rnnkit calls, if it is one."""
    libs = Path(np.__file__).parent.parent / "numpy.libs"
    for path in sorted(libs.glob("libscipy_openblas64_*")):
        try:
            blas = ctypes.CDLL(str(path))
            for name in ("scipy_sgemm_64_", "scipy_dgemm_64_"):
                getattr(blas, name)  # AttributeError: not the library wanted
            blas.scipy_openblas_get_num_threads64_.restype = ctypes.c_int
        except (OSError, AttributeError):
            continue
        return blas
    return None


def _scipy_blas() -> tuple[int, int, int] | None:
    """(sgemm, dgemm, 0) from SciPy's BLAS (``scipy.linalg.cython_blas``), if installed."""
    try:
        from scipy.linalg import cython_blas  # here: SciPy takes a while to import
    except ImportError:
        return None
    capi = cython_blas.__pyx_capi__
    return _capsule_pointer(capi["sgemm"]), _capsule_pointer(capi["dgemm"]), 0


def _capsule_pointer(capsule: object) -> int:
    """The C function pointer a Cython ``__pyx_capi__`` capsule holds."""
    api = ctypes.pythonapi
    api.PyCapsule_GetName.restype = ctypes.c_char_p
    api.PyCapsule_GetName.argtypes = [ctypes.py_object]
    api.PyCapsule_GetPointer.restype = ctypes.c_void_p
    api.PyCapsule_GetPointer.argtypes = [ctypes.py_object, ctypes.c_char_p]
    return int(api.PyCapsule_GetPointer(capsule, api.PyCapsule_GetName(capsule)))


#: each kernel's arguments after (parts, T, B, d): "p" a pointer (an array or NULL), "i"
#: an int, "l" a long
SIGNATURES = {
    "rnn_forward": "pppp",
    "rnn_backward": "pppppppp",
    "lstm_forward": "pppppilppp",
    "lstm_backward": "pppppppppippp",
    "gru_forward": "ppppilppippp",
    "gru_backward": "pppppppipipppp",
}


#: the helpers' arguments (no part count, no sizes first): "r" a scalar of the
#: function's own dtype
ROW_SIGNATURES = {"rows_add": "lpplpplr", "rows_sgd": "lppplr", "transpose": "llpp"}


def _declare(lib: ctypes.CDLL) -> None:
    """argtypes for every kernel, both dtypes, so ctypes checks each call."""
    kinds = {"p": ctypes.c_void_p, "i": ctypes.c_int, "l": ctypes.c_long}
    for suffix, real in (("f32", ctypes.c_float), ("f64", ctypes.c_double)):
        for name, args in SIGNATURES.items():
            fn = getattr(lib, f"{name}_{suffix}")
            fn.argtypes = [ctypes.c_int] * 4 + [kinds[a] for a in args]
            fn.restype = None
        for name, args in ROW_SIGNATURES.items():
            fn = getattr(lib, f"{name}_{suffix}")
            fn.argtypes = [real if a == "r" else kinds[a] for a in args]
            fn.restype = None


def pointer(a: np.ndarray | None) -> int | None:
    """An array's data address for a kernel (None, i.e. NULL, for no array).

    Read through the buffer protocol where the array is writable and contiguous (every
    buffer a kernel writes), 0.4 us against 1.3 us for ``a.ctypes.data``, which builds
    an object each time: a training step takes a few dozen addresses.
    """
    if a is None:
        return None
    try:
        return ctypes.addressof(ctypes.c_char.from_buffer(a))  # type: ignore[arg-type]
    except (TypeError, ValueError, BufferError):  # read-only, strided or empty
        return a.ctypes.data
