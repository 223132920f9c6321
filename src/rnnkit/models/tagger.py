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
(Viterbi) instead of the best tag at each step. The default, ``crf="auto"``, puts a CRF
on BIO or IOBES tags (entities span tokens, and an ``I-X`` may only follow a ``B-X`` or
an ``I-X``) and none on tags of single tokens (parts of speech). With pretrained
vectors, BIO tags are learnt as IOBES (``iobes="auto"``): the network also says where
each entity ends, and :meth:`predict` gives the entities back in BIO
(:mod:`rnnkit.metrics.schemes`).

With ``char_features`` (the default) each word is also read from its characters
(:class:`~rnnkit.layers.WordCharEmbedding`): a word never seen in training still has
a spelling. ``char_cell="auto"`` reads them with a convolution and a max
(:class:`~rnnkit.layers.CharCNN`, Ma and Hovy 2016) for entity tags (BIO or IOBES) and
with a bidirectional LSTM for other tags (parts of speech). With ``embeddings``,
pretrained vectors start the word embedding, and the file's ``pretrained_words`` most
frequent words join the vocabulary, so that a word first met at test time keeps its
vector.

The defaults were chosen on the dev sets of UD English-EWT (UPOS) and WNUT-17 (NER):
a bidirectional LSTM of 100 units each way over 100-d words and 100 character features
(30-d characters; a BiLSTM of 50 each way for parts of speech, 100 filters of a CNN
for entities), dropout 0.5 on its input and output, word dropout 0.05, Adam at 1e-3
in batches of 32, early stopping after 15 epochs without a better dev figure.

>>> tagger = SequenceTagger(hidden=16, embed_dim=16, lr=0.01, epochs=30, dropout=0,
...                         embed_dropout=0, word_dropout=0, seed=0, verbose=0)
>>> sentences = [["the", "movie", "was", "good"], ["a", "film", "was", "bad"]] * 8
>>> tags = [["DET", "NOUN", "AUX", "ADJ"]] * 16
>>> tagger.fit(sentences, tags).predict([["the", "film", "was", "good"]])
[['DET', 'NOUN', 'AUX', 'ADJ']]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from rnnkit.core.cells import cell_names
from rnnkit.errors import ConfigError, DataError, ModelFileError
from rnnkit.io import ModelFiles
from rnnkit.layers import CharCNN, CharEncoder, Layer, WordCharEmbedding, cell_layer
from rnnkit.layers.word_chars import word_char_ids
from rnnkit.metrics import tag_scheme
from rnnkit.models.outputs import MONITORS, TagOutputs, check_pairs, tag_monitor
from rnnkit.models.pretrained import with_file_words
from rnnkit.models.task import TaskModel
from rnnkit.text import Vocabulary, char_vocabulary, encode_chars

__all__ = ["CHAR_CNN", "SequenceTagger", "char_cells"]

Array = np.ndarray
#: the ``char_cell`` that reads characters with a convolution and a max (Ma and Hovy
#: 2016, :class:`~rnnkit.layers.CharCNN`) instead of a bidirectional recurrent layer
CHAR_CNN = "cnn"


def char_cells() -> list[str]:
    """The choices of ``char_cell``: every registered cell, :data:`CHAR_CNN`, and
    "auto" (the CNN for entity tags, the LSTM for others).

    >>> char_cells()[-2:]
    ['cnn', 'auto']
    """
    return [*cell_names(), CHAR_CNN, "auto"]


