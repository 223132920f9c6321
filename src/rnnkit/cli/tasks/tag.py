"""Sequence labelling of texts: CoNLL-U or token<TAB>tag files, read for a
:class:`~rnnkit.models.SequenceTagger`."""

from __future__ import annotations

import argparse
import time
from typing import Any

from rnnkit.cli.data_flags import (
    FORMAT_FLAGS,
    chosen_format,
    flag_value,
    refuse_format,
    refuse_format_flags,
    refuse_other_format_flags,
    report_skipped,
)
from rnnkit.cli.outputs import use_checkpoints, use_grad_log
from rnnkit.cli.ranks import use_group
from rnnkit.cli.tasks.finish import finish_training
from rnnkit.cli.train_flags import model_settings
from rnnkit.data import TaggedCorpus, formats_for, read_tagged
from rnnkit.data.splits import split_indices
from rnnkit.errors import ConfigError
from rnnkit.metrics import tag_scheme
from rnnkit.models import SequenceTagger

__all__ = ["followed", "note_unseen_tags", "read", "score", "train", "training_data"]

#: NOTE: the format a CSV user tries first is refused here with a hint; the formats of
#: the other tasks reach read_tagged, whose message names the formats it reads
HINTED = ("table",)


def read(path: str, args: argparse.Namespace) -> TaggedCorpus:
    """Read a tagged corpus (CoNLL-U or token<TAB>tag) with the command line's flags."""
    if args.format in HINTED:
        message = "--format {format} is for --task {tasks}; use {formats}"
        refuse_format(args, "tag", TaggedCorpus, message)
    message = "{flag} does not apply to --task tag"
    refuse_format_flags(args, formats_for("tag", TaggedCorpus), tuple(FORMAT_FLAGS), message)
    fmt = chosen_format(args, path, "tag", TaggedCorpus)
    if fmt is not None and fmt.returns is TaggedCorpus:
        refuse_other_format_flags(args, fmt, ("on_bad_lines",))
    corpus = read_tagged(
        path,
        format=args.format,
        tag_col=args.tag_col or "upos",
        encoding=flag_value(args, "encoding"),
        on_bad_lines=args.on_bad_lines,
    )
    report_skipped(corpus, args)
    return corpus


#: the validation figures that a tagger's early stopping can follow, in words
FIGURES = {
    "val_entity_f1": "the validation entity F1",
    "val_accuracy": "the validation token accuracy",
    "val_loss": "the validation loss",
}


def followed(model: SequenceTagger) -> str:
    """The line that says which figure picked the trained tagger's kept epoch, and why
    (the command line leaves ``monitor`` at "auto": the tags decide)."""
    scheme = tag_scheme(model.labels_)
    why = f"{scheme} tags" if scheme else "the tags are neither BIO nor IOBES"
    if model.given_scheme_:
        why = f"{model.given_scheme_} tags, learnt as {scheme}"
    return f"early stopping and the kept epoch follow {FIGURES[model.monitor_]} ({why})"


def _subset(corpus: TaggedCorpus, idx: Any) -> TaggedCorpus:
    return TaggedCorpus(
        [corpus.sentences[i] for i in idx],
        [corpus.tags[i] for i in idx],
        corpus.path,
        [corpus.lines[i] for i in idx],
    )


def train(args: argparse.Namespace) -> int:
    """``rnnkit train --task tag`` on texts."""
    if args.model != "rnn":
        raise ConfigError(f"--model {args.model} does not apply to --task tag")
    settings = model_settings(args, "tag")
    data = read(args.data, args)
    if args.valid:
        valid: TaggedCorpus | None = read(args.valid, args)
    elif args.valid_split > 0:
        keep, held = split_indices(len(data.sentences), args.valid_split, args.seed)
        data, valid = _subset(data, keep), _subset(data, held)
    else:
        valid = None
    test = read(args.test, args) if args.test else None
    started = time.perf_counter()
    model = SequenceTagger(**settings)
    use_checkpoints(model, args)
    use_grad_log(model, args)
    use_group(model, args)
    pair = None
    if valid is not None:
        pair = (valid.sentences, valid.tags)
        held_out = "" if args.valid else f"{args.valid_split:.0%} held out of "
        note_unseen_tags(data, valid, held_out)
    model.fit(data.sentences, data.tags, valid=pair)
    if valid is not None:
        print(followed(model))
    finish_training(
        args, model, started, valid, test, lambda c: model.evaluate(c.sentences, c.tags)
    )
    return 0


def note_unseen_tags(data: TaggedCorpus, valid: TaggedCorpus, where: str = "") -> None:
    """Say once how many validation tokens carry a tag the training data lacks: the
    tagger cannot predict it, so validation scores them as wrong."""
    seen = {str(t) for seq in data.tags for t in seq}
    unseen = [str(t) for seq in valid.tags for t in seq if str(t) not in seen]
    if not unseen:
        return
    names = list(dict.fromkeys(unseen))
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    one = len(unseen) == 1
    tokens = "1 token with a tag" if one else f"{len(unseen):,} tokens with tags"
    print(
        f"note: {where}{valid.path}: {tokens} never seen in training ({shown}); "
        f"validation scores {'it' if one else 'them'} as wrong"
    )


def score(args: argparse.Namespace, model: SequenceTagger) -> Any:
    """The tagger's report on --data, read with the command line's format flags."""
    data = read(args.data, args)
    return model.evaluate(data.sentences, data.tags)


def training_data(model: SequenceTagger, path: str, args: argparse.Namespace) -> Any:
    """The tagged sentences of `path`, encoded as `model` was trained on them."""
    corpus = read(path, args)
    return model.training_data(corpus.sentences, corpus.tags)
