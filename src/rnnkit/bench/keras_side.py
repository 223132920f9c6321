"""The benchmark's optional Keras column (Keras 3 on its torch backend)."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from rnnkit.bench.configs import BenchConfig, framework_layer
from rnnkit.bench.rnnkit_side import LR
from rnnkit.errors import ConfigError
from rnnkit.training import Batch

__all__ = ["keras_train_step_fn"]


def keras_train_step_fn(model: Any, batch: Batch, cfg: BenchConfig, cell: str) -> Callable[[], Any]:
    """``train_on_batch`` of the same network, the rnnkit `model`'s weights copied in.

    Keras's ``get_weights()`` layout is rnnkit's, so the weights copy one to one. The
    cell's Keras layer is its ``keras`` (ConfigError: not available, when Keras has none).
    """
    layer = framework_layer(cell, "keras")
    if layer is None:
        raise ConfigError(
            f"cell={cell!r} is not available in Keras: keras.layers has no such layer"
        )
    os.environ.setdefault("KERAS_BACKEND", "torch")
    import keras

    many = cfg.many_to_many
    net = keras.Sequential(
        [
            keras.Input((cfg.steps,), dtype="int64"),
            keras.layers.Embedding(cfg.vocab, cfg.embed),
            getattr(keras.layers, layer)(cfg.hidden, return_sequences=many),
            keras.layers.Dense(cfg.classes),
        ]
    )
    net.set_weights(model.get_weights())
    net.compile(
        optimizer=keras.optimizers.SGD(learning_rate=LR),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )

    def step() -> Any:
        return net.train_on_batch(batch.x, batch.y)

    return step
