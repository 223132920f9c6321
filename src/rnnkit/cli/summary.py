"""``rnnkit summary DIR``: a saved model's layers (as Keras prints them) and settings."""

from __future__ import annotations

import argparse
from typing import Any

from rnnkit.models import BagOfWordsClassifier, FrameRegressor, LanguageModel, load_model
from rnnkit.models.frames import FrameModel
from rnnkit.models.seq2seq import Seq2Seq

__all__ = ["add_parser", "run"]


def add_parser(sub: Any) -> argparse.ArgumentParser:
    """The ``summary`` verb."""
    s = sub.add_parser("summary", help="show a saved model's layers and settings")
    s.add_argument("model_dir", help="a model directory written by rnnkit train")
    return s


def run(args: argparse.Namespace) -> int:
    """Print the layers, what the model reads and writes, and its settings."""
    model = load_model(args.model_dir)
    if isinstance(model, BagOfWordsClassifier):
        nb = model.nb_
        print("bag-of-words + multinomial Naive Bayes (scikit-learn)")
        print(
            f"labels: {', '.join(model.labels_)}; "
            f"vocabulary: {len(nb.vectorizer_.get_feature_names_out()):,} n-grams; alpha={nb.alpha}"
        )
        return 0
    model.model_.summary()
    if isinstance(model, Seq2Seq):
        print(
            f"source vocabulary: {len(model.source_vocab_):,} tokens; "
            f"target vocabulary: {len(model.vocab_):,} tokens"
        )
    elif isinstance(model, LanguageModel):
        print(f"{model.settings['level']}-level language model; vocabulary: {len(model.vocab_):,}")
    elif isinstance(model, FrameModel):
        names = model.features_
        shown = ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")
        scaling = "standardised" if model.scaler_ is not None else "not scaled"
        print(f"inputs: {len(names)} real-valued features ({shown}), {scaling}")
        if isinstance(model, FrameRegressor):
            kind = "per frame" if model.per_step_ else "per sequence"
            print(f"outputs: {len(model.outputs_)} values {kind}")
        else:
            print(f"labels: {', '.join(model.labels_)}")
    else:
        print(f"labels: {', '.join(model.labels_)}; vocabulary: {len(model.vocab_):,} tokens")
    settings = {k: v for k, v in model.settings.items() if k != "verbose"}
    print("settings: " + ", ".join(f"{k}={v}" for k, v in settings.items()))
    return 0
