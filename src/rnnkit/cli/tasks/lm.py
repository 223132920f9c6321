"""Language models: a text file, read as one stream of tokens for a
:class:`~rnnkit.models.LanguageModel`."""

from __future__ import annotations

import argparse
import time
from typing import Any

from rnnkit.cli.data_flags import FORMAT_FLAGS, flag_value, refuse_format, refuse_format_flags
from rnnkit.cli.outputs import (
    draw_curves,
    use_checkpoints,
    use_grad_log,
    write_evaluation,
)
from rnnkit.cli.ranks import use_group, writes
from rnnkit.cli.tasks.finish import save_trained
from rnnkit.cli.train_flags import model_settings
from rnnkit.data import formats_for
from rnnkit.data.corpus import TextCorpus, read_corpus
from rnnkit.errors import ConfigError, DataError
from rnnkit.metrics.language import LanguageModelReport
from rnnkit.models import LanguageModel
from rnnkit.training.streams import TextStreams

__all__ = ["batches", "check_format", "read", "score", "train"]


def check_format(args: argparse.Namespace) -> None:
    """Refuse a --format other than text, and the format flags no text file takes."""
    message = "--format {format} does not apply to a language model ({formats})"
    refuse_format(args, "lm", TextCorpus, message)
    message = "{flag} does not apply to --task lm"
    refuse_format_flags(args, formats_for("lm"), tuple(FORMAT_FLAGS), message)


def read(path: str, args: argparse.Namespace, level: str, **vocab: Any) -> TextCorpus:
    """The text file at `path` as tokens of `level`; `vocab`: read_corpus's vocabulary options.

    Read with a given vocabulary (held-out text), a character it lacks is left out
    and counted, as ``evaluate`` does.
    """
    unknown = "skip" if vocab.get("vocab") is not None else "error"
    return read_corpus(path, level, encoding=flag_value(args, "encoding"), unknown=unknown, **vocab)


def train(args: argparse.Namespace) -> int:
    """``rnnkit train --task lm``."""
    if args.model != "rnn":
        raise ConfigError(f"--model {args.model} does not apply to --task lm")
    check_format(args)
    settings = model_settings(args, "lm")
    model = LanguageModel(**settings)
    use_checkpoints(model, args)
    use_grad_log(model, args)
    use_group(model, args)
    s = model.settings
    corpus = read(args.data, args, s["level"], min_freq=s["min_freq"], max_vocab=s["max_vocab"])
    if args.valid:
        valid = read(args.valid, args, s["level"], vocab=corpus.vocab)
    elif args.valid_split > 0:
        corpus, valid = corpus.split(args.valid_split)
    else:
        valid = None
    test = read(args.test, args, s["level"], vocab=corpus.vocab) if args.test else None
    V = len(corpus.vocab)
    print(f"{corpus.path}: {len(corpus):,} {s['level']} tokens for training, vocabulary {V:,}")
    started = time.perf_counter()
    model.fit_corpus(corpus, valid)
    if not writes(args):  # another rank: rank 0 saves and reports
        return 0
    seconds = time.perf_counter() - started
    save_trained(args, model, seconds, initial_loss=model.initial_loss_)
    draw_curves(args.out, model.history_.to_dict(), args.task)
    parts = []
    for name, part in (("validation", valid), ("test", test)):
        if part is not None:
            report = model.evaluate_ids(part.ids, part.unknown)
            parts.append((name, part.path, report))
            print(f"{name} ({part.path}): {report.format()}")
    write_evaluation(args.out, args.task, parts)
    return 0


def score(args: argparse.Namespace, model: LanguageModel) -> LanguageModelReport:
    """The language model's loss and perplexity on the text file --data."""
    check_format(args)
    return model.evaluate_file(args.data, encoding=flag_value(args, "encoding"))


def batches(model: LanguageModel, path: str, args: argparse.Namespace, size: int) -> list:
    """Windows of ``bptt`` tokens from the file's start, each starting from zero."""
    check_format(args)
    corpus = read(path, args, model.settings["level"], vocab=model.vocab_)
    if len(corpus.ids) < 2:
        raise DataError(f"{path}: a language model needs at least two tokens to predict one")
    streams = TextStreams(corpus.ids, size, model.settings["bptt"], stateful=False)
    return [streams.batch(w) for w in streams.batches()]
