"""Task models on real-valued sequences: speech, video and sensor frames.

Here every input x_t is a vector of F real numbers (12 LPC cepstra of a 25 ms speech
frame, the joint angles of a yoga pose in one video frame, a sensor reading) instead
of a token. The cell is unchanged, h_t = f(U x_t + W h_{t-1} + b), with U an (F, d)
matrix that multiplies a dense x_t; there is no embedding. Before they reach it, the
features are standardised with the mean and standard deviation fitted on the training
frames (``standardize=True``), and that scaling is saved with the model
(``features.json``), so evaluation and prediction scale new data the same way.

- :class:`FrameClassifier`, many-to-one: one label per sequence (a speaker, a vowel,
  a gesture), read from the last state h_T by default.
- :class:`FrameTagger`, many-to-many synchronised: one label per frame (speech or
  silence, the phase of a movement), bidirectional by default.
- :class:`~rnnkit.models.regressor.FrameRegressor`: real-valued targets with the mean
  squared error, per sequence or per frame, including next-value forecasting.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> rising = [np.cumsum(rng.random((n, 2)), axis=0) for n in (5, 7, 6, 8) * 6]
>>> falling = [-x for x in rising]
>>> clf = FrameClassifier(hidden=8, epochs=40, lr=0.01, seed=0, verbose=0)
>>> clf.fit(rising + falling, ["up"] * 24 + ["down"] * 24).predict([rising[0], -rising[1]])
['up', 'down']
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from rnnkit.data.frames import check_sequences
from rnnkit.data.scaling import Standardizer
from rnnkit.errors import DataError, ModelFileError
from rnnkit.io import ModelFiles
from rnnkit.layers import Layer
from rnnkit.models.outputs import ClassOutputs, TagOutputs, check_pairs, check_pooling
from rnnkit.models.task import TaskModel

__all__ = [
    "FEATURES_FILE",
    "FRAME_CLASSIFIER_DEFAULTS",
    "FRAME_DEFAULTS",
    "FRAME_TAGGER_DEFAULTS",
    "FrameClassifier",
    "FrameModel",
    "FrameTagger",
]

Array = np.ndarray
#: the model directory's record of the input features and their scaling
FEATURES_FILE = "features.json"

#: the settings every frame model has, with their defaults (stored in config.json)
FRAME_DEFAULTS: dict[str, Any] = {
    "standardize": True,  # scale each feature by the training mean and std
    "cell": "gru",  # "rnn" (tanh SimpleRNN), "lstm" or "gru"
    "hidden": 128,  # d, the size of the state (per direction)
    "layers": 1,  # stacked recurrent layers
    "bidirectional": False,  # also read each sequence from its end
    "activation": "tanh",  # f in h_t = f(U x_t + W h_{t-1} + b)
    "dropout": 0.0,  # between stacked layers and before the output layer
    "optimizer": "adam",
    "lr": 1e-3,
    "batch_size": 32,
    "epochs": 60,
    "clip_norm": 5.0,  # global gradient-norm clipping
    "patience": 10,  # early stopping: epochs without a better `monitor` (needs validation)
    "monitor": "val_loss",
    "max_minutes": None,  # time budget for training
    "max_len": None,  # training sequences longer than this are cut to it (counted)
    "seed": 0,
    "dtype": "float32",
    "verbose": 1,
}

#: a classifier reads h_T ("last"), or the "mean" or "max" of the states
FRAME_CLASSIFIER_DEFAULTS = {**FRAME_DEFAULTS, "pooling": "last"}
#: a tagger reads both directions; its loss is summed over frames, averaged over sequences
FRAME_TAGGER_DEFAULTS = {
    **FRAME_DEFAULTS,
    "bidirectional": True,
    "reduction": "sequence_mean",
    "monitor": "val_accuracy",
}


class FrameModel(TaskModel):
    """What the frame models share: checked, standardised (T_i, F) inputs.

    Learned attributes: ``features_`` (the feature names) and ``scaler_`` (a
    :class:`~rnnkit.data.scaling.Standardizer`, or None without standardisation).
    """

    DEFAULTS = FRAME_DEFAULTS

    def _input_layers(self) -> list[Layer]:
        return []  # the frames are x_t themselves

    def _input_dim(self) -> int:
        return len(self.features_)

    def _learn_inputs(
        self, sequences: Sequence[Any], features: Sequence[str] | None
    ) -> list[Array]:
        """Check the training sequences, fit the scaling on them; the network's inputs."""
        xs = check_sequences(sequences)
        F = xs[0].shape[1]
        self.features_ = [f"x{k + 1}" for k in range(F)] if features is None else list(features)
        if len(self.features_) != F:
            raise DataError(f"{len(self.features_)} feature names for {F} features")
        self.scaler_ = Standardizer.fit(xs) if self.settings["standardize"] else None
        return self._scaled(xs)

    def _scaled(self, xs: list[Array]) -> list[Array]:
        dtype = np.dtype(self.settings["dtype"])
        if self.scaler_ is None:
            return [x.astype(dtype) for x in xs]
        return self.scaler_.transform(xs, dtype)

    def _frames(self, sequences: Sequence[Any]) -> list[Array]:
        """Checked against the trained feature count, then standardised."""
        return self._scaled(check_sequences(sequences, len(self.features_)))

    def _inputs(self, x: Any) -> list[Array]:
        self._require_fitted()
        return self._frames(x)

    # -- files ---------------------------------------------------------------------
    def _vocab_record(self) -> dict[str, Any] | None:
        return {"labels": self.labels_}

    def _extra_files(self) -> dict[str, dict[str, Any]]:
        scaling = None if self.scaler_ is None else self.scaler_.to_dict()
        return {FEATURES_FILE: {"features": self.features_, "scaling": scaling}}

    def _read_vocab(self, files: ModelFiles) -> None:
        vocab = self._vocab_json(files)
        labels = vocab.get("labels")
        if not isinstance(labels, list):
            raise ModelFileError(f"{files.path / 'vocab.json'}: no list of 'labels'")
        self.labels_ = [str(label) for label in labels]
        self._read_features(files)

    def _read_features(self, files: ModelFiles) -> None:
        """Set ``features_`` and ``scaler_`` from features.json (ModelFileError if bad)."""
        where = str(files.path / FEATURES_FILE)
        record = files.extra.get(FEATURES_FILE)
        if record is None:
            raise ModelFileError(f"{where}: missing")
        names = record.get("features")
        if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
            raise ModelFileError(f"{where}: 'features' must be a non-empty list of names")
        self.features_ = names
        scaling = record.get("scaling")
        self.scaler_ = None if scaling is None else Standardizer.from_dict(scaling, where)
        if self.scaler_ is not None and self.scaler_.n_features != len(names):
            raise ModelFileError(
                f"{where}: {len(names)} features but a scaling of {self.scaler_.n_features}"
            )

    features_: list[str]
    scaler_: Standardizer | None


