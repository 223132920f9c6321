"""The label side of the task models, whatever their inputs (tokens or real-valued frames).

Two kinds of output, each a mixin that a task model combines with its input side:

- :class:`ClassOutputs`, many-to-one: one label per sequence. Two classes go through
  Dense(1, sigmoid) and binary cross-entropy, more through Dense(K, softmax) and
  cross-entropy (Keras's ``binary_crossentropy`` / ``sparse_categorical_crossentropy``).
- :class:`TagOutputs`, many-to-many synchronised: one label per step, the softmax at
  every step, the notes' labelling loss (summed over a sequence's steps, averaged over
  sequences); or, with the ``crf`` setting, emission scores and a CRF
  (:mod:`rnnkit.models.crf_head`), decoded by Viterbi. Its best epoch is the one of
  the best ``monitor`` figure, and ``"auto"`` follows the tags: entity F1 for BIO
  or IOBES tags, step accuracy otherwise (:func:`tag_monitor`).

The input side supplies ``_inputs(x)``: the list of (T_i,) id or (T_i, F) frame arrays
the network reads. Labels are kept as strings in ``labels_`` (sorted), so saved models
and reports speak the user's names.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from rnnkit.errors import ConfigError, DataError
from rnnkit.layers import (
    CRF,
    Dense,
    Dropout,
    GlobalAveragePooling1D,
    GlobalMaxPooling1D,
    Layer,
)
from rnnkit.metrics import ClassificationReport, entity_scores, tag_scheme
from rnnkit.metrics.labelling import LabellingReport
from rnnkit.metrics.schemes import bio_labels, bio_to_iobes, iobes_to_bio
from rnnkit.models.crf_head import crf_layers
from rnnkit.models.heads import UNSEEN
from rnnkit.text import lengths_to_mask
from rnnkit.training import SequenceDataset

__all__ = [
    "MONITORS",
    "POOLING",
    "ClassOutputs",
    "TagOutputs",
    "check_pairs",
    "check_pooling",
    "pooled_head",
    "tag_monitor",
]

Array = np.ndarray
#: what a many-to-one model reads besides h_T ("last"): the "mean" or "max" of the states
POOLING = {"max": GlobalMaxPooling1D, "mean": GlobalAveragePooling1D}
#: the validation figures a tagger's early stopping can follow ("auto": see tag_monitor)
MONITORS = ("auto", "val_accuracy", "val_loss", "val_entity_f1")


def check_pooling(pooling: str) -> None:
    if pooling not in ("last", *POOLING):
        raise ConfigError(f"pooling={pooling!r}: use 'last', 'max' or 'mean'")


def pooled_head(pooling: str, dropout: float, output: Dense) -> list[Layer]:
    """What follows the recurrent layers of a many-to-one model: pooling, dropout, output.

    ``pooling="last"`` reads h_T (the recurrent layer returns only it); otherwise the
    recurrent layer returns every state and they are pooled over the real steps.
    """
    check_pooling(pooling)
    layers: list[Layer] = [] if pooling == "last" else [POOLING[pooling]()]
    if dropout:
        layers.append(Dropout(dropout))
    return [*layers, output]


class ClassOutputs:
    """One label per sequence (see the module docstring)."""

    labels_: list[str]
    model_: Any
    settings: dict[str, Any]

    if TYPE_CHECKING:  # supplied by the task model

        def _inputs(self, x: Any) -> list[Array]: ...
        def _require_fitted(self) -> None: ...
        def _stack(self, head: list[Layer], return_sequences: bool) -> Any: ...
        def _train(
            self, x: list[Any], y: Any, valid: tuple[list[Any], Any] | None, **options: Any
        ) -> None: ...

    def _learn_labels(self, labels: Sequence[Any]) -> Array:
        """Set ``labels_`` from the training labels; their ids."""
        self.labels_ = sorted({str(label) for label in labels})
        if len(self.labels_) < 2:
            raise DataError(f"only one class {self.labels_!r}: a classifier needs at least two")
        return self._label_ids(labels)

    def _fit_network(self, x: list[Array], y: Array, valid: tuple[Any, Any] | None) -> None:
        """Build the network for ``labels_`` (recurrent layers, pooling, dropout, output),
        compile it and train on encoded inputs `x`; `valid` holds raw inputs and labels."""
        s = self.settings
        head = pooled_head(s["pooling"], s["dropout"], self._output_layer())
        self.model_ = self._stack(head, return_sequences=s["pooling"] != "last")
        self.model_.compile(s["optimizer"], self._loss(), lr=s["lr"], clip_norm=s["clip_norm"])
        valid_data = None
        if valid is not None:
            valid_data = (self._inputs(valid[0]), self._label_ids(valid[1]))
        self._train(x, y, valid_data)

    def _output_units(self) -> int:
        return 1 if len(self.labels_) == 2 else len(self.labels_)

    def _output_layer(self) -> Dense:
        return (
            Dense(1, "sigmoid") if len(self.labels_) == 2 else Dense(len(self.labels_), "softmax")
        )

    def _loss(self) -> str:
        return (
            "binary_crossentropy" if len(self.labels_) == 2 else "sparse_categorical_crossentropy"
        )

    def _label_ids(self, labels: Sequence[Any]) -> Array:
        index = {label: i for i, label in enumerate(self.labels_)}
        try:
            return np.array([index[str(label)] for label in labels], dtype=np.int64)
        except KeyError as exc:
            raise DataError(
                f"label {exc.args[0]!r} was not seen in training (known: {', '.join(self.labels_)})"
            ) from None

    def training_data(self, x: Any, labels: Sequence[Any]) -> SequenceDataset:
        """`x` and `labels` encoded as the network trains on them (ids, scaled frames,
        label ids): the batches of :func:`rnnkit.viz.measure_gradients`."""
        self._require_fitted()
        per_step = self.model_.output_spec.time
        return SequenceDataset(self._inputs(x), self._label_ids(labels), per_step=per_step)

    def predict_proba(self, x: Any) -> Array:
        """(N, K) class probabilities, columns in the order of ``labels_``."""
        inputs = self._inputs(x)  # checks that the model is fitted
        out = self.model_.predict(inputs)
        if len(self.labels_) == 2:
            p = out[:, 0]
            return np.stack([1.0 - p, p], axis=1)
        return out

    def predict_ids(self, x: Any) -> Array:
        return self.predict_proba(x).argmax(axis=1)

    def predict(self, x: Any) -> list[str]:
        """The most probable label of each sequence."""
        return [self.labels_[i] for i in self.predict_ids(x)]

    def evaluate(self, x: Any, labels: Sequence[Any]) -> ClassificationReport:
        """Accuracy, per-class accuracy, confusion matrix and F1 on labelled sequences."""
        self._require_fitted()
        y = self._label_ids(labels)
        return ClassificationReport.from_predictions(y, self.predict_ids(x), self.labels_)


class TagOutputs:
    """One label per step (see the module docstring)."""

    labels_: list[str]
    model_: Any
    settings: dict[str, Any]
    #: what a sequence and a step are called in messages ("sentence", "token")
    item, unit = "sequence", "step"
    #: set by fit: the validation figure early stopping followed (:func:`tag_monitor`)
    monitor_: str
    #: "BIO" when BIO training tags were learnt as IOBES (the ``iobes`` setting):
    #: ``labels_`` are then IOBES, and :meth:`predict` gives BIO back
    given_scheme_: str | None = None

    if TYPE_CHECKING:  # supplied by the task model

        def _inputs(self, x: Any) -> list[Array]: ...
        def _per_step_network(self, *output: Layer) -> Any: ...
        def _train(
            self, x: list[Any], y: Any, valid: tuple[list[Any], Any] | None, **options: Any
        ) -> None: ...

    def _fit_network(self, x: list[Array], y: list[Array], valid: tuple[Any, Any] | None) -> None:
        """Build the per-step softmax network for ``labels_`` (emission scores and a CRF
        with the ``crf`` setting), compile it and train on encoded inputs `x`; `valid`
        holds raw inputs and tags."""
        s = self.settings
        if self._uses_crf():
            self.model_ = self._per_step_network(*crf_layers(self.labels_))
            loss = "crf"
        else:
            self.model_ = self._per_step_network()
            loss = "sparse_categorical_crossentropy"
        self.model_.compile(s["optimizer"], loss, lr=s["lr"], clip_norm=s["clip_norm"])
        self.model_.reduction = s["reduction"]
        self.monitor_ = tag_monitor(s["monitor"], self.labels_)
        valid_data = None
        options: dict[str, Any] = {"monitor": "val_accuracy"}  # no validation: none followed
        if valid is not None:
            check_pairs(*valid, self.item, self.unit)
            # NOTE: a validation tag never seen in training is UNSEEN: scored as wrong
            valid_data = (self._inputs(valid[0]), self._tag_ids(valid[1], unseen=True))
            options = {"monitor": self.monitor_}
            if s.get("lr_decay"):
                options["lr_decay"] = s["lr_decay"]
            if tag_scheme(self.labels_):  # recorded every epoch, whichever figure is followed
                options["val_scores"] = self._entity_f1_of(*valid)
        self._train(x, y, valid_data, **options)

    def _uses_crf(self) -> bool:
        """Whether the network ends in a CRF: the ``crf`` setting, where ``"auto"`` is
        yes for BIO or IOBES tags (entities, whose tags depend on their neighbours'),
        with the sentence loss a CRF has (``reduction="sequence_mean"``)."""
        crf = self.settings.get("crf", False)
        if crf == "auto":
            auto = self.settings.get("reduction", "sequence_mean") == "sequence_mean"
            return auto and tag_scheme(self.labels_) is not None
        return bool(crf)

    def _entity_f1_of(
        self, x: Any, tags: Sequence[Sequence[Any]]
    ) -> Callable[[], dict[str, float]]:
        """The ``val_scores`` of a run: the micro entity F1 of the current weights'
        predictions on `x` against the BIO or IOBES `tags`, read in the scheme of
        ``labels_`` (seqeval's default mode)."""
        gold = [[str(t) for t in seq] for seq in tags]
        scheme = self.given_scheme_ or tag_scheme(self.labels_)
        return lambda: {"entity_f1": entity_scores(gold, self.predict(x), scheme)["f1"]}

    @property
    def tags_(self) -> list[str]:
        """The tags :meth:`predict` gives, sorted: ``labels_``, or their BIO names
        when BIO tags were learnt as IOBES."""
        return bio_labels(self.labels_) if self.given_scheme_ else self.labels_

    def _learn_tags(self, tags: Sequence[Sequence[Any]]) -> list[Array]:
        """Set ``labels_`` (and ``given_scheme_``) from the training tags; their ids,
        one array per sequence."""
        given = sorted({str(t) for seq in tags for t in seq})
        if len(given) < 2:
            raise DataError(f"only one tag {given!r}: a tagger needs at least two")
        self.given_scheme_ = "BIO" if self._learns_iobes(given) else None
        learnt = [bio_to_iobes([str(t) for t in seq]) for seq in tags] if self.given_scheme_ else []
        self.labels_ = sorted({t for seq in learnt for t in seq}) if learnt else given
        return self._tag_ids(tags)

    def _learns_iobes(self, labels: list[str]) -> bool:
        """Whether BIO `labels` are learnt as IOBES: the ``iobes`` setting, where
        ``"auto"`` is yes for BIO tags when the words start from pretrained vectors
        (IOBES and other tags are learnt as given).

        NOTE: "auto" follows the dev sets. IOBES splits each entity type's tags in
        four, so each is seen less often. On WNUT-17, with pretrained vectors it raised
        the dev F1 at three seeds of three; without them it lowered the dev F1 at both
        seeds scored on dev, and the test F1 at all three (0.216 against 0.186).
        """
        iobes = self.settings.get("iobes", False)
        scheme = tag_scheme(labels)
        if iobes is True and scheme is None:
            raise ConfigError(
                "iobes=True: the training tags are neither BIO nor IOBES "
                f"(for example {next(t for t in labels if tag_scheme([t]) is None)!r})"
            )
        if iobes == "auto":
            iobes = self.settings.get("embeddings") is not None
        return bool(iobes) and scheme == "BIO"

    def _tag_ids(self, tags: Sequence[Sequence[Any]], unseen: bool = False) -> list[Array]:
        """Tag ids, one array per sequence; a tag not in ``labels_`` is a DataError, or
        with `unseen` the id :data:`~rnnkit.models.heads.UNSEEN` (no loss, always wrong).
        BIO tags learnt as IOBES are converted first (:func:`.schemes.bio_to_iobes`)."""
        index = {t: i for i, t in enumerate(self.labels_)}
        if self.given_scheme_:
            tags = [bio_to_iobes([str(t) for t in seq]) for seq in tags]
        out = []
        for i, seq in enumerate(tags):
            unknown = [t for t in seq if str(t) not in index]
            if unknown and not unseen:
                raise DataError(f"{self.item} {i + 1}: tag {unknown[0]!r} was not seen in training")
            out.append(np.array([index.get(str(t), UNSEEN) for t in seq], dtype=np.int64))
        return out

    def training_data(self, x: Any, tags: Sequence[Sequence[Any]]) -> SequenceDataset:
        """`x` and `tags` encoded as the network trains on them (ids or scaled frames,
        one tag id per step): the batches of :func:`rnnkit.viz.measure_gradients`."""
        check_pairs(x, tags, self.item, self.unit)
        return SequenceDataset(self._inputs(x), self._tag_ids(tags), per_step=True)

    def predict_proba(self, x: Any) -> list[Array]:
        """Per sequence, a (T_i, K) array of tag probabilities (columns as ``labels_``,
        the tags the network learnt: IOBES when BIO tags were learnt as IOBES).

        With a CRF, the marginals ``P(y_t = k | x)`` over all paths (forward-backward),
        not the softmax of the emission scores; their argmax step by step need not be
        the Viterbi path that :meth:`predict` returns.
        """
        inputs = self._inputs(x)
        out = self.model_.predict(inputs)  # (N, T, K), zeros at pads
        crf = self.model_.output_layer
        if isinstance(crf, CRF):  # out holds the emission scores
            out = crf.marginals(out, lengths_to_mask([len(seq) for seq in inputs]))
        return [out[i, : len(seq)] for i, seq in enumerate(inputs)]

    def predict(self, x: Any) -> list[list[str]]:
        """The most probable tag of every step; with a CRF, the most probable path
        (Viterbi), which never takes a transition the tags' scheme forbids. Tags
        learnt as IOBES come back in BIO, the scheme they were given in."""
        tags = [[self.labels_[k] for k in path] for path in self.predict_ids(x)]
        return [iobes_to_bio(seq) for seq in tags] if self.given_scheme_ else tags

    def predict_ids(self, x: Any) -> list[Array]:
        """Per sequence, the (T_i,) ids into ``labels_`` of the predicted tags (as the
        network learnt them): the best tag of each step, or with a CRF the Viterbi path."""
        crf = self.model_.output_layer if hasattr(self, "model_") else None
        if not isinstance(crf, CRF):
            return [p.argmax(axis=1) for p in self.predict_proba(x)]
        inputs = self._inputs(x)
        E = self.model_.predict(inputs)  # (N, T, K) emission scores, zeros at pads
        paths = crf.decode(E, lengths_to_mask([len(seq) for seq in inputs]))
        return [np.asarray(path, dtype=np.int64) for path in paths]

    def evaluate(self, x: Any, tags: Sequence[Sequence[Any]]) -> LabellingReport:
        """Step accuracy, per-tag accuracy, confusion matrix, F1 (and entity F1 for BIO or IOBES).

        Gold tags never seen in training are counted as unknown and scored as errors.
        """
        check_pairs(x, tags, self.item, self.unit)
        gold = [[str(t) for t in seq] for seq in tags]
        return LabellingReport.from_sequences(gold, self.predict(x), self.tags_)


def tag_monitor(monitor: str, labels: Sequence[str]) -> str:
    """The validation figure a tagger's early stopping follows, and its kept epoch.

    ``"auto"`` is the entity F1 (``val_entity_f1``) when the training tags are BIO or
    IOBES (:func:`~rnnkit.metrics.tag_scheme`), the figure NER is judged by: a tagger
    that tags every token ``O`` has a token accuracy near 90% on WNUT-17 but an entity
    F1 of 0. Otherwise it is the step accuracy (``val_accuracy``), as for POS tags. Any
    other choice of :data:`MONITORS` stands.

    Raises
    ------
    ConfigError
        A name not in :data:`MONITORS`, or ``val_entity_f1`` for tags that are neither BIO nor
        IOBES.

    Examples
    --------
    >>> tag_monitor("auto", ["B-person", "I-person", "O"]), tag_monitor("auto", ["DET", "NOUN"])
    ('val_entity_f1', 'val_accuracy')
    >>> tag_monitor("auto", ["S-person", "B-person", "E-person", "O"])
    'val_entity_f1'
    """
    if monitor not in MONITORS:
        raise ConfigError(f"monitor={monitor!r}: use one of {', '.join(map(repr, MONITORS))}")
    entities = tag_scheme(labels) is not None
    if monitor == "val_entity_f1" and not entities:
        raise ConfigError(
            "monitor='val_entity_f1': the training tags are neither BIO (O, B-<type>, "
            "I-<type>) nor IOBES (O, B-<type>, I-<type>, E-<type>, S-<type>)"
        )
    if monitor == "auto":
        return "val_entity_f1" if entities else "val_accuracy"
    return monitor


def check_pairs(
    inputs: Sequence[Any], tags: Sequence[Sequence[Any]], item: str, unit: str = "step"
) -> None:
    """Refuse unequal counts of sequences and tag sequences, or of steps and tags."""
    if len(inputs) != len(tags):
        raise DataError(f"{len(inputs)} {item}s but {len(tags)} tag sequences")
    for i, (steps, seq) in enumerate(zip(inputs, tags, strict=True)):
        if len(steps) != len(seq):
            raise DataError(f"{item} {i + 1}: {len(steps)} {unit}s but {len(seq)} tags")
