"""``rnnkit generate DIR --prime "ROMEO:"``: sample text from a saved language model."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from rnnkit.cli.train_flags import non_negative
from rnnkit.errors import ConfigError
from rnnkit.models import LanguageModel, load_model

__all__ = ["add_parser", "run"]


def add_parser(sub: Any) -> argparse.ArgumentParser:
    """The ``generate`` verb."""
    g = sub.add_parser("generate", help="sample text from a saved language model")
    g.add_argument("model_dir", help="a language model's directory (rnnkit train --task lm)")
    g.add_argument("--prime", default="", help="text to start from (default: a line start)")
    g.add_argument("--length", type=int, default=500, help="tokens to generate (500)")
    g.add_argument(
        "--temperature", type=float, default=1.0, help="below 1 safer, above 1 wilder; 0 greedy"
    )
    g.add_argument("--top-k", type=int, help="sample among the K most likely tokens only")
    g.add_argument("--seed", type=int, help="same seed, same text (default: a fresh one)")
    return g


def run(args: argparse.Namespace) -> int:
    """The prime, then the sample as it is made."""
    if args.length <= 0:
        raise ConfigError(f"--length {args.length}: must be positive")
    if not args.temperature >= 0:
        raise ConfigError(f"--temperature {args.temperature}: must be >= 0 (0 is greedy)")
    if args.top_k is not None and args.top_k < 1:
        raise ConfigError(f"--top-k {args.top_k}: must be at least 1")
    if args.seed is not None:
        non_negative("--seed", args.seed)
    model = load_model(args.model_dir)
    if not isinstance(model, LanguageModel):
        raise ConfigError(f"{args.model_dir}: not a language model (task {model.task!r})")
    pieces = model.iter_generate(
        args.prime, args.length, temperature=args.temperature, top_k=args.top_k, seed=args.seed
    )
    first = next(pieces)  # a bad prime fails here, before anything is printed
    out = sys.stdout
    last = args.prime + first
    out.write(last)
    out.flush()
    for last in pieces:
        out.write(last)
        out.flush()
    if not last.endswith("\n"):
        out.write("\n")
    return 0
