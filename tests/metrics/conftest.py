"""Fixtures for the metrics tests: the lecture's six-review example and a seeded RNG."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture
def lecture_example() -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Truth, predictions and labels of the lecture's example: 4 of 6 right."""
    y_true = np.array([1, 0, 0, 0, 1, 1])
    y_pred = np.array([1, 0, 1, 0, 1, 0])
    return y_true, y_pred, ["negative", "positive"]


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20240607)
