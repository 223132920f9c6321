"""Shared fixtures for the tests of rnnkit.io: tiny weights, saved models, hostile files."""

from __future__ import annotations

import json
import os
import pickle
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rnnkit.io import save_model_dir, save_weights
from tiny_models import Saved, save_all


@pytest.fixture
def arrays() -> dict[str, np.ndarray]:
    """Parameters of a tiny RNN in float32 and float64, with values that test exactness."""
    rng = np.random.default_rng(0)
    special = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 5e-324, 1e308, 1 / 3])
    return {
        "rnn.U": rng.normal(size=(5, 3)).astype(np.float32),
        "rnn.W": rng.normal(size=(3, 3)).astype(np.float32),
        "rnn.b": np.array([1e-45, -0.0, np.float32(1) / 3], dtype=np.float32),
        "dense.V": rng.normal(size=(3, 2)),
        "dense.c": special,
        "embedding.ids": np.arange(4, dtype=np.int64),
    }


@pytest.fixture
def weights_path(tmp_path: Path, arrays: dict[str, np.ndarray]) -> Path:
    """A valid weights.safetensors holding `arrays`."""
    path = tmp_path / "weights.safetensors"
    save_weights(path, arrays)
    return path


@pytest.fixture
def model_path(tmp_path: Path, arrays: dict[str, np.ndarray]) -> Path:
    """A complete model directory with weights, a vocabulary and one extra JSON file."""
    return save_model_dir(
        tmp_path / "model",
        config={"task": "classify", "architecture": {"cell": "rnn", "units": 3}},
        weights=arrays,
        vocab={"tokens": ["<pad>", "movie", "was", "good"]},
        extra_json={"labels.json": {"labels": ["neg", "pos"]}},
    )


@pytest.fixture
def edit_config(model_path: Path) -> Callable[[Callable[[Any], Any]], Path]:
    """Rewrite the model's config.json through a function of the parsed config."""

    def edit(change: Callable[[Any], Any]) -> Path:
        path = model_path / "config.json"
        config = json.loads(path.read_text(encoding="utf-8"))
        path.write_text(json.dumps(change(config)), encoding="utf-8")
        return model_path

    return edit


class _TouchOnUnpickle:
    """Unpickling this runs ``os.mkdir(marker)``: proof that code was executed."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (os.mkdir, (str(self.marker),))


@pytest.fixture
def pickle_bomb() -> Callable[[Path, int], bytes]:
    """Pickle bytes (of a given protocol) that create `marker` when unpickled."""

    def make(marker: Path, protocol: int) -> bytes:
        return pickle.dumps({"rnn.U": _TouchOnUnpickle(marker)}, protocol=protocol)

    return make


@pytest.fixture
def temp_files() -> Callable[[Path], list[str]]:
    """Names of leftover temporary files (``.<name>.*.tmp``) in a directory."""

    def find(directory: Path) -> list[str]:
        return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))

    return find


@pytest.fixture(scope="session")
def raw_safetensors() -> Callable[..., bytes]:
    """Build a safetensors file by hand, for dtypes and layouts save_weights refuses."""

    def build(header: Any, data: bytes = b"") -> bytes:
        text = json.dumps(header).encode("utf-8")
        return struct.pack("<Q", len(text)) + text + data

    return build


@pytest.fixture(scope="session")
def saved(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Saved]:
    """A tiny model of every task, trained and saved once (copy before damaging one)."""
    return save_all(tmp_path_factory.mktemp("models"))
