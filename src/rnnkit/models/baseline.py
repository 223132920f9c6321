"""The bag-of-words + Naive Bayes baseline as a task model with a model directory.

It has the interface of :class:`~rnnkit.models.classifier.SequenceClassifier`
(``fit``, ``predict``, ``predict_proba``, ``evaluate``, ``save``, ``load``), so the
command line trains, evaluates and serves both the same way and users can see what
word order adds.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rnnkit.errors import ConfigError, DataError, ModelFileError
from rnnkit.io import ModelFiles, save_model_dir
from rnnkit.metrics import ClassificationReport
from rnnkit.text.bow import BagOfWordsNB
from rnnkit.text.tokenize import word_tokenize

__all__ = ["BagOfWordsClassifier"]


class BagOfWordsClassifier:
    """Word counts + multinomial Naive Bayes (scikit-learn), saved without pickle."""

    task = "classify"

    def __init__(self, **settings: Any) -> None:
        self.settings = settings
        self.nb_ = BagOfWordsNB(**settings)

    def fit(
        self, texts: Sequence[str], labels: Sequence[str], valid: Any = None
    ) -> BagOfWordsClassifier:
        if len(set(labels)) < 2:
            raise DataError(f"only one class {sorted(set(labels))!r}: a classifier needs two")
        self.nb_.fit(list(texts), [str(label) for label in labels])
        return self

    @property
    def labels_(self) -> list[str]:
        return self.nb_.labels_

    def _texts(self, texts: Sequence[str]) -> list[str]:
        """The texts, each checked to hold at least one token."""
        texts = list(texts)
        for i, text in enumerate(texts):
            if not word_tokenize(text):
                raise DataError(f"text {i + 1} {text!r} has no tokens")
        return texts

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        return self.nb_.predict_proba(self._texts(texts))

    def predict(self, texts: Sequence[str]) -> list[str]:
        return self.nb_.predict(self._texts(texts))

    def evaluate(self, texts: Sequence[str], labels: Sequence[str]) -> ClassificationReport:
        index = {label: i for i, label in enumerate(self.labels_)}
        unknown = [label for label in labels if str(label) not in index]
        if unknown:
            raise DataError(
                f"label {unknown[0]!r} was not seen in training (known: {', '.join(self.labels_)})"
            )
        y = np.array([index[str(label)] for label in labels])
        return ClassificationReport.from_predictions(
            y, self.nb_.predict_ids(list(texts)), self.labels_
        )

    def save(
        self, directory: str | os.PathLike[str], *, extra: dict[str, Any] | None = None
    ) -> Path:
        config, arrays = self.nb_.to_state()
        return save_model_dir(
            directory,
            config={"task": self.task, "architecture": config, "training": extra or {}},
            weights={f"naive_bayes.{k}": v for k, v in arrays.items()},
        )

    @classmethod
    def from_files(cls, files: ModelFiles) -> BagOfWordsClassifier:
        arrays = {k.split(".", 1)[-1]: v for k, v in files.weights.items()}
        try:
            nb = BagOfWordsNB.from_state(files.config["architecture"], arrays)
        except (ModelFileError, ConfigError, TypeError, ValueError) as exc:
            raise ModelFileError(f"{files.path}: {exc}") from None
        clf = cls()
        clf.nb_ = nb
        return clf
