"""Open any saved model directory as the task model that wrote it."""

from __future__ import annotations

import os
from typing import Any

from rnnkit.errors import ModelFileError
from rnnkit.io import CONFIG_FILE, ModelFiles, load_model_dir
from rnnkit.models.baseline import BagOfWordsClassifier
from rnnkit.models.classifier import SequenceClassifier
from rnnkit.models.frames import FEATURES_FILE, FrameClassifier, FrameTagger
from rnnkit.models.language import LanguageModel
from rnnkit.models.regressor import FrameRegressor
from rnnkit.models.seq2seq import Seq2Seq
from rnnkit.models.tagger import SequenceTagger

__all__ = ["load_model"]

#: task -> the model of real-valued inputs that does it
FRAME_MODELS: dict[str, Any] = {
    "classify": FrameClassifier,
    "tag": FrameTagger,
    "regress": FrameRegressor,
}
#: task -> the model of text that does it (classify: the recurrent one or the baseline)
TEXT_MODELS: dict[str, Any] = {"tag": SequenceTagger, "lm": LanguageModel, "seq2seq": Seq2Seq}


def load_model(directory: str | os.PathLike[str]) -> Any:
    """Load a model directory as the task model (or baseline) that wrote it.

    Raises ModelFileError, naming the file and the reason, for anything malformed (a
    training setting of the wrong type or out of range included), and for a file
    damaged or changed since the model was saved (its SHA-256 differs).
    """
    files = load_model_dir(directory)
    cls = _model_class(files)
    try:
        model = cls.from_files(files)
    except ArithmeticError as exc:  # a setting such as embed_scale=1e308 overflows
        where = files.path / CONFIG_FILE
        raise ModelFileError(f"{where}: invalid settings ({exc}; a setting out of range)") from None
    files.verify()  # NOTE: for the baseline: the others did, in persist.load_weights
    return model


def _model_class(files: ModelFiles) -> Any:
    """The task model (or baseline) class that wrote a loaded model directory."""
    task = files.config.get("task")
    arch = files.config["architecture"]
    where = files.path / CONFIG_FILE
    if FEATURES_FILE in files.extra:  # real-valued inputs
        if task not in FRAME_MODELS:
            raise ModelFileError(f"{where}: task {task!r} does not read frames")
        return FRAME_MODELS[task]
    if task in TEXT_MODELS:
        return TEXT_MODELS[task]
    if task != "classify":
        raise ModelFileError(f"{where}: task {task!r} is not one this rnnkit can load")
    if arch.get("class") == "BagOfWordsNB":
        return BagOfWordsClassifier
    if arch.get("class") == "Sequential":
        return SequenceClassifier
    raise ModelFileError(f"{where}: unknown architecture class {arch.get('class')!r}")
