"""The verbs of ``rnnkit`` for language models: train --task lm, evaluate, generate."""

from __future__ import annotations

import argparse
import sys
import time

from rnnkit.cli.data_flags import refuse_format, refuse_format_flags
from rnnkit.cli.outputs import (
    draw_curves,
    run_record,
    use_checkpoints,
    use_grad_log,
    write_evaluation,
)
from rnnkit.cli.train_flags import model_settings
from rnnkit.data import formats_for
from rnnkit.data.corpus import TextCorpus, read_corpus
from rnnkit.errors import ConfigError
from rnnkit.metrics.language import LanguageModelReport
from rnnkit.models import LanguageModel, load_model

__all__ = ["generate", "score_lm", "train_lm"]


def _check_format(args: argparse.Namespace) -> None:
    message = "--format {format} does not apply to a language model ({formats})"
    refuse_format(args, "lm", TextCorpus, message)
    message = "{flag} does not apply to --task lm"
    refuse_format_flags(args, formats_for("lm"), ("tag_col", "delimiter"), message)


def train_lm(args: argparse.Namespace) -> int:
    if args.model != "rnn":
        raise ConfigError(f"--model {args.model} does not apply to --task lm")
    _check_format(args)
    settings = model_settings(args, "lm")
    model = LanguageModel(**settings)
    use_checkpoints(model, args)
    use_grad_log(model, args)
    s = model.settings
    corpus = read_corpus(
        args.data, s["level"], min_freq=s["min_freq"], max_vocab=s["max_vocab"],
        encoding=args.encoding,
    )  # fmt: skip
    if args.valid:
        valid = read_corpus(args.valid, s["level"], vocab=corpus.vocab, encoding=args.encoding)
    elif args.valid_split > 0:
        corpus, valid = corpus.split(args.valid_split)
    else:
        valid = None
    test = None
    if args.test:
        test = read_corpus(args.test, s["level"], vocab=corpus.vocab, encoding=args.encoding)
    V = len(corpus.vocab)
    print(f"{corpus.path}: {len(corpus):,} {s['level']} tokens for training, vocabulary {V:,}")
    started = time.perf_counter()
    model.fit_corpus(corpus, valid)
    seconds = time.perf_counter() - started
    model.save(args.out, extra={**run_record(args, seconds), "initial_loss": model.initial_loss_})
    print(f"trained in {seconds:.1f}s; model saved to {args.out}")
    draw_curves(args.out, model.history_.to_dict(), args.task)
    parts = []
    for name, part in (("validation", valid), ("test", test)):
        if part is not None:
            report = model.evaluate_ids(part.ids)
            parts.append((name, part.path, report))
            print(f"{name} ({part.path}): {report.format()}")
    write_evaluation(args.out, args.task, parts)
    return 0


def score_lm(args: argparse.Namespace, model: LanguageModel) -> LanguageModelReport:
    """The language model's loss and perplexity on the text file --data."""
    _check_format(args)
    return model.evaluate_file(args.data, encoding=args.encoding)


def add_parser(sub) -> None:
    g = sub.add_parser("generate", help="sample text from a saved language model")
    g.add_argument("model_dir")
    g.add_argument("--prime", default="", help="text to start from (default: a line start)")
    g.add_argument("--length", type=int, default=500, help="tokens to generate (500)")
    g.add_argument(
        "--temperature", type=float, default=1.0, help="below 1 safer, above 1 wilder; 0 greedy"
    )
    g.add_argument("--top-k", type=int, help="sample among the K most likely tokens only")
    g.add_argument("--seed", type=int, help="same seed, same text (default: a fresh one)")
    g.set_defaults(run=generate)


def generate(args: argparse.Namespace) -> int:
    """``rnnkit generate DIR --prime "ROMEO:"``: the prime, then the sample as it is made."""
    if args.length <= 0:
        raise ConfigError(f"--length {args.length}: must be positive")
    if not args.temperature >= 0:
        raise ConfigError(f"--temperature {args.temperature}: must be >= 0 (0 is greedy)")
    if args.top_k is not None and args.top_k < 1:
        raise ConfigError(f"--top-k {args.top_k}: must be at least 1")
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
