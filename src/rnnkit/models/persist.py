"""Saving a Sequential to a model directory and rebuilding it, without pickle.

The architecture is stored as JSON (each layer's class name and constructor
arguments) and the weights as safetensors named ``"<layer>.<param>"``. Loading builds
the layers from a fixed table of known classes, so a model file can name only layers
rnnkit has, and it never executes code.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from rnnkit.errors import ConfigError, ModelFileError, RnnkitError
from rnnkit.io import WEIGHTS_FILE, ModelFiles, expect_shapes, save_model_dir
from rnnkit.layers import CRF, Dense
from rnnkit.layers.registry import layer_class
from rnnkit.models.heads import check_loss
from rnnkit.models.sequential import Sequential

__all__ = ["load_weights", "nested_items", "save_sequential", "sequential_from_files"]


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
    """Rebuild the Sequential described by a loaded model directory.

    ModelFileError naming config.json for an architecture that is malformed, names a
    layer rnnkit does not have, gives a size larger than every dimension of the saved
    tensors (which could otherwise ask for any amount of memory), passes states between
    layers, or names a loss that does not fit the output layer; then as
    :func:`load_weights`.
    """
    arch = files.config["architecture"]
    where = files.path / "config.json"
    try:
        specs = arch["layers"]
        _check_sizes(arch, files.weights, where)
        layers = []
        for spec in specs:
            try:
                cls = layer_class(spec["class"])
            except ConfigError:
                raise ModelFileError(f"{where}: unknown layer class {spec['class']!r}") from None
            layers.append(cls(**spec["config"]))
        model = Sequential(
            layers,
            input_dim=arch.get("input_dim"),
            seed=arch.get("seed", 0),
            name=arch.get("name", "sequential"),
        )
        loss = arch.get("loss")
        if loss is not None and (loss == "crf") != isinstance(model.output_layer, CRF):
            raise ModelFileError(f"{where}: a final CRF layer and loss 'crf' go together")
        if loss is not None and loss != "crf":
            out = model.output_layer
            if not isinstance(out, Dense):
                raise ModelFileError(f"{where}: a loss ({loss!r}) needs a final Dense layer")
            check_loss(loss, out.activation, out.units)
    except ModelFileError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, ArithmeticError, MemoryError) as exc:
        # NOTE: ArithmeticError: an initializer's scale of 1e308 overflows; MemoryError:
        # sizes within the bound of _check_sizes whose product is still too large.
        detail = exc.args[0] if isinstance(exc, RnnkitError) else f"{type(exc).__name__}: {exc}"
        raise ModelFileError(f"{where}: invalid architecture ({detail})") from None
    model.loss = loss
    load_weights(files, model.named_weights())
    return model


#: layer arguments that size a parameter
SIZE_KEYS = ("units", "input_dim", "output_dim", "depth", "score_units")


def _check_sizes(arch: Any, weights: dict[str, np.ndarray], where: Path) -> None:
    """Refuse sizes larger than any saved tensor's, and layers that return their states.

    Checked before any layer is built: building allocates every parameter, so a size
    of 2**40 would ask for terabytes before the weights could disagree. A size within
    the bound that does not fit is left to :func:`load_weights`, which names the tensor.
    """
    largest = max((d for tensor in weights.values() for d in tensor.shape), default=0)
    for key, value in nested_items(arch):
        if key in SIZE_KEYS and value is not None:
            if not isinstance(value, int) or isinstance(value, bool) or value > largest:
                raise ModelFileError(
                    f"{where}: invalid architecture ({key}={value!r}: no tensor in "
                    f"weights.safetensors has a dimension that large; the largest is {largest})"
                )
        if key == "return_state" and value is not False:
            raise ModelFileError(
                f"{where}: invalid architecture (return_state={value!r}: a Sequential "
                "passes one array from layer to layer)"
            )


def nested_items(value: Any) -> Iterator[tuple[str, Any]]:
    """Every (key, value) of the dicts nested in `value` (layers wrap layers)."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield key, item
            yield from nested_items(item)
    elif isinstance(value, list):
        for item in value:
            yield from nested_items(item)


def load_weights(files: ModelFiles, named: dict[str, np.ndarray]) -> None:
    """Copy a model directory's tensors into the `named` arrays of a network.

    ModelFileError unless the file holds exactly these names, shapes and dtypes, and
    then unless every file of the directory is as it was saved (:meth:`ModelFiles.verify`:
    checked last, so that a file edited by hand is named for what does not fit).
    """
    path = files.path / WEIGHTS_FILE
    expect_shapes(files.weights, {k: v.shape for k, v in named.items()}, path)
    for key, target in named.items():
        value = files.weights[key]
        if value.dtype != target.dtype:
            raise ModelFileError(
                f"{path}: tensor {key!r} is {value.dtype}, the architecture says {target.dtype}"
            )
    files.verify()
    for key, target in named.items():
        np.copyto(target, files.weights[key])