class FrameClassifier(ClassOutputs, FrameModel):
    """One label per real-valued sequence: recurrent layers, then a sigmoid or softmax.

    Every keyword is a setting of ``FRAME_DEFAULTS``, plus ``pooling``: what the output
    reads, h_T (``"last"``, the default), or the mean or max of the states.
    """

    task = "classify"
    DEFAULTS = FRAME_CLASSIFIER_DEFAULTS

    def _check_settings(self) -> None:
        super()._check_settings()
        check_pooling(self.settings["pooling"])

    def fit(
        self,
        sequences: Sequence[Any],
        labels: Sequence[Any],
        valid: tuple[Sequence[Any], Sequence[Any]] | None = None,
        features: Sequence[str] | None = None,
    ) -> FrameClassifier:
        """Fit the scaling and the network on (T_i, F) sequences and their labels.

        Parameters
        ----------
        sequences : list of (T_i, F) arrays (or (T_i,) for one feature)
        labels : one label per sequence
        valid : (sequences, labels), optional
            Reported every epoch, used for early stopping and to keep the best epoch.
        features : list of F names, optional (``x1 .. xF``)
        """
        if len(sequences) != len(labels):
            raise DataError(f"{len(sequences)} sequences but {len(labels)} labels")
        x = self._learn_inputs(self._cut(sequences)[0], features)
        self._fit_network(x, self._learn_labels(labels), valid)
        return self


class FrameTagger(TagOutputs, FrameModel):
    """One label per frame: recurrent layers (both directions), softmax at every step.

    The loss is the notes' labelling loss: cross-entropy summed over each sequence's
    real frames and averaged over the sequences (``reduction="token_mean"``: averaged
    over frames).
    """

    task = "tag"
    DEFAULTS = FRAME_TAGGER_DEFAULTS

    def fit(
        self,
        sequences: Sequence[Any],
        tags: Sequence[Sequence[Any]],
        valid: tuple[Sequence[Any], Sequence[Sequence[Any]]] | None = None,
        features: Sequence[str] | None = None,
    ) -> FrameTagger:
        """Fit the scaling and the network on (T_i, F) sequences and their per-frame tags."""
        check_pairs(sequences, tags, self.item, self.unit)
        sequences, tags = self._cut(sequences, tags)
        x = self._learn_inputs(sequences, features)
        self._fit_network(x, self._learn_tags(tags), valid)
        return self
