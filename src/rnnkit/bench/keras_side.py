"""The benchmark's optional Keras column (Keras 3 on its torch backend)."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from rnnkit.bench.configs import BenchConfig
from rnnkit.bench.rnnkit_side import LR
from rnnkit.training import Batch

__all__ = ["keras_train_step_fn"]

CELLS = {"rnn": "SimpleRNN", "lstm": "LSTM", "gru": "GRU"}


def keras_train_step_fn(model: Any, batch: Batch, cfg: BenchConfig, cell: str) -> Callable[[], Any]:
    """``train_on_batch`` of the same network, the rnnkit `model`'s weights copied in.

    Keras's ``get_weights()`` layout is rnnkit's, so the weights copy one to one.
    """
    os.environ.setdefault("KERAS_BACKEND", "torch")
    import keras

    many = cfg.many_to_many
    net = keras.Sequential(
        [
            keras.Input((cfg.steps,), dtype="int64"),
            keras.layers.Embedding(cfg.vocab, cfg.embed),
            getattr(keras.layers, CELLS[cell])(cfg.hidden, return_sequences=many),
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
