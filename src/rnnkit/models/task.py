"""What every task model shares: settings, the fitted check, and its model directory.

A task model (``SequenceClassifier``, ``SequenceTagger``) holds its settings in a dict
checked against the class's ``DEFAULTS``; once fitted it has ``vocab_``, ``labels_``,
``model_`` (a Sequential) and ``history_``. It saves as a model directory with the
settings and history in ``config.json`` and the vocabulary and labels in ``vocab.json``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from rnnkit.errors import ConfigError, ModelFileError
from rnnkit.io import ModelFiles, load_model_dir
from rnnkit.layers import CRF, Dense, Dropout, Layer
from rnnkit.models.encoder import input_layers, recurrent_layers
from rnnkit.models.persist import save_sequential, sequential_from_files
from rnnkit.models.pretrained import pretrained_matrix
from rnnkit.models.recorded import check_recorded_settings
from rnnkit.models.sequential import Sequential
from rnnkit.text import Vocabulary
from rnnkit.training import Checkpoints, GradNormLog, ParallelGroup

__all__ = ["TaskModel"]

T = TypeVar("T", bound="TaskModel")


class TaskModel:
    """Base class of the task models (see the module docstring)."""

    task: ClassVar[str] = ""
    DEFAULTS: ClassVar[dict[str, Any]] = {}
    #: where fit() keeps checkpoints of the run, and whether it resumes from them: a
    #: :class:`~rnnkit.training.Checkpoints`, set before fit (not a setting: not saved)
    checkpoints: Checkpoints | None = None
    #: where fit() streams the per-step gradient norms: a
    #: :class:`~rnnkit.training.GradNormLog`, set before fit (not a setting: not saved)
    grad_log: GradNormLog | None = None
    #: the ranks fit() trains with, data parallel: an ``rnnkit.distributed`` group
    #: (``world()`` under mpiexec), set before fit; None trains in this process alone
    group: ParallelGroup | None = None

    def __init__(self, **settings: Any) -> None:
        unknown = sorted(set(settings) - set(self.DEFAULTS))
        if unknown:
            known = ", ".join(self.DEFAULTS)
            raise ConfigError(f"unknown setting {unknown[0]!r}; known: {known}")
        self.settings = {**self._defaults_for(settings), **settings}
        # NOTE: which were given, so an embedding file may set embed_dim when it was not
        self._given = frozenset(settings)
        self._check_settings()

    @classmethod
    def _defaults_for(cls, settings: dict[str, Any]) -> dict[str, Any]:
        """The defaults that the given settings leave in force (``DEFAULTS`` here)."""
        return cls.DEFAULTS

    def _check_settings(self) -> None:
        """Refuse settings out of range (ConfigError); subclasses add their checks."""
        limit = self.settings.get("max_len")
        if limit is not None and (
            isinstance(limit, bool) or not isinstance(limit, int) or limit < 1
        ):
            raise ConfigError(f"max_len={limit!r}: give a positive number of steps, or None")

    def _uses_crf(self) -> bool:
        """Whether the network ends in a CRF (taggers may; see TagOutputs)."""
        return False

    def _output_units(self) -> int:
        """How many outputs the last Dense layer has for ``labels_``."""
        return len(self.labels_)

    def _encoder_layers(self, return_sequences: bool) -> list[Layer]:
        """The input layers and the recurrent layers that the settings describe."""
        s = self.settings
        return self._input_layers() + recurrent_layers(
            s["cell"],
            s["hidden"],
            layers=s["layers"],
            bidirectional=s["bidirectional"],
            activation=s["activation"],
            dropout=s["dropout"],
            return_sequences=return_sequences,
        )

    def _input_layers(self) -> list[Layer]:
        """What turns token ids into the cell's x_t: an embedding (with dropout) or one-hot.

        With the ``embeddings`` setting, the embedding starts from the file's vectors
        of ``vocab_`` (and its size is the file's).
        """
        s = self.settings
        initial = pretrained_matrix(
            s, self.vocab_, given=self._given, level=s.get("level", "word"), joined=self.joined_
        )
        return input_layers(
            len(self.vocab_),
            embed_dim=s["embed_dim"],
            one_hot=s["one_hot"],
            embed_scale=s["embed_scale"],
            embed_dropout=s["embed_dropout"],
            word_dropout=s.get("word_dropout", 0.0),
            initial=initial,
            trainable=not s.get("freeze_embeddings", False),
        )

    def _input_dim(self) -> int | None:
        """Features per step for real-valued inputs; None when the inputs are ids."""
        return None

    def _stack(self, head: list[Layer], return_sequences: bool) -> Sequential:
        """The encoder layers, then `head` (pooling, dropout, the output layer)."""
        s = self.settings
        layers = self._encoder_layers(return_sequences=return_sequences) + head
        return Sequential(layers, input_dim=self._input_dim(), seed=s["seed"], dtype=s["dtype"])

    def _per_step_network(self, *output: Layer) -> Sequential:
        """Encoder layers returning every step, dropout, and y_t = g(V h_t + c).

        `output` is the Dense layer (g = softmax over ``labels_`` unless given), and
        what follows it (a CRF).
        """
        head: list[Layer] = [Dropout(self.settings["dropout"])] if self.settings["dropout"] else []
        head.extend(output or [Dense(self._output_units(), "softmax")])
        return self._stack(head, return_sequences=True)

    def _cut(self, sequences: Sequence[Any], per_step: Sequence[Any] | None = None) -> tuple:
        """Training sequences (and their per-step targets) longer than the ``max_len``
        setting, cut to their first ``max_len`` steps; how many were cut goes to
        ``truncated_``. Very long texts or recordings then cost bounded memory."""
        limit = self.settings.get("max_len")
        self.truncated_ = 0
        if limit is None:
            return list(sequences), per_step
        self.truncated_ = sum(len(s) > limit for s in sequences)
        cut = [s[:limit] for s in sequences]
        return cut, None if per_step is None else [t[:limit] for t in per_step]

    def _train(
        self, x: list[Any], y: Any, valid: tuple[list[Any], Any] | None, **options: Any
    ) -> None:
        """Fit ``model_`` (compiled) with the settings' epochs, batches and stopping;
        `options` are FitConfig fields that replace the settings' (``monitor``) or add
        to them (``val_scores``)."""
        s = self.settings
        self.history_ = self.model_.fit(
            x,
            y,
            epochs=s["epochs"],
            batch_size=s["batch_size"],
            validation_data=valid,
            patience=s["patience"] if valid is not None else None,
            max_minutes=s["max_minutes"],
            verbose=s["verbose"],
            checkpoints=self.checkpoints,
            grad_log=self.grad_log,
            group=self.group,
            **{"monitor": s["monitor"], **options},
        )

    def _require_fitted(self) -> None:
        if not hasattr(self, "model_"):
            raise ConfigError(f"this {type(self).__name__} is not trained yet: call fit() first")

    # -- files ---------------------------------------------------------------------
    def save(
        self, directory: str | os.PathLike[str], *, extra: dict[str, Any] | None = None
    ) -> Path:
        """Write the model directory (config.json, weights.safetensors, vocab.json, ...)."""
        self._require_fitted()
        training = {"settings": self.settings, "history": self.history_.to_dict(), **(extra or {})}
        return save_sequential(
            self.model_,
            directory,
            task=self.task,
            training=training,
            vocab=self._vocab_record(),
            extra_json=self._extra_files(),
        )

    def _vocab_record(self) -> dict[str, Any] | None:
        """What vocab.json holds: the input vocabulary and the labels."""
        return {"tokens": self.vocab_.to_dict(), "labels": self.labels_}

    def _extra_files(self) -> dict[str, dict[str, Any]]:
        """Further JSON files of the model directory, by name (none here)."""
        return {}

    @classmethod
    def load(cls: type[T], directory: str | os.PathLike[str]) -> T:
        """Rebuild the model from a directory written by :meth:`save`."""
        return cls.from_files(load_model_dir(directory))

    @classmethod
    def _from_settings(cls: type[T], files: ModelFiles) -> T:
        """An untrained model with the settings a model directory records.

        ModelFileError when the directory holds another task or bad settings.
        """
        where = files.path / "config.json"
        if files.config.get("task") != cls.task:
            raise ModelFileError(f"{where}: task is {files.config.get('task')!r}, not {cls.task!r}")
        check_recorded_settings(files, cls)
        training = files.config.get("training")
        settings = training.get("settings", {}) if isinstance(training, dict) else {}
        if not isinstance(settings, dict):
            raise ModelFileError(f"{where}: training settings must be a JSON object")
        try:
            return cls(**{k: v for k, v in settings.items() if k in cls.DEFAULTS})
        except (ConfigError, TypeError) as exc:
            raise ModelFileError(f"{where}: {exc}") from None

    @staticmethod
    def _vocab_json(files: ModelFiles) -> dict[str, Any]:
        """The parsed vocab.json (ModelFileError when it is missing)."""
        if not isinstance(files.vocab, dict):
            raise ModelFileError(f"{files.path / 'vocab.json'}: missing")
        return files.vocab

    @classmethod
    def from_files(cls: type[T], files: ModelFiles) -> T:
        """Rebuild the model from a loaded model directory (ModelFileError if malformed)."""
        model = cls._from_settings(files)
        model._read_vocab(files)
        model.model_ = sequential_from_files(files)
        out = model.model_.output_layer
        k = len(model.labels_)
        if isinstance(out, CRF) != model._uses_crf() or (
            isinstance(out, CRF) and out.tags != model.labels_
        ):
            raise ModelFileError(
                f"{files.path / 'config.json'}: the CRF layer does not fit the crf setting "
                f"and the {k} labels"
            )
        if isinstance(out, CRF):  # the emission scores come from the Dense layer before it
            out = model.model_.layers[-2]
        if k < 2 or not isinstance(out, Dense) or out.units != model._output_units():
            raise ModelFileError(
                f"{files.path / 'config.json'}: the output layer does not fit {k} labels"
            )
        return model

    def _read_vocab(self, files: ModelFiles) -> None:
        """Set ``vocab_`` and ``labels_`` from vocab.json (ModelFileError if malformed)."""
        vocab_path = files.path / "vocab.json"
        vocab = self._vocab_json(files)
        try:
            self.vocab_ = Vocabulary.from_dict(vocab["tokens"])
            self.labels_ = [str(label) for label in vocab["labels"]]
        except KeyError as exc:
            raise ModelFileError(f"{vocab_path}: no {exc.args[0]!r} entry") from None
        except (TypeError, ValueError) as exc:
            raise ModelFileError(f"{vocab_path}: {exc}") from None

    # learned attributes, set by fit() or from_files()
    truncated_: int = 0  # training sequences cut to max_len by the last fit
    joined_: int = 0  # words of the embeddings file that joined the vocabulary in fit
    vocab_: Vocabulary
    labels_: list[str]
    model_: Any
    history_: Any
