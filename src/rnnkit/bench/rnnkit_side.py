"""The benchmark's rnnkit side: the model, a batch, one training step, generation."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from rnnkit.bench.configs import BenchConfig
from rnnkit.layers import Dense, Embedding, cell_layer
from rnnkit.models import Sequential, generate
from rnnkit.training import SGD, Batch

__all__ = ["LR", "build_model", "generation_fn", "make_batch", "train_step_fn"]

Array = np.ndarray
#: the SGD learning rate of both sides (small, so timed steps stay far from overflow)
LR = 0.01


def build_model(cfg: BenchConfig, cell: str, seed: int = 0, lm: bool = False) -> Sequential:
    """Embedding -> the cell's layer -> Dense (softmax), compiled with SGD, no clipping.

    With `lm` the output has one unit per vocabulary id at every step: the model
    generation samples from.
    """
    many = cfg.many_to_many or lm
    model = Sequential(
        [
            Embedding(cfg.vocab, cfg.embed),
            cell_layer(cell)(cfg.hidden, return_sequences=many),
            Dense(cfg.vocab if lm else cfg.classes, "softmax"),
        ],
        seed=seed,
    )
    model.compile(SGD(lr=LR), loss="sparse_categorical_crossentropy", clip_norm=None)
    return model


def make_batch(cfg: BenchConfig, seed: int = 0) -> Batch:
    """Random ids and targets; every sequence is full length (no padding)."""
    rng = np.random.default_rng(seed)
    B, T = cfg.batch, cfg.steps
    x = rng.integers(0, cfg.vocab, size=(B, T))
    y = rng.integers(0, cfg.classes, size=(B, T) if cfg.many_to_many else B)
    return Batch(x, np.ones((B, T), dtype=bool), np.full(B, T), y, np.arange(B))


def train_step_fn(model: Sequential, batch: Batch) -> Callable[[], float]:
    """One training step: zero the gradients, forward, loss, BPTT, SGD update."""
    assert model.optimizer is not None
    optimizer = model.optimizer

    def step() -> float:
        model.zero_grad()
        result = model.train_batch(batch)
        optimizer.step(model.param_slots())
        return result.loss_sum / result.n_sequences

    return step


def generation_fn(model: Sequential, tokens: int, seed: int = 0) -> Callable[[], Array]:
    """Sample `tokens` ids at batch 1 after a one-token prime, temperature 1."""

    def run() -> Array:
        return generate(model, [1], tokens, rng=np.random.default_rng(seed))

    return run
