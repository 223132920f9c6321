"""The benchmark's configurations and the arithmetic each training step does.

A configuration is one model and one batch: an embedding of a vocabulary of `vocab`
ids into `embed` features, one recurrent layer of `hidden` units, and a Dense output
of `classes` units read from the last state (many-to-one: sentiment) or from every
step (many-to-many: tagging, language models). Every cell runs every configuration:
every cell of :mod:`rnnkit.core.cells`, on each side that has a layer for it
(:func:`framework_layer`).

The FLOP count is that of the matrix products of one training step, forward and
backward, 2 FLOPs a multiply-add. With g the cell's gate count (1 tanh RNN, 4 LSTM,
3 GRU: ``Cell.step_flops``) and n_out the rows the output layer sees (B, or T*B for
many-to-many):

    forward   2 T B e (g d)     input projection x_t U
            + 2 T B d (g d)     recurrence h_{t-1} W
            + 2 n_out d k       output layer V
    backward  twice the forward: the gradients of the weights and of the inputs

so a step costs three forward passes. Elementwise work is left out, as is customary.

>>> cfg = CONFIGS[0]
>>> cfg.name, cfg.tokens
('tiny', 320)
>>> large = find_config("large")
>>> round(step_flops(large, "rnn") / 1e9, 1)        # GFLOP of one training step
100.7
>>> round(step_flops(large, "lstm") / step_flops(large, "rnn"), 2)   # four gate blocks
4.0
>>> framework_layer("gru", "torch"), framework_layer("gru", "keras")
('GRU', 'GRU')
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from rnnkit.core.cells import get_cell
from rnnkit.errors import ConfigError

__all__ = [
    "CONFIGS",
    "QUICK",
    "BenchConfig",
    "find_config",
    "framework_layer",
    "step_flops",
]


@dataclass(frozen=True)
class BenchConfig:
    """One model and one batch shape."""

    name: str
    batch: int  # B, sequences per batch
    steps: int  # T, steps per sequence (every sequence full length)
    hidden: int  # d, units of the recurrent layer
    vocab: int  # N, ids of the input vocabulary
    embed: int  # e, embedding size
    classes: int  # k, units of the output layer
    many_to_many: bool  # output at every step (True) or from the last state

    @property
    def tokens(self) -> int:
        """Input tokens in one batch, B * T."""
        return self.batch * self.steps

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


#: small to large; the vocabularies of a character model (65) to a word model (10,000)
CONFIGS = (
    BenchConfig("tiny", 16, 20, 32, 65, 16, 65, True),
    BenchConfig("sentiment", 32, 40, 128, 10_000, 100, 2, False),
    BenchConfig("tagger", 32, 25, 128, 10_000, 100, 17, True),
    BenchConfig("char-lm", 64, 64, 256, 65, 64, 65, True),
    BenchConfig("medium", 64, 100, 512, 10_000, 128, 2, False),
    BenchConfig("large", 128, 100, 1024, 10_000, 256, 2, False),
)
#: the subset `--quick` runs
QUICK = ("tiny", "sentiment")


def find_config(name: str) -> BenchConfig:
    """The configuration called `name`."""
    for cfg in CONFIGS:
        if cfg.name == name:
            return cfg
    names = ", ".join(c.name for c in CONFIGS)
    raise ConfigError(f"config={name!r} is not one of {names}")


def step_flops(cfg: BenchConfig, cell: str) -> int:
    """FLOPs of the matrix products of one training step (forward and backward)."""
    T, B, d, e, k = cfg.steps, cfg.batch, cfg.hidden, cfg.embed, cfg.classes
    n_out = T * B if cfg.many_to_many else B
    forward = T * B * get_cell(cell).step_flops(e, d) + 2 * n_out * d * k
    return 3 * forward


def framework_layer(cell: str, framework: str) -> str | None:
    """The layer that runs `cell` on the `framework` side: rnnkit's cell name, PyTorch's
    ``torch.nn`` module or Keras's layer (the cell's ``torch``, ``keras``); None when
    that framework has none, and the cell is not available there."""
    described = get_cell(cell)
    layers = {"rnnkit": described.name, "torch": described.torch, "keras": described.keras}
    if framework not in layers:
        raise ConfigError(f"framework={framework!r} is not one of {', '.join(layers)}")
    return layers[framework]
