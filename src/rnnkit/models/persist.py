"""Saving a Sequential to a model directory and rebuilding it, without pickle.

The architecture is stored as JSON (each layer's class name and constructor
arguments) and the weights as safetensors named ``"<layer>.<param>"``. Loading builds
the layers from a fixed table of known classes, so a model file can name only layers
rnnkit has, and it never executes code.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from rnnkit.errors import ModelFileError, RnnkitError
from rnnkit.io import WEIGHTS_FILE, ModelFiles, expect_shapes, save_model_dir
from rnnkit.layers import LAYERS
from rnnkit.models.sequential import Sequential

__all__ = ["load_weights", "save_sequential", "sequential_from_files"]


def save_sequential(
    model: Sequential,
    directory: str | os.PathLike[str],
    *,
    task: str,
    training: dict[str, Any] | None = None,
    vocab: dict | None = None,
    extra_json: dict[str, dict] | None = None,
) -> Path:
    """Write `model` as a model directory (see :mod:`rnnkit.io.model_dir`)."""
    config = {"task": task, "architecture": model.get_config(), "training": training or {}}
    return save_model_dir(
        directory, config=config, weights=model.named_weights(), vocab=vocab, extra_json=extra_json
    )


def sequential_from_files(files: ModelFiles) -> Sequential:
    """Rebuild the Sequential described by a loaded model directory."""
    arch = files.config["architecture"]
    where = files.path / "config.json"
    try:
        specs = arch["layers"]
        layers = []
        for spec in specs:
            cls = LAYERS.get(spec["class"])
            if cls is None:
                raise ModelFileError(f"{where}: unknown layer class {spec['class']!r}")
            layers.append(cls(**spec["config"]))
        model = Sequential(
            layers,
            input_dim=arch.get("input_dim"),
            seed=arch.get("seed", 0),
            name=arch.get("name", "sequential"),
        )
    except ModelFileError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        detail = exc.args[0] if isinstance(exc, RnnkitError) else f"{type(exc).__name__}: {exc}"
        raise ModelFileError(f"{where}: invalid architecture ({detail})") from None
    model.loss = arch.get("loss")
    load_weights(files, model.named_weights())
    return model


def load_weights(files: ModelFiles, named: dict[str, np.ndarray]) -> None:
    """Copy a model directory's tensors into the `named` arrays of a network.

    ModelFileError unless the file holds exactly these names, shapes and dtypes.
    """
    path = files.path / WEIGHTS_FILE
    expect_shapes(files.weights, {k: v.shape for k, v in named.items()}, path)
    for key, target in named.items():
        value = files.weights[key]
        if value.dtype != target.dtype:
            raise ModelFileError(
                f"{path}: tensor {key!r} is {value.dtype}, the architecture says {target.dtype}"
            )
        np.copyto(target, value)
