"""The trained models the exchange tests share (see tests/exported.py)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from exported import Trained, trainer


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Trained]:
    """trained(task, cell, bidirectional, layers) -> Trained, each trained once a session."""
    return trainer(tmp_path_factory)
