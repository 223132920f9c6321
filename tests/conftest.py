"""Settings every test shares: Keras on the PyTorch backend, PyTorch on one thread.

The reference libraries are optional: a test that asks for the ``torch`` or ``keras``
fixture is skipped where the library is not installed.
"""

from __future__ import annotations

import builtins
import os
from types import ModuleType

import pytest

# NOTE: Keras reads its backend once, at its first import; this file is imported before
# any test module, so the parity tests get Keras on PyTorch unless the caller chose.
os.environ.setdefault("KERAS_BACKEND", "torch")


@pytest.fixture(scope="session")
def torch() -> ModuleType:
    """PyTorch, on one thread: tiny tensors gain nothing from threads, and the
    order of floating-point sums stays the same from run to run."""
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    return torch


@pytest.fixture(scope="session")
def keras(request: pytest.FixtureRequest) -> ModuleType:
    """Keras 3 on the backend named by KERAS_BACKEND (PyTorch by default)."""
    if os.environ["KERAS_BACKEND"] == "torch":
        request.getfixturevalue("torch")  # import torch first, on one thread
    return pytest.importorskip("keras")


@pytest.fixture
def no_matplotlib(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every ``import matplotlib...`` fail, as on an install without the extra."""
    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == "matplotlib" or name.startswith("matplotlib."):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)


def _compiled_or_skip() -> None:
    """Skip, saying why, where the compiled recurrences are absent; with
    RNNKIT_REQUIRE_KERNELS=1 (CI builds them) fail instead."""
    from rnnkit.core.kernels import compiled_unavailable

    reason = compiled_unavailable()
    if reason and os.environ.get("RNNKIT_REQUIRE_KERNELS") == "1":
        pytest.fail(f"RNNKIT_REQUIRE_KERNELS=1 but {reason}")
    if reason:
        pytest.skip(f"compiled kernels: {reason}")


@pytest.fixture
def compiled() -> None:
    """The compiled recurrences must be present (rnnkit.core.kernels)."""
    _compiled_or_skip()


@pytest.fixture(params=["numpy", "compiled"])
def kernels(request: pytest.FixtureRequest):
    """Run the test on each path of the recurrences (rnnkit.core.kernels)."""
    from rnnkit.core.kernels import use_kernels

    if request.param == "compiled":
        _compiled_or_skip()
    with use_kernels(request.param):
        yield request.param
