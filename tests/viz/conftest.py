"""Fixtures for the plotting tests: a small confusion matrix, and matplotlib made absent."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture
def cm3() -> tuple[np.ndarray, list[str]]:
    """A 3-class confusion matrix (rows = true) and its labels."""
    return np.array([[50, 3, 1], [4, 40, 6], [0, 7, 33]]), ["negative", "neutral", "positive"]
