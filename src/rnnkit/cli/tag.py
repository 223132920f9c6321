"""``rnnkit tag DIR "The movie was awesome ."``: token/tag pairs, one sentence a line."""

from __future__ import annotations

import argparse
import json
from typing import Any

from rnnkit.errors import ConfigError, DataError
from rnnkit.models import SequenceTagger, load_model

__all__ = ["add_parser", "run"]


def add_parser(sub: Any) -> argparse.ArgumentParser:
    """The ``tag`` verb."""
    tg = sub.add_parser("tag", help="tag the tokens of sentences with a saved tagger")
    tg.add_argument("model_dir", help="a tagger's directory, written by rnnkit train --task tag")
    tg.add_argument("texts", nargs="+", metavar="TEXT", help="a sentence, tokens split on spaces")
    tg.add_argument(
        "--json",
        action="store_true",
        help='print one JSON list, per sentence {"tokens": [...], "tags": [...]}',
    )
    return tg


def run(args: argparse.Namespace) -> int:
    """Tag each TEXT, its tokens split on spaces."""
    model = load_model(args.model_dir)
    if not isinstance(model, SequenceTagger):
        raise ConfigError(f"{args.model_dir}: not a tagger (use rnnkit predict for classifiers)")
    sentences = [text.split() for text in args.texts]
    for i, words in enumerate(sentences):
        if not words:
            raise DataError(f"text {i + 1} {args.texts[i]!r} has no tokens")
    tags = model.predict(sentences)
    if args.json:
        print(json.dumps([{"tokens": w, "tags": t} for w, t in zip(sentences, tags, strict=True)]))
    else:
        for words, seq in zip(sentences, tags, strict=True):
            print(" ".join(f"{w}/{t}" for w, t in zip(words, seq, strict=True)))
    return 0
