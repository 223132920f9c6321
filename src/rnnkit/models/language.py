r"""LanguageModel: next-token prediction on long text, and generation from it.

The notes' next-letter example: after reading N A M A S T, the network should say E.
A language model does that at every step: input x_t is token t of the text, target
y_t is token t + 1, and the output softmax(V h_t + c) is a distribution over the
vocabulary. It is the synchronised many-to-many network trained with targets shifted
by one; at generation time it becomes one-to-many, each sampled token fed back in as
the next input.

Text of any length is trained with truncated BPTT in windows of ``bptt`` steps (see
:mod:`rnnkit.training.streams`). With ``stateful=True``, the default, the state is
carried from each window to the next one of the same stream, and reset to zero at
the start of every epoch, of every evaluation and of every generation; gradients stop
at each window's first step. With ``stateful=False`` every window starts from zero.
The loss is the mean cross-entropy per token, in nats; ``evaluate`` also gives the
perplexity and bits per token (bits per character at char level). With validation
text, the learning rate is halved after every epoch that does not lower the
validation loss (``lr_decay``), and the best epoch's weights are kept.

The NAMASTE example: a small character RNN reads the word and learns every next
letter, the 8th being the end of the word (a newline). The two A's are followed by
different letters (M, then S), so the network must use its state, not only the
current letter.

>>> lm = LanguageModel(level="char", hidden=16, embed_dim=8, lr=0.02, epochs=150,
...                    bptt=8, batch_size=1, verbose=0)
>>> _ = lm.fit("namaste\n")
>>> [lm.predict_next("namaste"[:i]) for i in range(1, 8)]
['a', 'm', 'a', 's', 't', 'e', '\n']
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from rnnkit.data.corpus import (
    TextCorpus,
    check_level,
    corpus_from_text,
    encode_tokens,
    read_corpus,
    tokenize,
)
from rnnkit.errors import ConfigError, DataError, ModelFileError, ShapeError
from rnnkit.io import ModelFiles
from rnnkit.layers.recurrent import RecurrentLayer
from rnnkit.metrics.language import LanguageModelReport
from rnnkit.models.generation import iter_generate
from rnnkit.models.stateful import StatefulNetwork
from rnnkit.models.task import TaskModel
from rnnkit.text.vocab import EOS, Vocabulary
from rnnkit.training import (
    FitConfig,
    TextStreams,
)
from rnnkit.training import evaluate as evaluate_source
from rnnkit.training import fit as fit_source

__all__ = ["LanguageModel"]

Array = np.ndarray

#: the constructor's settings, with their defaults (stored in config.json)
DEFAULTS: dict[str, Any] = {
    "level": "char",  # tokens are characters ("char") or words ("word")
    "embed_dim": 64,  # size of the learned embedding; ignored with one_hot
    "embed_scale": 1.73,  # embeddings start uniform in [-scale, scale]: unit variance
    "one_hot": False,  # one-hot inputs (a row lookup of U) instead of an embedding
    "embeddings": None,  # a file of pretrained word vectors that E starts from (a path)
    "freeze_embeddings": False,  # keep E as the file gave it (needs embeddings)
    "cell": "rnn",  # "rnn" (tanh SimpleRNN), "lstm" or "gru"
    "hidden": 256,  # d, the state size
    "layers": 1,  # stacked recurrent layers
    "bidirectional": False,  # a language model reads left to right only
    "activation": "tanh",
    "dropout": 0.0,  # between stacked layers and before the output layer
    "embed_dropout": 0.0,  # on the embedded inputs
    "min_freq": 1,  # word level: rarer words map to <unk>
    "max_vocab": None,  # word level: keep at most this many words
    "bptt": 64,  # steps per truncated-BPTT window
    "stateful": True,  # carry the state from window to window (see the module docstring)
    "optimizer": "adam",
    "lr": 3e-3,
    "lr_decay": 0.5,  # halve the learning rate after an epoch that does not lower val_loss
    "batch_size": 64,  # parallel streams
    "epochs": 30,
    "clip_norm": 1.0,  # global gradient-norm clipping
    "patience": 3,  # early stopping on the validation loss
    "monitor": "val_loss",
    "max_minutes": None,
    "seed": 0,
    "dtype": "float32",
    "verbose": 1,
}


class LanguageModel(TaskModel):
    """A character- or word-level recurrent language model (see the module docstring).

    Every keyword is a setting listed in ``DEFAULTS``. Train with :meth:`fit` on a
    string or :meth:`fit_file` on a text file; score with :meth:`evaluate`; sample
    with :meth:`generate` or, token by token, :meth:`iter_generate`.
    """

    task = "lm"
    DEFAULTS = DEFAULTS

    def _check_settings(self) -> None:
        s = self.settings
        check_level(s["level"])
        if s["bidirectional"]:
            raise ConfigError(
                "a language model predicts the next token from the ones before it: "
                "bidirectional does not apply"
            )
        for key in ("bptt", "batch_size", "epochs", "hidden"):
            if int(s[key]) < 1:
                raise ConfigError(f"{key}={s[key]}: must be at least 1")

    def _output_units(self) -> int:
        return len(self.vocab_)

    # -- learning ------------------------------------------------------------------
    def fit(self, text: str | TextCorpus, valid: str | TextCorpus | None = None) -> LanguageModel:
        """Build the vocabulary from `text` (a str or a corpus), then train on it."""
        corpus = self._corpus(text, "text")
        valid_corpus = None if valid is None else self._corpus(valid, "valid", corpus.vocab)
        return self.fit_corpus(corpus, valid_corpus)

    def fit_file(
        self,
        path: str | Path,
        *,
        valid: str | Path | None = None,
        valid_fraction: float | None = 0.1,
        encoding: str = "utf-8",
    ) -> LanguageModel:
        """Train on a text file, streaming it; validate on `valid`, or on its last
        `valid_fraction` of tokens (None or 0: no validation)."""
        s = self.settings
        corpus = read_corpus(
            path, s["level"], min_freq=s["min_freq"], max_vocab=s["max_vocab"], encoding=encoding
        )
        held = None
        if valid is not None:
            held = read_corpus(valid, s["level"], vocab=corpus.vocab, encoding=encoding)
        elif valid_fraction:
            corpus, held = corpus.split(valid_fraction)
        return self.fit_corpus(corpus, held)

    def _corpus(
        self, text: str | TextCorpus, what: str, vocab: Vocabulary | None = None
    ) -> TextCorpus:
        """`text` as a corpus: encoded with `vocab`, or with a vocabulary built from it."""
        s = self.settings
        if isinstance(text, TextCorpus):
            if text.level != s["level"]:
                raise ConfigError(f"{what} is a {text.level}-level corpus, the model {s['level']}")
            return text
        return corpus_from_text(
            text, s["level"], vocab=vocab, min_freq=s["min_freq"], max_vocab=s["max_vocab"]
        )

    def fit_corpus(self, corpus: TextCorpus, valid: TextCorpus | None = None) -> LanguageModel:
        """Train on a corpus (its vocabulary becomes the model's); validate on `valid`."""
        s = self.settings
        if len(corpus) < 2:
            raise DataError(f"{corpus.path}: one token is too little text to learn from")
        self.vocab_ = corpus.vocab
        self.labels_ = self.vocab_.tokens  # the output layer's classes are the tokens
        self.model_ = self._per_step_network()
        self.model_.compile(
            s["optimizer"], "sparse_categorical_crossentropy", lr=s["lr"], clip_norm=s["clip_norm"]
        )
        self.model_.reduction = "token_mean"
        network = StatefulNetwork(self.model_)
        train = TextStreams(corpus.ids, s["batch_size"], s["bptt"], s["stateful"])
        held = None if valid is None else self._streams(valid.ids)
        self.initial_loss_ = self._sanity_line(network, train)
        config = FitConfig(
            epochs=s["epochs"],
            batch_size=s["batch_size"],
            clip_norm=s["clip_norm"],
            max_minutes=s["max_minutes"],
            patience=s["patience"] if held is not None else None,
            lr_decay=s["lr_decay"],
            monitor=s["monitor"],
            bucket=False,
            verbose=s["verbose"],
            checkpoints=self.checkpoints,
            grad_log=self.grad_log,
            group=self.group,
        )
        rng = np.random.default_rng([s["seed"], 1])
        try:
            self.history_ = fit_source(network, train, self.model_.optimizer, config, rng, held)
        finally:
            self.model_.release_buffers()
        return self

    def _streams(self, ids: Array) -> TextStreams:
        """Evaluation streams: the training layout, state carried, nothing random."""
        return TextStreams(ids, self.settings["batch_size"], self.settings["bptt"], stateful=True)

    def _sanity_line(self, network: StatefulNetwork, train: TextStreams) -> float:
        """The untrained loss on the first batch, which should be about ln V."""
        r = network.eval_batch(train.batch(train.batches()[0]))
        network.states["eval"] = None
        loss = r.loss_sum / max(r.count, 1)
        if self.settings["verbose"]:
            V = len(self.vocab_)
            print(
                f"untrained loss {loss:.3f} nats per token; uniform over {V:,} tokens "
                f"would be ln {V} = {math.log(V):.3f}",
                flush=True,
            )
        return loss

    # -- scoring -----------------------------------------------------------------------
    def evaluate(self, text: str | TextCorpus) -> LanguageModelReport:
        """Mean loss per token (nats), perplexity and bits per token on `text`.

        The text is read as in training, in ``batch_size`` streams with the state
        carried from window to window, starting from zero.
        A character the model never saw is left out of the text and counted in the
        report's ``unknown``; an unknown word is read as ``<unk>`` and counted.
        """
        self._require_fitted()
        if isinstance(text, str):
            text = corpus_from_text(text, self.settings["level"], vocab=self.vocab_, unknown="skip")
        corpus = self._corpus(text, "text", self.vocab_)
        return self.evaluate_ids(corpus.ids, corpus.unknown)

    def evaluate_file(self, path: str | Path, encoding: str = "utf-8") -> LanguageModelReport:
        """:meth:`evaluate` on a text file, read with the model's vocabulary."""
        self._require_fitted()
        corpus = read_corpus(
            path, self.settings["level"], vocab=self.vocab_, encoding=encoding, unknown="skip"
        )
        return self.evaluate_ids(corpus.ids, corpus.unknown)

    def evaluate_ids(self, ids: Array, unknown: int = 0) -> LanguageModelReport:
        """The report on token ids; `unknown`: how many tokens of the text the vocabulary
        lacked (recorded in the report)."""
        if len(ids) < 2:
            raise DataError("evaluation needs at least two tokens (one to predict)")
        streams = self._streams(ids)
        mean = evaluate_source(StatefulNetwork(self.model_), streams)["loss"]  # per token
        n = streams.n_targets
        return LanguageModelReport(mean * n, n, self.settings["level"], unknown)

    # -- generation --------------------------------------------------------------------
    def encode(self, text: str, what: str = "the prime") -> Array:
        """Ids of `text`; an unknown character is a DataError, an unknown word ``<unk>``."""
        self._require_fitted()
        level = self.settings["level"]
        return encode_tokens(tokenize(text, level), self.vocab_, level, what)

    def start_token(self) -> int:
        """The input generation starts from without a prime: ``<eos>`` (words), a newline
        (characters; else the first character of the vocabulary)."""
        if self.settings["level"] == "word":
            return self.vocab_[EOS]
        return self.vocab_["\n"] if "\n" in self.vocab_ else 0

    def iter_generate(
        self,
        prime: str | None = None,
        length: int = 500,
        *,
        temperature: float = 1.0,
        top_k: int | None = None,
        seed: int | None = None,
        state: Any = None,
    ) -> Iterator[str]:
        """Yield the generated text piece by piece (a character, or a word with its space).

        Parameters
        ----------
        prime : text read before sampling (None or "": start from :meth:`start_token`)
        length : tokens to generate, at least 1
        temperature : divides the logits; 0 is greedy (always the most likely token)
        top_k : sample among the k most likely tokens only
        seed : same model, prime, settings and seed: the same text
        state : where the first recurrent layer starts instead of zeros, as a
            captioning decoder starts from image features: h_0 (d,) or (1, d), or
            (h_0, c_0) for an LSTM; or a list with one such entry per recurrent layer.
        """
        self._require_fitted()
        if int(length) < 1:
            raise ConfigError(f"length={length}: must be at least 1")
        ids = self.encode(prime) if prime else np.empty(0, dtype=np.int64)
        if ids.size == 0:  # no prime, or one with no tokens (spaces at word level)
            ids = np.array([self.start_token()])
        rng = np.random.default_rng(seed)
        states = self._initial_states(state)
        level = self.settings["level"]
        first = not prime or prime[-1].isspace()  # word level: no space before a line's first
        for token in iter_generate(
            self.model_, ids, int(length), rng=rng, temperature=temperature, top_k=top_k,
            states=states, exclude=self._never_generated(),
        ):  # fmt: skip
            word = self.vocab_.token(int(token[0]))
            if level == "char":
                yield word
            elif word == EOS:
                yield "\n"
                first = True
            else:
                yield word if first else " " + word
                first = False

    def _never_generated(self) -> list[int]:
        """``<pad>`` and ``<sos>``: never a token of the text, so never sampled."""
        ids = (self.vocab_.pad_id, self.vocab_.sos_id)
        return [i for i in ids if i is not None]

    def generate(self, prime: str | None = None, length: int = 500, **options: Any) -> str:
        """The text :meth:`iter_generate` yields, joined (without the prime)."""
        return "".join(self.iter_generate(prime, length, **options))

    def predict_next(self, text: str) -> str:
        """The most likely token after `text` (greedy)."""
        self._require_fitted()
        ids = self.encode(text, "the text")
        if ids.size == 0:
            raise DataError("the text has no tokens")
        logits = self.model_.forward(ids[None], logits=True)[0]  # (1, T, V): one pass
        return self.vocab_.token(int(np.argmax(logits[0, -1])))

    def _initial_states(self, state: Any) -> list[Any] | None:
        """`state` as step_model's list of per-layer states (batch 1)."""
        if state is None:
            return None
        recurrent = [l for l in self.model_.layers if isinstance(l, RecurrentLayer)]
        given = list(state) if isinstance(state, list) else [state]
        if len(given) > len(recurrent):
            raise ShapeError(f"{len(given)} states for {len(recurrent)} recurrent layers")
        out: list[Any] = []
        for layer, s in zip(recurrent, given + [None] * (len(recurrent) - len(given)), strict=True):
            if s is None:
                out.append(None)
            elif layer.n_states == 1:
                out.append(np.asarray(s, dtype=layer.dtype).reshape(1, -1))
            else:  # the layer checks that it is a pair (h, c)
                out.append(tuple(np.asarray(v, dtype=layer.dtype).reshape(1, -1) for v in s))
        return out

    # -- files -----------------------------------------------------------------------
    @classmethod
    def from_files(cls, files: ModelFiles) -> LanguageModel:
        model = super().from_files(files)
        if model.labels_ != model.vocab_.tokens:
            raise ModelFileError(f"{files.path / 'vocab.json'}: labels are not the tokens")
        return model
