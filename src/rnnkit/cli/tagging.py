"""The verbs of ``rnnkit`` for sequence labelling: train --task tag, evaluate, tag."""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from rnnkit.cli.commands import finish_training
from rnnkit.cli.data_flags import refuse_format
from rnnkit.cli.outputs import use_checkpoints, use_grad_log
from rnnkit.cli.train_flags import model_settings
from rnnkit.data import TaggedCorpus, read_tagged
from rnnkit.data.splits import split_indices
from rnnkit.errors import ConfigError, DataError
from rnnkit.models import SequenceTagger, load_model

__all__ = ["read_tagged_args", "score_tagger", "tag", "train_tagger"]

#: NOTE: the format a CSV user tries first is refused here with a hint; the formats of
#: the other tasks reach read_tagged, whose message names the formats it reads
HINTED = ("table",)


def read_tagged_args(path: str, args: argparse.Namespace) -> TaggedCorpus:
    """Read a tagged corpus (CoNLL-U or token<TAB>tag) with the command line's flags."""
    if args.format in HINTED:
        message = "--format {format} is for --task {tasks}; use {formats}"
        refuse_format(args, "tag", TaggedCorpus, message)
    return read_tagged(
        path, format=args.format, tag_col=args.tag_col or "upos", encoding=args.encoding
    )


def _subset(corpus: TaggedCorpus, idx: Any) -> TaggedCorpus:
    return TaggedCorpus(
        [corpus.sentences[i] for i in idx],
        [corpus.tags[i] for i in idx],
        corpus.path,
        [corpus.lines[i] for i in idx],
    )


def train_tagger(args: argparse.Namespace) -> int:
    if args.model != "rnn":
        raise ConfigError(f"--model {args.model} does not apply to --task tag")
    settings = model_settings(args, "tag")
    data = read_tagged_args(args.data, args)
    if args.valid:
        valid: TaggedCorpus | None = read_tagged_args(args.valid, args)
    elif args.valid_split > 0:
        keep, held = split_indices(len(data.sentences), args.valid_split, args.seed)
        data, valid = _subset(data, keep), _subset(data, held)
    else:
        valid = None
    test = read_tagged_args(args.test, args) if args.test else None
    started = time.perf_counter()
    model = SequenceTagger(**settings)
    use_checkpoints(model, args)
    use_grad_log(model, args)
    pair = None if valid is None else (valid.sentences, valid.tags)
    model.fit(data.sentences, data.tags, valid=pair)
    finish_training(
        args, model, started, valid, test, lambda c: model.evaluate(c.sentences, c.tags)
    )
    return 0


def score_tagger(args: argparse.Namespace, model: SequenceTagger) -> Any:
    """The tagger's report on --data, read with the command line's format flags."""
    data = read_tagged_args(args.data, args)
    return model.evaluate(data.sentences, data.tags)


def tag(args: argparse.Namespace) -> int:
    """``rnnkit tag DIR "The movie was awesome ."``: token/tag pairs, one sentence a line."""
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
