"""From ``rnnkit train`` flags to a task model's settings, checked.

Every model flag defaults to "not given", so the defaults live in one place: the task
model's ``DEFAULTS``. A flag that does not apply to the task is refused.
"""

from __future__ import annotations

import argparse
from typing import Any

from rnnkit.data.splits import split_indices
from rnnkit.errors import ConfigError

__all__ = ["model_settings", "split_indices"]

#: train flag (argparse dest) -> setting name
FLAG_TO_SETTING = {
    "cell": "cell",
    "hidden": "hidden",
    "layers": "layers",
    "bidirectional": "bidirectional",
    "activation": "activation",
    "pooling": "pooling",
    "embed": "embed_dim",
    "one_hot": "one_hot",
    "level": "level",
    "min_freq": "min_freq",
    "standardize": "standardize",
    "forecast": "forecast",
    "bptt": "bptt",
    "stateful": "stateful",
    "max_vocab": "max_vocab",
    "dropout": "dropout",
    "embed_dropout": "embed_dropout",
    "word_dropout": "word_dropout",
    "epochs": "epochs",
    "batch_size": "batch_size",
    "lr": "lr",
    "lr_decay": "lr_decay",
    "optimizer": "optimizer",
    "clip": "clip_norm",
    "patience": "patience",
    "seed": "seed",
    "max_minutes": "max_minutes",
    "max_len": "max_len",
    "attention": "attention",
    "decoder_cell": "decoder_cell",
    "decoder_hidden": "decoder_hidden",
    "decoder_layers": "decoder_layers",
    "sampling_ratio": "sampling_ratio",
    "beam": "beam",
    "length_penalty": "length_penalty",
}
POSITIVE = (
    "hidden",
    "layers",
    "embed",
    "epochs",
    "batch_size",
    "lr",
    "min_freq",
    "bptt",
    "max_vocab",
    "patience",
    "max_minutes",
    "decoder_hidden",
    "decoder_layers",
    "beam",
    "forecast",
    "max_len",
)
FRACTIONS = ("dropout", "embed_dropout", "word_dropout")


def _flag(dest: str) -> str:
    return "--" + dest.replace("_", "-")


def model_settings(
    args: argparse.Namespace,
    defaults: dict[str, Any],
    task: str,
    data_flags: tuple[str, ...] = (),
) -> dict[str, Any]:
    """The settings the flags give (None = not given), checked and named as the model names them.

    `data_flags` are read by the task's data reader, not passed on as settings.
    """
    settings: dict[str, Any] = {}
    for dest, key in FLAG_TO_SETTING.items():
        if dest in data_flags:
            continue
        value = getattr(args, dest, None)
        if value is None or (dest == "one_hot" and value is False):
            continue
        if key not in defaults:
            raise ConfigError(f"{_flag(dest)} does not apply to --task {task}")
        if dest in POSITIVE and not value > 0:
            raise ConfigError(f"{_flag(dest)} {value}: must be positive")
        if dest == "sampling_ratio" and not 0.0 <= value <= 1.0:
            raise ConfigError(f"--sampling-ratio {value}: must lie in [0, 1]")
        if dest == "length_penalty" and not value >= 0:
            raise ConfigError(f"--length-penalty {value}: must be >= 0")
        if dest in FRACTIONS and not 0.0 <= value < 1.0:
            raise ConfigError(f"{_flag(dest)} {value}: must lie in [0, 1)")
        if dest == "lr_decay" and not 0.0 <= value < 1.0:
            raise ConfigError(f"--lr-decay {value}: must lie in [0, 1) (0 turns it off)")
        if dest == "clip" and value < 0:
            raise ConfigError(f"--clip {value}: must be >= 0 (0 turns clipping off)")
        if dest in ("lr_decay", "clip"):
            value = value or None  # 0 turns it off
        settings[key] = value
    return settings
