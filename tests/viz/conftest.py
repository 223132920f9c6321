"""Fixtures for the plotting tests: a small confusion matrix, and matplotlib made absent."""

from __future__ import annotations

import builtins

import numpy as np
import pytest


@pytest.fixture
def cm3() -> tuple[np.ndarray, list[str]]:
    """A 3-class confusion matrix (rows = true) and its labels."""
    return np.array([[50, 3, 1], [4, 40, 6], [0, 7, 33]]), ["negative", "neutral", "positive"]


@pytest.fixture
def no_matplotlib(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every ``import matplotlib...`` fail, as on an install without the extra."""
    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == "matplotlib" or name.startswith("matplotlib."):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
