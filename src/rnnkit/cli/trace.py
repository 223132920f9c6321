"""The ``rnnkit trace`` verb: watch the equations of a recurrent network run on a text.

``rnnkit trace DIR TEXT...`` loads a saved model, splits each TEXT into tokens with
the model's own tokenizer and vocabulary (a word it does not know is read as
``<unk>``, and the trace says so) and prints every number of the forward pass
(:mod:`rnnkit.viz.trace`). ``rnnkit trace --toy [TEXT...]`` does the same for the
course's example network (:mod:`rnnkit.viz.toy`), on its three reviews or on the
given texts of its five words.

Classifiers, taggers and language models are traced whole; of a seq2seq model, the
encoder (its decoder writes the output token by token: ``rnnkit translate``). Models
of real-valued frames are not: the trace reads text.

``--json`` prints one JSON object: ``model`` (DIR, or "toy") and ``traces``, one per
text, each ``{"text": TEXT, ...}`` with the keys of :meth:`Trace.to_dict`.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from rnnkit.data.corpus import tokenize
from rnnkit.errors import ConfigError, DataError
from rnnkit.layers import Dense, OneHot, SimpleRNN
from rnnkit.models import (
    BagOfWordsClassifier,
    LanguageModel,
    Seq2Seq,
    SequenceClassifier,
    SequenceTagger,
    Sequential,
    load_model,
)
from rnnkit.models.frames import FrameModel
from rnnkit.text import Vocabulary, get_tokenizer
from rnnkit.viz.toy import TOY_REVIEWS, TOY_VOCABULARY, toy_ids, toy_weights
from rnnkit.viz.trace import Trace, trace

__all__ = [
    "TOY_LABELS",
    "add_parser",
    "run",
    "text_tokens",
    "toy_model",
    "trace_text",
    "trace_toy_text",
]

#: what the example's one sigmoid output is the probability of
TOY_LABELS = ["negative", "positive"]


def toy_model(dtype: str = "float32") -> Sequential:
    """The course's example network with its fixed weights (see :mod:`rnnkit.viz.toy`).

    One-hot inputs over the 5 words, SimpleRNN(3, tanh) and Dense(1, sigmoid):
    18 + 9 + 4 = 31 parameters, ``get_weights()`` shaped (5, 3), (3, 3), (3,), (3, 1),
    (1,).

    >>> toy_model().count_params()
    31
    """
    layers = [OneHot(len(TOY_VOCABULARY)), SimpleRNN(3, "tanh"), Dense(1, "sigmoid")]
    model = Sequential(layers, seed=0, dtype=dtype, name="movie_reviews")
    model.set_weights(toy_weights(dtype))
    return model


def add_parser(sub: Any) -> argparse.ArgumentParser:
    """The ``trace`` verb."""
    p = sub.add_parser("trace", help="show every number of the forward pass on a text")
    p.add_argument("model_dir", nargs="?", metavar="DIR", help="a saved model directory")
    p.add_argument("texts", nargs="*", metavar="TEXT", help="a text to trace")
    p.add_argument(
        "--toy",
        action="store_true",
        help="the course's example network (31 parameters); TEXT: words of movie, was, "
        "good, bad, not (default: the three reviews)",
    )
    p.add_argument("--json", action="store_true", help="print the numbers as one JSON object")
    p.add_argument("--digits", type=int, default=4, help="decimals shown (4)")
    p.add_argument(
        "--max-values", type=int, default=12, help="numbers shown per row, 0 for all (12)"
    )
    return p


def run(args: argparse.Namespace) -> int:
    """``rnnkit trace DIR TEXT...`` or ``rnnkit trace --toy [TEXT...]``."""
    if not 0 <= args.digits <= 12:
        raise ConfigError(f"--digits {args.digits}: use 0 to 12")
    if args.max_values < 0:
        raise ConfigError(f"--max-values {args.max_values}: use 0 (all) or more")
    if args.toy:
        source, traces = "toy", _toy_traces(args)
    else:
        source, traces = args.model_dir, _model_traces(args)
    if args.json:
        rows = [{"text": text, **t.to_dict()} for text, t in traces]
        print(json.dumps({"model": source, "traces": rows}))
        return 0
    if args.toy:
        print(
            "the course's example: one-hot words, SimpleRNN(3, tanh), Dense(1, sigmoid); "
            "31 parameters (U, W from the notes, b = 0; V, c chosen for the example)"
        )
    for i, (text, t) in enumerate(traces):
        if i or args.toy:
            print()
        print(f"== {text!r} ==")
        print(t.format(args.digits, args.max_values))
    return 0


def _toy_traces(args: argparse.Namespace) -> list[tuple[str, Trace]]:
    given = [] if args.model_dir is None else [args.model_dir, *args.texts]
    if given and Path(given[0]).is_dir():
        raise ConfigError(f"give a model directory or --toy, not both ({given[0]} is a directory)")
    model = toy_model()
    return [(text, trace_toy_text(model, text)) for text in given or [r for r, _ in TOY_REVIEWS]]


def trace_toy_text(model: Sequential, text: str) -> Trace:
    """Trace the course's example network `model` (:func:`toy_model`) on `text`, words
    of its vocabulary (DataError naming a word it does not know)."""
    ids = toy_ids(text)
    labelled = dict(TOY_REVIEWS)
    notes = []
    if text in labelled:
        notes.append(f"the notes' label: {labelled[text]} ({TOY_LABELS[labelled[text]]})")
    tokens = [TOY_VOCABULARY[i] for i in ids]
    return trace(model, ids, tokens=tokens, labels=TOY_LABELS, notes=notes)


def _model_traces(args: argparse.Namespace) -> list[tuple[str, Trace]]:
    if args.model_dir is None:
        raise ConfigError("give a model directory and a TEXT to trace, or --toy")
    if not args.texts:
        raise ConfigError(f"give the TEXT to trace after the model directory {args.model_dir}")
    model = load_model(args.model_dir)
    if isinstance(model, FrameModel):
        raise ConfigError(f"{args.model_dir}: a model of real-valued frames; trace reads text")
    if isinstance(model, BagOfWordsClassifier):
        raise ConfigError(f"{args.model_dir}: a bag-of-words model has no recurrent layers")
    out = []
    for text in args.texts:
        if not text:
            raise DataError("TEXT is empty: give the words to trace")
        out.append((text, trace_text(model, text)))
    return out


def trace_text(model: Any, text: str, layers: list[Any] | None = None) -> Trace:
    """Tokenise `text` as the model does and trace its network on the ids (or the
    given `layers` of it: a CRF tagger's, all but the CRF)."""
    tokens, words, vocab = text_tokens(model, text)
    if not tokens:
        raise DataError(f"TEXT {text!r} has no tokens")
    ids = vocab.encode(words)
    if isinstance(model, SequenceTagger) and model.chars_ is not None:
        ids = model.encode([tokens])[0]  # (T, 1 + L): each word's id, then its characters
    notes = [
        f"{w!r} is not in the vocabulary: read as <unk> (id {vocab.unk_id})"
        for w in dict.fromkeys(words)
        if w not in vocab
    ]
    if isinstance(model, Seq2Seq):
        notes.append("the encoder only: the decoder writes the output (rnnkit translate)")
        return trace(model.model_.encoder, ids, tokens=tokens, notes=notes)
    network = model.model_ if layers is None else layers
    return trace(network, ids, tokens=tokens, labels=model.labels_, notes=notes)


def text_tokens(model: Any, text: str) -> tuple[list[str], list[str], Vocabulary]:
    """The tokens of `text` as shown, as looked up, and the vocabulary they are in."""
    s = model.settings
    if isinstance(model, SequenceClassifier):
        tokens = get_tokenizer(s["level"], lower=s["lower"])(text)
        return tokens, tokens, model.vocab_
    if isinstance(model, SequenceTagger):  # tokens split on spaces, as ``rnnkit tag``
        tokens = text.split()
        return tokens, [w.lower() for w in tokens] if s["lower"] else tokens, model.vocab_
    if isinstance(model, LanguageModel):
        tokens = tokenize(text, s["level"])
        model.encode(text, "TEXT")  # an unknown character is an error, not <unk>
        return tokens, tokens, model.vocab_
    if isinstance(model, Seq2Seq):
        tokens = list(text.strip()) if s["source_level"] == "char" else text.split()
        return tokens, tokens, model.source_vocab_
    raise ConfigError(f"a {type(model).__name__} cannot be traced")