#: the constructor's settings, with their defaults (stored in config.json)
DEFAULTS: dict[str, Any] = {
    "lower": True,  # lowercase words before looking them up
    "embed_dim": 100,  # size of the learned word embedding; ignored with one_hot
    "embed_scale": 0.05,  # embeddings start uniform in [-scale, scale]
    "one_hot": False,  # one-hot word inputs (a row lookup of U) instead of an embedding
    "embeddings": None,  # a file of pretrained word vectors that E starts from (a path)
    "freeze_embeddings": False,  # keep E as the file gave it (needs embeddings)
    # the file's most frequent words join the vocabulary, so that a word unseen in
    # training keeps its vector (0: the training words only)
    "pretrained_words": 100_000,
    "cell": "lstm",  # "rnn" (tanh SimpleRNN), "lstm" or "gru"
    "hidden": 100,  # state size per direction
    "layers": 1,  # stacked recurrent layers
    "bidirectional": True,  # read each sentence in both directions
    "activation": "tanh",
    "dropout": 0.5,  # between stacked layers and before the output layer
    # a CRF over the tag scores: the loss scores whole tag paths, prediction is Viterbi,
    # and BIO / IOBES tags never get a forbidden transition (O -> I-X); "auto": for BIO
    # or IOBES tags (entities), not for tags of single tokens (parts of speech)
    "crf": "auto",
    # BIO tags learnt as IOBES (E- ends an entity, S- is one of a single token) and
    # predicted in BIO; "auto": for BIO tags when `embeddings` are given (IOBES and other
    # tags are learnt as given)
    "iobes": "auto",
    # each word also read from its characters (a bidirectional char_cell of char_units
    # each way over char_dim-d character embeddings), the two final states joined onto
    # its embedding: unseen words are tagged from their spelling
    "char_features": True,
    "char_dim": 30,
    "char_units": 50,
    # any cell, or "cnn": 2 * char_units filters of 3 characters and a max over the word;
    # "auto": cnn for BIO or IOBES tags, lstm for others (each the better on its dev set)
    "char_cell": "auto",
    "max_word_chars": 30,  # longer words keep their first 15 and last 15 characters
    "embed_dropout": 0.5,  # on the embedded words (and their character features)
    "word_dropout": 0.05,  # training words replaced by <unk> with this probability
    "min_freq": 1,  # rarer training words map to <unk>
    "max_vocab": None,
    "optimizer": "adam",
    "lr": 1e-3,
    "lr_decay": None,  # multiply lr by this after an epoch with no better validation figure
    "batch_size": 32,
    "epochs": 100,
    "clip_norm": 5.0,
    # the notes' loss: summed over tokens, mean over sentences ("token_mean": over tokens;
    # not with crf, whose loss is a sentence's -log p(tags))
    "reduction": "sequence_mean",
    "patience": 15,  # early stopping on the validation figure below
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
    chars_: Vocabulary | None = None  # the character vocabulary (with char_features)

    def _check_settings(self) -> None:
        super()._check_settings()
        if self.settings["monitor"] not in MONITORS:
            tag_monitor(self.settings["monitor"], [])  # refuses the name, listing the choices
        for key in ("crf", "iobes"):
            if self.settings[key] not in (True, False, "auto"):
                raise ConfigError(f"{key}={self.settings[key]!r}: give True, False or 'auto'")
        if self.settings["crf"] is True and self.settings["reduction"] != "sequence_mean":
            raise ConfigError(
                f"reduction={self.settings['reduction']!r} does not apply with crf=True: "
                "the CRF's loss is per sentence (sequence_mean)"
            )
        n = self.settings["pretrained_words"]
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ConfigError(f"pretrained_words={n!r}: give a number of words >= 0")
        if self.settings["char_features"]:
            if self.settings["one_hot"]:
                raise ConfigError(
                    "char_features=True joins characters onto a word embedding: "
                    "it does not go with one_hot=True"
                )
            for key in ("char_dim", "char_units", "max_word_chars"):
                value = self.settings[key]
                if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                    raise ConfigError(f"{key}={value!r}: give a positive integer")
            if self.settings["char_cell"] not in (CHAR_CNN, "auto"):
                cell_layer(self.settings["char_cell"])  # ConfigError: not a cell

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
        if s["embeddings"] is None and "pretrained_words" in self._given and s["pretrained_words"]:
            raise ConfigError("pretrained_words needs embeddings, a file of word vectors")
        if s["embeddings"] is not None and s["pretrained_words"]:
            trained = len(self.vocab_)
            self.vocab_ = with_file_words(
                self.vocab_, s["embeddings"], s["pretrained_words"], s["lower"]
            )
            self.joined_ = len(self.vocab_) - trained
        # characters keep their case: a capital says much about a word's tag
        self.chars_ = char_vocabulary(sentences) if s["char_features"] else None
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
            ids = self.vocab_.encode(self._words(sentence))
            if self.chars_ is not None:  # (T, 1 + L): word ids, then character ids
                chars, _ = encode_chars([sentence], self.chars_, self.settings["max_word_chars"])
                ids = word_char_ids(ids, chars[0])
            out.append(ids)
        return out

    # -- the network and its files ---------------------------------------------------
    def _input_layers(self) -> list[Layer]:
        """The word embedding (with dropout), or with ``char_features`` the embedding
        and the character encoder side by side, dropout on both."""
        layers = super()._input_layers()
        if self.chars_ is None:
            return layers
        s = self.settings
        chars: Layer
        if self.char_cell == CHAR_CNN:  # as many features a word as the recurrent encoder's
            chars = CharCNN(len(self.chars_), s["char_dim"], 2 * s["char_units"])
        else:
            units, cell = s["char_units"], self.char_cell
            chars = CharEncoder(len(self.chars_), s["char_dim"], units, cell=cell)
        return [WordCharEmbedding(layers[0], chars), *layers[1:]]

    @property
    def char_cell(self) -> str:
        """The character encoder the ``char_cell`` setting gives for the learnt tags.

        NOTE: "auto" follows the dev sets. On WNUT-17 (with GloVe, three seeds) the CNN's
        dev entity F1 was 0.467 on average against the BiLSTM's 0.463, at 1.3 times the
        speed; on UD English-EWT the BiLSTM's dev accuracy was 95.22% against 94.98%.
        """
        cell = self.settings["char_cell"]
        if cell != "auto":
            return cell
        return CHAR_CNN if tag_scheme(self.labels_) is not None else "lstm"

    def _vocab_record(self) -> dict[str, Any] | None:
        record = super()._vocab_record() or {}
        if self.chars_ is not None:
            record["chars"] = self.chars_.to_dict()
        if self.given_scheme_:  # the labels are IOBES; predict gives them back in BIO
            record["given_scheme"] = self.given_scheme_
        return record

    def _read_vocab(self, files: ModelFiles) -> None:
        super()._read_vocab(files)
        self._read_given_scheme(files)
        self.chars_ = None
        if not self.settings["char_features"]:
            return
        where = files.path / "vocab.json"
        try:
            self.chars_ = Vocabulary.from_dict(self._vocab_json(files)["chars"])
        except KeyError:
            raise ModelFileError(f"{where}: no 'chars' entry, which char_features needs") from None
        except (TypeError, ValueError) as exc:
            raise ModelFileError(f"{where}: chars: {exc}") from None
        if self.chars_.pad_id != 0:
            raise ModelFileError(f"{where}: chars: <pad> must have id 0")

    def _read_given_scheme(self, files: ModelFiles) -> None:
        where = files.path / "vocab.json"
        given = self._vocab_json(files).get("given_scheme")
        if given not in (None, "BIO"):
            raise ModelFileError(f"{where}: given_scheme {given!r}: only 'BIO' is known")
        self.given_scheme_ = given
        if self.given_scheme_ and tag_scheme(self.labels_) != "IOBES":
            raise ModelFileError(f"{where}: given_scheme 'BIO' needs IOBES labels")

    def _inputs(self, x: Any) -> list[Array]:
        return self.encode(x)
