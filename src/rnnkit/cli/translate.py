"""``rnnkit translate DIR WORD...``: map sources to outputs with a saved seq2seq model,
one output per source, in order; ``--plot PNG`` draws the first one's attention."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from rnnkit.cli.tasks.seq2seq import check_beam
from rnnkit.errors import ConfigError, DataError
from rnnkit.models import load_model
from rnnkit.models.seq2seq import Seq2Seq

__all__ = ["add_parser", "run"]


def add_parser(sub: Any) -> argparse.ArgumentParser:
    """The ``translate`` verb."""
    t = sub.add_parser("translate", help="map source sequences to outputs with a saved seq2seq")
    t.add_argument("model_dir", help="a seq2seq model's directory (rnnkit train --task seq2seq)")
    t.add_argument("texts", nargs="+", metavar="TEXT", help="a source (letters, or words)")
    t.add_argument("--beam", type=int, help="beam width (default: the model's; 1 is greedy)")
    t.add_argument("--json", action="store_true", help="print one JSON list")
    t.add_argument("--plot", metavar="PNG", help="the first source's attention weights, as a PNG")
    return t


def run(args: argparse.Namespace) -> int:
    """One output per source, in order."""
    beam = check_beam(args)
    if args.plot and beam not in (None, 1):
        raise ConfigError("--plot shows the attention of greedy decoding: drop --beam")
    model = load_model(args.model_dir)
    if not isinstance(model, Seq2Seq):
        raise ConfigError(f"{args.model_dir}: not a seq2seq model (task {model.task!r})")
    s = model.settings
    sources = [_split(text, s["source_level"]) for text in args.texts]
    for text, src in zip(args.texts, sources, strict=True):
        if not src:
            raise DataError(f"source {text!r} is empty")
    unknown = model.unknown_tokens(sources)
    if unknown:  # read as <unk>: the output still comes, with a word about why it may be off
        shown = ", ".join(repr(t) for t in dict.fromkeys(unknown))
        print(
            f"warning: {len(unknown):,} source tokens not in the model's vocabulary, "
            f"read as <unk>: {shown}",
            file=sys.stderr,
        )
    out = model.decode(sources, beam=1 if args.plot else beam)
    outputs = [model.vocab_.decode(ids) for ids in out.tokens]
    if args.plot:
        _plot(model, out.attention, sources[0], outputs[0], Path(args.plot))
    join = "".join if s["target_level"] == "char" else " ".join
    if args.json:
        rows = [
            {"source": text, "output": join(o), "tokens": o, "log_prob": float(score)}
            for text, o, score in zip(args.texts, outputs, out.scores, strict=True)
        ]
        print(json.dumps(rows))
    else:
        for text, o in zip(args.texts, outputs, strict=True):
            print(f"{text}\t{join(o)}")
    return 0


def _split(text: str, level: str) -> list[str]:
    text = text.strip()
    return list(text) if level == "char" else text.split()


def _plot(model: Seq2Seq, attention, source, output, png: Path) -> None:
    if attention is None:
        raise ConfigError(
            f"this model has no attention (attention={model.settings['attention']!r})"
        )
    if not output:
        print(f"no attention plot: the output of {''.join(source)!r} is empty")
        return
    from rnnkit.viz import plot_attention

    plot_attention(attention[0], source, output, png)
    print(f"attention plot: {png}")
