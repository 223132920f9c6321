"""SequenceTagger: many-to-many labelling, one tag per token (POS tagging, NER).

The synchronised many-to-many network of the course: every token x_t gets an output
y_t = softmax(V h_t + c). The recurrent part is usually bidirectional, so that h_t
has read the whole sentence, left and right of t, and may be stacked. The loss is the
notes' labelling loss: cross-entropy summed over each sentence's real tokens and
averaged over the sentences (``reduction="token_mean"`` averages over tokens instead).
Pads never reach the loss, a metric or a gradient.

With ``crf=True`` the outputs are scores E_t = V h_t + c, and a linear-chain CRF
(:mod:`rnnkit.models.crf_head`) adds a score for each pair of neighbouring tags: the
loss is -log p(tags | sentence) of the whole path, and prediction is the best path
(Viterbi) instead of the best tag at each step.

>>> tagger = SequenceTagger(hidden=16, embed_dim=16, lr=0.01, epochs=30, dropout=0,
...                         embed_dropout=0, seed=0, verbose=0)
>>> sentences = [["the", "movie", "was", "good"], ["a", "film", "was", "bad"]] * 8
>>> tags = [["DET", "NOUN", "AUX", "ADJ"]] * 16
>>> tagger.fit(sentences, tags).predict([["the", "film", "was", "good"]])
[['DET', 'NOUN', 'AUX', 'ADJ']]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from rnnkit.errors import ConfigError, DataError
from rnnkit.models.outputs import MONITORS, TagOutputs, check_pairs, tag_monitor
from rnnkit.models.task import TaskModel
from rnnkit.text import Vocabulary

__all__ = ["SequenceTagger"]

Array = np.ndarray

#: the constructor's settings, with their defaults (stored in config.json)
DEFAULTS: dict[str, Any] = {
    "lower": True,  # lowercase words before looking them up
    "embed_dim": 100,  # size of the learned word embedding; ignored with one_hot
    "embed_scale": 0.05,  # embeddings start uniform in [-scale, scale]
    "one_hot": False,  # one-hot word inputs (a row lookup of U) instead of an embedding
    "embeddings": None,  # a file of pretrained word vectors that E starts from (a path)
    "freeze_embeddings": False,  # keep E as the file gave it (needs embeddings)
    "cell": "rnn",  # "rnn" (tanh SimpleRNN), "lstm" or "gru"
    "hidden": 128,  # state size per direction
    "layers": 1,  # stacked recurrent layers
    "bidirectional": True,  # read each sentence in both directions
    "activation": "tanh",
    "dropout": 0.3,  # between stacked layers and before the output layer
    # a CRF over the tag scores: the loss scores whole tag paths, prediction is Viterbi,
    # and BIO / IOBES tags never get a forbidden transition (O -> I-X)
    "crf": False,
    "embed_dropout": 0.3,  # on the embedded words
    "word_dropout": 0.0,  # training words replaced by <unk> with this probability
    "min_freq": 1,  # rarer training words map to <unk>
    "max_vocab": None,
    "optimizer": "adam",
    "lr": 1e-3,
    "batch_size": 32,
    "epochs": 20,
    "clip_norm": 5.0,
    # the notes' loss: summed over tokens, mean over sentences ("token_mean": over tokens;
    # not with crf, whose loss is a sentence's -log p(tags))
    "reduction": "sequence_mean",
    "patience": 4,  # early stopping on the validation figure below
    # "auto": entity F1 for BIO or IOBES tags, token accuracy otherwise; or val_accuracy,
    # val_loss, val_entity_f1. The kept weights are the best epoch's by this figure.
    "monitor": "auto",
    "max_minutes": None,
    "max_len": None,  # training sequences longer than this are cut to it (counted)
    "seed": 0,
    "dtype": "float32",
    "verbose": 1,
}


class SequenceTagger(TagOutputs, TaskModel):
    """Tag every token of a sentence with an embedding, recurrent layers and softmax.

    Every keyword is a setting listed in ``DEFAULTS``. Sentences are lists of tokens
    (already split, as in CoNLL files); tags are lists of the same lengths.
    """

    task = "tag"
    DEFAULTS = DEFAULTS
    item, unit = "sentence", "token"

    def _check_settings(self) -> None:
        super()._check_settings()
        if self.settings["monitor"] not in MONITORS:
            tag_monitor(self.settings["monitor"], [])  # refuses the name, listing the choices
        if self.settings["crf"] and self.settings["reduction"] != "sequence_mean":
            raise ConfigError(
                f"reduction={self.settings['reduction']!r} does not apply with crf=True: "
                "the CRF's loss is per sentence (sequence_mean)"
            )

    # -- learning ------------------------------------------------------------------
    def fit(
        self,
        sentences: Sequence[Sequence[str]],
        tags: Sequence[Sequence[str]],
        valid: tuple[Sequence[Sequence[str]], Sequence[Sequence[str]]] | None = None,
    ) -> SequenceTagger:
        """Build the vocabularies and the network from the training sentences, then train."""
        s = self.settings
        check_pairs(sentences, tags, self.item, self.unit)
        sentences, tags = self._cut(sentences, tags)
        y = self._learn_tags(tags)
        words = [self._words(sentence) for sentence in sentences]
        self.vocab_ = Vocabulary.build(words, min_freq=s["min_freq"], max_size=s["max_vocab"])
        self._fit_network(self._encode(sentences), y, valid)
        return self

    # -- inference -----------------------------------------------------------------
    def _words(self, sentence: Sequence[str]) -> list[str]:
        return [w.lower() for w in sentence] if self.settings["lower"] else list(sentence)

    def encode(self, sentences: Sequence[Sequence[str]]) -> list[Array]:
        """Word ids of each sentence (unknown words map to ``<unk>``)."""
        self._require_fitted()
        return self._encode(sentences)

    def _encode(self, sentences: Sequence[Sequence[str]]) -> list[Array]:
        out = []
        for i, sentence in enumerate(sentences):
            if not sentence:
                raise DataError(f"sentence {i + 1} has no tokens")
            out.append(self.vocab_.encode(self._words(sentence)))
        return out

    def _inputs(self, x: Any) -> list[Array]:
        return self.encode(x)
