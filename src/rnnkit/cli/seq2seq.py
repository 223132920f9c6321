"""The verbs of ``rnnkit`` for encoder-decoders: train --task seq2seq, evaluate, translate."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from rnnkit.cli.data_flags import refuse_format, refuse_format_flags
from rnnkit.cli.outputs import (
    draw_curves,
    run_record,
    use_checkpoints,
    use_grad_log,
    write_evaluation,
)
from rnnkit.cli.train_flags import model_settings
from rnnkit.data import PairCorpus, formats_for, get_format, infer_format, read_pair_file
from rnnkit.data.splits import split_indices
from rnnkit.errors import ConfigError, DataError
from rnnkit.metrics.sequences import SequenceReport
from rnnkit.models import load_model
from rnnkit.models.seq2seq import Seq2Seq

__all__ = [
    "LEVEL_FLAGS",
    "add_parser",
    "model_levels",
    "score_seq2seq",
    "train_seq2seq",
    "translate",
]

#: the format flags that split each side of a pair (a seq2seq model keeps its levels)
LEVEL_FLAGS = ("source_level", "target_level")


def _levels(args: argparse.Namespace) -> tuple[str | None, str | None]:
    """--source-level / --target-level, each defaulting to --level."""
    level = getattr(args, "level", None)
    return args.source_level or level, args.target_level or level


def _read(path: str, args: argparse.Namespace, levels: tuple[str | None, str | None]) -> PairCorpus:
    message = "--format {format} does not apply to --task seq2seq ({formats})"
    refuse_format(args, "seq2seq", PairCorpus, message)
    message = "{flag} does not apply to --task seq2seq"
    refuse_format_flags(args, formats_for("seq2seq"), ("tag_col", "delimiter"), message)
    return read_pair_file(
        path, args.format, source_level=levels[0], target_level=levels[1], encoding=args.encoding
    )


def _subset(c: PairCorpus, idx) -> PairCorpus:
    return PairCorpus(
        [c.sources[i] for i in idx],
        [c.targets[i] for i in idx],
        c.path,
        [c.lines[i] for i in idx],
        c.source_level,
        c.target_level,
    )


def train_seq2seq(args: argparse.Namespace) -> int:
    if args.model != "rnn":
        raise ConfigError(f"--model {args.model} does not apply to --task seq2seq")
    # --level splits both sides of the data (read_by); the model records each side's level
    settings = model_settings(args, "seq2seq")
    data = _read(args.data, args, _levels(args))
    if args.valid:
        valid: PairCorpus | None = _read(args.valid, args, _levels(args))
    elif args.valid_split > 0:
        keep, held = split_indices(len(data), args.valid_split, args.seed)
        data, valid = _subset(data, keep), _subset(data, held)
    else:
        valid = None
    test = _read(args.test, args, _levels(args)) if args.test else None
    model = Seq2Seq(**settings)
    use_checkpoints(model, args)
    use_grad_log(model, args)
    print(f"{data.path}: {len(data):,} pairs for training")
    started = time.perf_counter()
    model.fit_corpus(data, valid)
    seconds = time.perf_counter() - started
    model.save(args.out, extra=run_record(args, seconds))
    print(f"trained in {seconds:.1f}s; model saved to {args.out}")
    draw_curves(args.out, model.history_.to_dict(), args.task)
    parts = []
    for name, part in (("validation", valid), ("test", test)):
        if part is not None:
            report = model.evaluate(part.sources, part.targets)
            parts.append((name, part.path, report))
            print(f"{name} ({part.path}): {report.format()}")
    write_evaluation(args.out, args.task, parts)
    return 0


def score_seq2seq(args: argparse.Namespace, model: Seq2Seq) -> SequenceReport:
    """Exact match and token error rate on the pairs of --data, split at the model's
    levels (--beam: the beam width, else the model's)."""
    data = _read(args.data, args, model_levels(model, args.data, args))
    return model.evaluate(data.sources, data.targets, beam=_beam(args))


def model_levels(
    model: Seq2Seq, path: str, args: argparse.Namespace
) -> tuple[str | None, str | None]:
    """The levels `path` is read at for `model`: its own, or None for cmudict's fixed ones."""
    fmt = get_format(args.format) if args.format else infer_format(path, "seq2seq")
    if fmt is not None and "source_level" not in fmt.flags:  # cmudict's levels are fixed
        return None, None
    s = model.settings
    return s["source_level"], s["target_level"]


def _beam(args: argparse.Namespace) -> int | None:
    beam = getattr(args, "beam", None)
    if beam is not None and beam < 1:
        raise ConfigError(f"--beam {beam}: the beam width must be at least 1")
    return beam


def add_parser(sub) -> None:
    t = sub.add_parser("translate", help="map source sequences to outputs with a saved seq2seq")
    t.add_argument("model_dir")
    t.add_argument("texts", nargs="+", metavar="TEXT", help="a source (letters, or words)")
    t.add_argument("--beam", type=int, help="beam width (default: the model's; 1 is greedy)")
    t.add_argument("--json", action="store_true", help="print one JSON list")
    t.add_argument("--plot", metavar="PNG", help="the first source's attention weights, as a PNG")
    t.set_defaults(run=translate)


def translate(args: argparse.Namespace) -> int:
    """``rnnkit translate DIR WORD...``: one output per source, in order."""
    beam = _beam(args)
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
