"""The benchmark's PyTorch side: the same network with the same weights.

``nn.Embedding -> nn.RNN / nn.LSTM / nn.GRU -> nn.Linear`` (the cell's ``torch``
module in the middle; a cell without one is not available here), batch first,
float32, cross-entropy on logits (summed over steps and averaged over sequences for
many-to-many, as rnnkit does), ``torch.optim.SGD``. The weights are copied from the
rnnkit model through :mod:`rnnkit.io.interop`, so the two sides compute the same
function and their first losses agree.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from rnnkit.bench.configs import BenchConfig, framework_layer
from rnnkit.bench.rnnkit_side import LR
from rnnkit.errors import ConfigError
from rnnkit.io.interop import to_torch
from rnnkit.training import Batch

__all__ = ["build_torch", "torch_generation_fn", "torch_train_step_fn"]


def build_torch(model: Any, cfg: BenchConfig, cell: str, lm: bool = False) -> Any:
    """A torch module with the rnnkit `model`'s weights (see :func:`build_model`); the
    cell's ``torch.nn`` module (ConfigError: not available, when PyTorch has none)."""
    found = framework_layer(cell, "torch")
    if found is None:
        raise ConfigError(f"cell={cell!r} is not available in PyTorch: torch.nn has no such layer")
    module: str = found
    import torch
    from torch import nn

    emb_layer, rnn_layer, out_layer = model.layers
    many = cfg.many_to_many or lm

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.emb = nn.Embedding(cfg.vocab, cfg.embed)
            self.rnn = getattr(nn, module)(cfg.embed, cfg.hidden, batch_first=True)
            self.out = nn.Linear(cfg.hidden, out_layer.units)

        def forward(self, x: Any, state: Any = None) -> tuple[Any, Any]:
            seq, state = self.rnn(self.emb(x), state)  # (B, T, d)
            h = seq if many else seq[:, -1]  # every sequence is full length
            return self.out(h), state

    net = Net()
    with torch.no_grad():
        net.emb.weight.copy_(torch.from_numpy(emb_layer.params["E"]))
        for name, value in to_torch(cell, rnn_layer.params).items():
            getattr(net.rnn, name).copy_(torch.from_numpy(np.ascontiguousarray(value)))
        net.out.weight.copy_(torch.from_numpy(out_layer.params["V"].T.copy()))
        net.out.bias.copy_(torch.from_numpy(out_layer.params["c"]))
    return net


def torch_train_step_fn(net: Any, batch: Batch, cfg: BenchConfig) -> Callable[[], float]:
    """One training step: zero_grad, forward, cross-entropy, backward, SGD step."""
    import torch
    import torch.nn.functional as F

    x = torch.from_numpy(batch.x)
    assert batch.y is not None
    y = torch.from_numpy(batch.y).reshape(-1)
    B = cfg.batch
    optimizer = torch.optim.SGD(net.parameters(), lr=LR)

    def step() -> float:
        optimizer.zero_grad()
        logits, _ = net(x)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y, reduction="sum") / B
        loss.backward()
        optimizer.step()
        return loss.item()

    return step


def torch_generation_fn(net: Any, tokens: int, seed: int = 0) -> Callable[[], Any]:
    """The usual sampling loop at batch 1: one step, softmax, multinomial draw."""
    import torch

    def run() -> Any:
        gen = torch.Generator().manual_seed(seed)
        out = []
        with torch.no_grad():
            x, state = torch.ones((1, 1), dtype=torch.long), None
            for _ in range(tokens):
                logits, state = net(x, state)
                p = torch.softmax(logits[:, -1], dim=-1)
                x = torch.multinomial(p, 1, generator=gen)
                out.append(x)
        return out

    return run
