"""SequenceClassifier: many-to-one text classification (sentiment, topic, language).

A many-to-one network: the text's tokens go in one step at a time (as learned
embeddings, or as one-hot vectors), a SimpleRNN reads them, and a Dense layer turns
what it read into a class: a sigmoid for two classes, a softmax for more.

What the Dense layer reads is the ``pooling`` setting. The lecture's network reads
the last real state h_T (``pooling="last"``). The default, ``"mean"``, averages
h_1 .. h_T over the real steps: every step then gets gradient directly from the
loss instead of through the whole chain of W products that makes a tanh RNN forget
the start of a review, and on MR it scores about two points higher (76-77% against
73-74% test accuracy, over three seeds). ``"max"`` takes the element-wise maximum.

Characters as tokens (``level="char"``: a surname's letters, to tell its language)
start from other defaults, ``CHAR_DEFAULTS``: a GRU of 256 reading to h_T from a small
unit-variance embedding, every character kept as it is; a setting given explicitly
always wins.

The class follows scikit-learn's conventions: ``__init__`` only stores the
settings, :meth:`fit` validates the data, learns and returns ``self``; learned
attributes end in ``_`` (``vocab_``, ``labels_``, ``model_``, ``history_``).

>>> clf = SequenceClassifier(hidden=8, embed_dim=8, lr=0.01, dropout=0, embed_dropout=0,
...                          min_freq=1, epochs=40, seed=0, verbose=0)
>>> texts = ["movie was good", "movie was bad", "movie was not good", "good movie"] * 8
>>> labels = ["pos", "neg", "neg", "pos"] * 8
>>> clf.fit(texts, labels).predict(["movie was good", "movie was not good"])
['pos', 'neg']
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from rnnkit.errors import DataError
from rnnkit.models.outputs import ClassOutputs, check_pooling
from rnnkit.models.task import TaskModel
from rnnkit.text import Vocabulary, get_tokenizer

__all__ = ["CHAR_DEFAULTS", "SequenceClassifier"]

Array = np.ndarray

#: the constructor's settings, with their defaults (stored in config.json)
DEFAULTS: dict[str, Any] = {
    "level": "word",  # tokens are words ("word") or characters ("char")
    "lower": True,  # lowercase before tokenising
    "embed_dim": 100,  # size of the learned embedding; ignored with one_hot
    "embed_scale": 0.05,  # embeddings start uniform in [-scale, scale]
    "one_hot": False,  # feed one-hot vectors (a row lookup of U) instead of an embedding
    "embeddings": None,  # a file of pretrained word vectors that E starts from (a path)
    "freeze_embeddings": False,  # keep E as the file gave it (needs embeddings)
    "cell": "rnn",  # the recurrent cell: "rnn" (tanh SimpleRNN), "lstm" or "gru"
    "hidden": 128,  # d, the size of the RNN state (per direction)
    "layers": 1,  # stacked recurrent layers
    "bidirectional": False,  # also read each text right to left
    "activation": "tanh",  # f in h_t = f(U x_t + W h_{t-1} + b)
    "pooling": "mean",  # average the states ("mean"), or read h_T ("last") or the max ("max")
    "dropout": 0.5,  # dropout on the last state, before the output layer
    "embed_dropout": 0.3,  # dropout on the embedded inputs
    "min_freq": 2,  # words seen fewer times in training map to <unk>
    "max_vocab": None,  # keep at most this many words
    "optimizer": "adam",
    "lr": 1e-3,
    "batch_size": 32,
    "epochs": 30,
    "clip_norm": 5.0,  # global gradient-norm clipping
    "patience": 5,  # early stopping: epochs without a better `monitor` (needs validation data)
    "monitor": "val_loss",  # the validation figure that picks the best epoch
    "max_minutes": None,  # time budget for training
    "max_len": None,  # training sequences longer than this are cut to it (counted)
    "seed": 0,
    "dtype": "float32",
    "verbose": 1,
}

#: what reading characters changes in DEFAULTS (``level="char"``, the settings left out):
#: a vocabulary of tens of symbols, where every rare letter (é, ß) carries information
#: and capitals are kept; a small unit-variance embedding (as nn.Embedding starts) and
#: a wider GRU reading to the last letter. Measured on surnames by language (18
#: classes, 10% of the distinct names held out): 78.0% test accuracy over three seeds,
#: against 70.9% with the word-level defaults.
CHAR_DEFAULTS: dict[str, Any] = {
    "lower": False,
    "min_freq": 1,
    "embed_dim": 64,
    "embed_scale": 1.73,  # uniform in [-sqrt 3, sqrt 3]: unit variance
    "embed_dropout": 0.0,
    "cell": "gru",
    "hidden": 256,
    "pooling": "last",
    "dropout": 0.0,
    "monitor": "val_accuracy",
    "patience": 8,
}


class SequenceClassifier(ClassOutputs, TaskModel):
    """Classify texts with an embedding (or one-hot inputs), a SimpleRNN and a Dense layer.

    Every keyword is a setting listed in ``DEFAULTS`` (see the comments there).
    """

    task = "classify"
    DEFAULTS = DEFAULTS

    @classmethod
    def _defaults_for(cls, settings: dict[str, Any]) -> dict[str, Any]:
        if settings.get("level", DEFAULTS["level"]) == "char":
            return {**DEFAULTS, **CHAR_DEFAULTS}
        return DEFAULTS

    def _check_settings(self) -> None:
        super()._check_settings()
        check_pooling(self.settings["pooling"])
        self._tokenizer()  # an unknown level is refused here

    def __getattr__(self, name: str) -> Any:
        settings = self.__dict__.get("settings", {})
        if name in settings:
            return settings[name]
        raise AttributeError(name)

    # -- learning ------------------------------------------------------------------
    def fit(
        self,
        texts: Sequence[str],
        labels: Sequence[str],
        valid: tuple[Sequence[str], Sequence[str]] | None = None,
    ) -> SequenceClassifier:
        """Build the vocabulary and the network from `texts`, then train.

        Parameters
        ----------
        texts, labels : sequences of str, one label per text
        valid : (texts, labels), optional
            Validation data: reported every epoch, used for early stopping and to keep
            the weights of the best epoch.
        """
        s = self.settings
        if len(texts) != len(labels):
            raise DataError(f"{len(texts)} texts but {len(labels)} labels")
        y = self._learn_labels(labels)
        tokenize = self._tokenizer()
        tokens, _ = self._cut([tokenize(t) for t in texts])
        self.vocab_ = Vocabulary.build(tokens, min_freq=s["min_freq"], max_size=s["max_vocab"])
        self._fit_network(self._encode_tokens(tokens), y, valid)
        return self

    # -- inference -----------------------------------------------------------------
    def _tokenizer(self):
        return get_tokenizer(self.settings["level"], lower=self.settings["lower"])

    def _encode_tokens(
        self, tokens: list[list[str]], texts: Sequence[str] | None = None
    ) -> list[Array]:
        out = []
        for i, toks in enumerate(tokens):
            if not toks:
                shown = "" if texts is None else f" {texts[i]!r}"
                raise DataError(f"text {i + 1}{shown} has no tokens")
            out.append(self.vocab_.encode(toks))
        return out

    def encode(self, texts: Sequence[str]) -> list[Array]:
        """Token ids of each text (unknown words map to ``<unk>``)."""
        self._require_fitted()
        tokenize = self._tokenizer()
        return self._encode_tokens([tokenize(t) for t in texts], texts)

    def _inputs(self, x: Any) -> list[Array]:
        return self.encode(x)
