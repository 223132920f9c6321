"""Grapheme-to-phoneme on CMUdict: train an encoder-decoder, report WER and PER.

    python benchmarks/g2p_cmudict.py --minutes 30 [--beam 5] [--json out.json] [--out DIR]
        [--setting key=value ...]

Trains :class:`rnnkit.models.Seq2Seq` with its defaults (or the given settings) on
``cmudict-train.dict`` under a time budget, validating on ``cmudict-dev.dict``, then
decodes ``cmudict-test.dict`` greedily and with beam search and prints the word error
rate (1 - exact match) and the phoneme error rate. Needs ../shared/data/cmudict_g2p.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

from rnnkit.data.pairs import PairCorpus, read_cmudict
from rnnkit.models.seq2seq import Seq2Seq

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "cmudict_g2p"


def _value(text: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _head(corpus: PairCorpus, n: int) -> PairCorpus:
    return dataclasses.replace(
        corpus, sources=corpus.sources[:n], targets=corpus.targets[:n], lines=corpus.lines[:n]
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--minutes", type=float, default=30.0, help="training time budget")
    p.add_argument("--beam", type=int, default=5, help="beam width to report beside greedy")
    p.add_argument("--data", type=Path, default=DATA)
    p.add_argument("--limit", type=int, default=None, help="use only the first N training words")
    p.add_argument("--json", type=Path, default=None, help="write the figures here")
    p.add_argument("--out", type=Path, default=None, help="save the model directory here")
    p.add_argument("--setting", action="append", default=[], metavar="KEY=VALUE")
    args = p.parse_args(argv)
    if not (args.data / "cmudict-train.dict").exists():
        print(f"no CMUdict data at {args.data}", file=sys.stderr)
        return 2
    train = read_cmudict(args.data / "cmudict-train.dict")
    dev = read_cmudict(args.data / "cmudict-dev.dict")
    test = read_cmudict(args.data / "cmudict-test.dict")
    settings = dict(kv.split("=", 1) for kv in args.setting)
    model = Seq2Seq(max_minutes=args.minutes, **{k: _value(v) for k, v in settings.items()})
    n = args.limit or len(train)
    t0 = time.perf_counter()
    model.fit_corpus(train if n == len(train) else _head(train, n), dev)
    train_s = time.perf_counter() - t0
    rates = [e["tokens_per_s"] for e in model.history_.epochs]
    figures = {
        "tokens_per_s": sum(rates) / len(rates),  # source and target tokens, training steps
        "train_seconds": train_s,
        "epochs": len(model.history_.epochs),
        "best_epoch": model.history_.best_epoch,
        "settings": model.settings,
    }
    for beam in sorted({1, args.beam}):
        t0 = time.perf_counter()
        r = model.evaluate(test.sources, test.targets, beam=beam)
        figures[f"beam{beam}"] = {**r.to_dict(), "seconds": time.perf_counter() - t0}
        print(
            f"test, beam {beam}: WER {r.word_error_rate:.2%}  PER {r.token_error_rate:.2%}"
            f"  ({time.perf_counter() - t0:.1f}s)",
            flush=True,
        )
    print(
        f"trained {train_s / 60:.1f} min, {figures['epochs']} epochs, "
        f"{figures['tokens_per_s']:,.0f} tokens/s",
        flush=True,
    )
    if args.out is not None:
        model.save(args.out)
    if args.json is not None:
        args.json.write_text(json.dumps(figures, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
