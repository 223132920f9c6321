"""Seq2Seq: encoder-decoder with attention, for outputs of another length than the input.

The notes' fourth many-to-many type, as in transliteration, translation and
grapheme-to-phoneme conversion: an encoder reads the whole source, a decoder writes
the target token by token from ``<sos>`` to ``<eos>``, attending over the source
(:mod:`rnnkit.models.encoder_decoder`). Trained with teacher forcing (optionally with
scheduled sampling, :mod:`rnnkit.models.teacher_forcing`), decoded greedily or by beam
search (:mod:`rnnkit.models.decoding`).

>>> model = Seq2Seq(hidden=16, embed_dim=8, epochs=60, lr=0.01, dropout=0, seed=0, verbose=0)
>>> words = [list("ab"), list("ba"), list("abb"), list("bba")] * 8
>>> model.fit(words, [w[::-1] for w in words]).translate([list("abb")])
[['b', 'b', 'a']]
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from rnnkit.data.pairs import PairCorpus
from rnnkit.errors import ConfigError, DataError, ModelFileError
from rnnkit.io import ModelFiles, load_model_dir, save_model_dir
from rnnkit.layers.attention import SCORES
from rnnkit.metrics.sequences import SequenceReport
from rnnkit.models.decoding import Decoded, beam_search, default_max_lengths, greedy_search
from rnnkit.models.encoder_decoder import EncoderDecoder
from rnnkit.models.persist import load_weights
from rnnkit.models.pretrained import pretrained_matrix
from rnnkit.models.task import TaskModel
from rnnkit.models.teacher_forcing import TeacherForcing
from rnnkit.text import Vocabulary
from rnnkit.training import FitConfig, History, evaluate, fit, get_optimizer
from rnnkit.training.pairs import PairDataset

__all__ = ["Seq2Seq"]

Array = np.ndarray
Tokens = Sequence[str]

#: the constructor's settings, with their defaults (stored in config.json)
DEFAULTS: dict[str, Any] = {
    "source_level": "char",  # how a source text splits into tokens: "char" or "word"
    "target_level": "char",  # and a target text (CMUdict phones: "word")
    "embed_dim": 64,  # size of both embeddings (source and target tokens)
    "embed_scale": 0.05,  # embeddings start uniform in [-scale, scale]
    "embeddings": None,  # a file of word vectors the source embedding starts from (a path)
    "freeze_embeddings": False,  # keep it as the file gave it (needs embeddings)
    "cell": "gru",  # the encoder's cell: "rnn", "lstm" or "gru"
    "hidden": 128,  # the encoder's state size per direction
    "layers": 2,  # stacked encoder layers
    "bidirectional": True,  # the encoder reads the source both ways
    "decoder_cell": None,  # the decoder's cell (None: as the encoder's)
    "decoder_hidden": None,  # None: the encoder's output size (2 hidden if bidirectional)
    "decoder_layers": 1,
    "attention": "dot",  # "dot", "general", "additive" or "none"
    "bridge": False,  # a learned bridge even where the encoder's states fit the decoder
    "dropout": 0.2,  # between stacked layers and before the output layer
    "embed_dropout": 0.0,
    "sampling_ratio": 0.0,  # scheduled sampling: share of the decoder's own tokens fed back
    "reduction": "sequence_mean",  # the loss summed over a target's tokens, mean over pairs
    "beam": 1,  # decoding: 1 is greedy search
    "length_penalty": 1.0,  # beam search scores log p / length ** length_penalty
    "min_freq": 1,  # rarer training tokens map to <unk>
    "optimizer": "adam",
    "lr": 2e-3,
    "lr_decay": 0.5,  # halve the learning rate after an epoch without a better val_loss
    "batch_size": 64,
    "epochs": 40,
    "clip_norm": 5.0,
    "patience": 4,  # early stopping on the validation figure below
    "monitor": "val_loss",
    "max_minutes": None,
    "seed": 0,
    "dtype": "float32",
    "verbose": 1,
}
_NETWORK_KEYS = (
    "embed_dim", "embed_scale", "cell", "hidden", "layers", "bidirectional", "decoder_cell",
    "decoder_hidden", "decoder_layers", "attention", "bridge", "dropout", "embed_dropout",
    "seed", "dtype",
)  # fmt: skip


class Seq2Seq(TaskModel):
    """Map token sequences to token sequences (see the module docstring).

    Every keyword is a setting listed in ``DEFAULTS``. Sources and targets are lists
    of tokens: characters or words, as the data's levels say.
    """

    task = "seq2seq"
    DEFAULTS = DEFAULTS

    def _check_settings(self) -> None:
        s = self.settings
        for side in ("source_level", "target_level"):
            if s[side] not in ("char", "word"):
                raise ConfigError(f"{side}={s[side]!r}: use 'char' or 'word'")
        if s["attention"] not in (*SCORES, "none"):
            raise ConfigError(f"attention={s['attention']!r}: use dot, general, additive or none")
        if int(s["beam"]) < 1:
            raise ConfigError(f"beam={s['beam']}: the beam width must be at least 1")
        if not 0.0 <= float(s["sampling_ratio"]) <= 1.0:
            raise ConfigError(f"sampling_ratio={s['sampling_ratio']}: must lie in [0, 1]")

    # -- learning ------------------------------------------------------------------
    def fit(
        self,
        sources: Sequence[Tokens],
        targets: Sequence[Tokens],
        valid: tuple[Sequence[Tokens], Sequence[Tokens]] | None = None,
    ) -> Seq2Seq:
        """Build both vocabularies and the network from the training pairs, then train."""
        s = self.settings
        _check_pairs(sources, targets)
        self.source_vocab_ = Vocabulary.build(sources, min_freq=s["min_freq"])
        self.vocab_ = Vocabulary.build(targets, min_freq=s["min_freq"])
        self.labels_ = self.vocab_.tokens
        initial = pretrained_matrix(
            s, self.source_vocab_, given=self._given, level=s["source_level"]
        )
        self.model_ = self._network(initial)
        trainer = TeacherForcing(
            self.model_, sampling_ratio=s["sampling_ratio"], reduction=s["reduction"]
        )
        train = self.training_data(sources, targets)
        valid_data = None
        if valid is not None:
            _check_pairs(*valid)
            valid_data = self.training_data(*valid)
        config = FitConfig(
            epochs=s["epochs"],
            batch_size=s["batch_size"],
            clip_norm=s["clip_norm"],
            max_minutes=s["max_minutes"],
            patience=s["patience"] if valid_data is not None else None,
            monitor=s["monitor"],
            lr_decay=s["lr_decay"] if valid_data is not None else None,
            verbose=s["verbose"],
            checkpoints=self.checkpoints,
            grad_log=self.grad_log,
            group=self.group,
        )
        optimizer = get_optimizer(s["optimizer"], s["lr"])
        rng = np.random.default_rng([s["seed"], 1])
        try:
            self.history_: History = fit(trainer, train, optimizer, config, rng, valid_data)
        finally:
            self.model_.release_buffers()
        return self

    def fit_corpus(self, train: PairCorpus, valid: PairCorpus | None = None) -> Seq2Seq:
        """Train on pairs read from files, taking each side's level from the reader."""
        self.settings.update(source_level=train.source_level, target_level=train.target_level)
        pairs = None if valid is None else (valid.sources, valid.targets)
        return self.fit(train.sources, train.targets, pairs)

    def _network(self, source_embedding: Array | None = None) -> EncoderDecoder:
        """The network the settings describe; its source embedding starts from
        `source_embedding` (N, embed_dim) when given, frozen with ``freeze_embeddings``."""
        s = self.settings
        return EncoderDecoder(
            n_source=len(self.source_vocab_),
            n_target=len(self.vocab_),
            source_embedding=source_embedding,
            freeze_source=s["freeze_embeddings"],
            **{k: s[k] for k in _NETWORK_KEYS},
        )

    def training_data(self, sources: Sequence[Tokens], targets: Sequence[Tokens]) -> PairDataset:
        """Sources and targets as the network trains on them: token ids, each target
        ending in ``<eos>`` and fed to the decoder behind ``<sos>``."""
        y = [self.vocab_.encode(t, add_eos=True) for t in targets]
        return PairDataset(self.encode(sources), y, sos_id=self._sos)

    @property
    def _sos(self) -> int:
        return self.vocab_["<sos>"]

    @property
    def _eos(self) -> int:
        return self.vocab_["<eos>"]

    def loss(self, sources: Sequence[Tokens], targets: Sequence[Tokens]) -> dict[str, float]:
        """Teacher-forced loss per pair and token accuracy (the training figures)."""
        self._require_fitted()
        _check_pairs(sources, targets)
        trainer = TeacherForcing(self.model_, reduction=self.settings["reduction"])
        return evaluate(trainer, self.training_data(sources, targets))

    # -- inference -----------------------------------------------------------------
    def encode(self, sources: Sequence[Tokens]) -> list[Array]:
        """Source ids of each sequence (unknown tokens map to ``<unk>``)."""
        self._require_fitted()
        out = []
        for i, src in enumerate(sources):
            if isinstance(src, str):
                raise DataError(f"source {i + 1} is a str: give a list of tokens")
            if not len(src):
                raise DataError(f"source {i + 1} is empty")
            out.append(self.source_vocab_.encode(src))
        return out

    def decode(
        self,
        sources: Sequence[Tokens],
        *,
        beam: int | None = None,
        length_penalty: float | None = None,
        max_length: int | None = None,
        batch_size: int = 256,
    ) -> Decoded:
        """Decode every source (greedy for beam 1) in batches of similar length.

        Returns ids without ``<eos>``, scores and, for greedy search with attention,
        the attention weights, in the order of `sources`.
        """
        s = self.settings
        beam = int(s["beam"] if beam is None else beam)
        if beam < 1:
            raise ConfigError(f"beam={beam}: the beam width must be at least 1")
        lp = float(s["length_penalty"] if length_penalty is None else length_penalty)
        if max_length is not None and int(max_length) < 1:
            raise ConfigError(f"max_length={max_length}: must be at least 1")
        data = PairDataset(self.encode(sources), None, sos_id=self._sos)
        tokens: list[Array] = [np.zeros(0, np.int64)] * len(data)
        scores = np.zeros(len(data))
        attention: list[Array] = [np.zeros((0, 0))] * len(data)  # greedy only
        with_attention = beam == 1 and self.model_.attention is not None
        for index in data.batches(batch_size, rng=None):
            b = data.batch(index)
            limits = default_max_lengths(b.lengths)
            if max_length is not None:
                limits = np.minimum(limits, int(max_length))
            if beam == 1:
                out = greedy_search(
                    self.model_, b.x, b.mask, sos_id=self._sos, eos_id=self._eos,
                    max_lengths=limits,
                )  # fmt: skip
            else:
                out = beam_search(
                    self.model_, b.x, b.mask, beam=beam, sos_id=self._sos, eos_id=self._eos,
                    max_lengths=limits, length_penalty=lp,
                )  # fmt: skip
            for row, i in enumerate(index):
                tokens[i], scores[i] = out.tokens[row], out.scores[row]
                if out.attention is not None:
                    attention[i] = out.attention[row][:, : b.lengths[row]]
        return Decoded(tokens, scores, attention if with_attention else None)

    def translate(self, sources: Sequence[Tokens], **options: Any) -> list[list[str]]:
        """The output tokens for every source; `options` as :meth:`decode`."""
        out = self.decode(sources, **options)
        return [self.vocab_.decode(ids) for ids in out.tokens]

    def evaluate(
        self, sources: Sequence[Tokens], targets: Sequence[Tokens], **options: Any
    ) -> SequenceReport:
        """Exact match (1 - word error rate) and token error rate of the decoded outputs;
        the report's ``unknown`` counts the source tokens read as ``<unk>``."""
        _check_pairs(sources, targets)
        report = SequenceReport.from_sequences(
            [list(t) for t in targets], self.translate(sources, **options)
        )
        return replace(report, unknown=len(self.unknown_tokens(sources)))

    def unknown_tokens(self, sources: Sequence[Tokens]) -> list[str]:
        """Every token of `sources` the source vocabulary lacks (read as ``<unk>``), in order."""
        self._require_fitted()
        return [t for src in sources for t in src if t not in self.source_vocab_]

    # -- files ---------------------------------------------------------------------
    def save(
        self, directory: str | os.PathLike[str], *, extra: dict[str, Any] | None = None
    ) -> Path:
        """Write the model directory (config.json, weights.safetensors, vocab.json)."""
        self._require_fitted()
        s = self.settings
        config = {
            "task": self.task,
            "architecture": {
                "class": "EncoderDecoder",
                "n_source": len(self.source_vocab_),
                "n_target": len(self.vocab_),
                **{k: s[k] for k in _NETWORK_KEYS},
            },
            "training": {"settings": s, "history": self.history_.to_dict(), **(extra or {})},
        }
        vocab = {"source": self.source_vocab_.to_dict(), "tokens": self.vocab_.to_dict()}
        return save_model_dir(
            directory, config=config, weights=self.model_.named_weights(), vocab=vocab
        )

    @classmethod
    def from_files(cls, files: ModelFiles) -> Seq2Seq:
        """Rebuild the model from a loaded model directory (ModelFileError if malformed)."""
        model = cls._from_settings(files)
        vocab_path = files.path / "vocab.json"
        vocab = cls._vocab_json(files)
        try:
            model.source_vocab_ = Vocabulary.from_dict(vocab["source"])
            model.vocab_ = Vocabulary.from_dict(vocab["tokens"])
        except KeyError as exc:
            raise ModelFileError(f"{vocab_path}: no {exc.args[0]!r} entry") from None
        except (TypeError, ValueError) as exc:
            raise ModelFileError(f"{vocab_path}: {exc}") from None
        model.labels_ = model.vocab_.tokens
        try:
            model.model_ = model._network()
        except (ConfigError, ValueError) as exc:
            where = files.path / "config.json"
            raise ModelFileError(f"{where}: invalid architecture ({exc})") from None
        load_weights(files, model.model_.named_weights())
        training = files.config.get("training")
        model.history_ = History(**_history(training if isinstance(training, dict) else {}))
        return model

    @classmethod
    def load(cls, directory: str | os.PathLike[str]) -> Seq2Seq:
        return cls.from_files(load_model_dir(directory))

    source_vocab_: Vocabulary


def _history(training: dict[str, Any]) -> dict[str, Any]:
    h = training.get("history")
    if not isinstance(h, dict):
        return {}
    return {k: h[k] for k in ("epochs", "best_epoch", "stopped", "seconds") if k in h}


def _check_pairs(sources: Sequence[Tokens], targets: Sequence[Tokens]) -> None:
    if len(sources) != len(targets):
        raise DataError(f"{len(sources)} sources but {len(targets)} targets")
    for i, (src, tgt) in enumerate(zip(sources, targets, strict=True)):
        if isinstance(src, str) or isinstance(tgt, str):
            raise DataError(f"pair {i + 1}: give lists of tokens, not str")
        if not len(src) or not len(tgt):
            raise DataError(f"pair {i + 1}: the {'source' if not len(src) else 'target'} is empty")
