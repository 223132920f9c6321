"""Open any saved model directory as the task model that wrote it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from rnnkit.errors import ModelFileError
from rnnkit.io import load_model_dir
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


def load_model(directory: str | os.PathLike[str]) -> Any:
    """Load a model directory as the task model (or baseline) that wrote it.

    Raises ModelFileError, naming the file and the reason, for anything malformed.
    """
    files = load_model_dir(directory)
    task = files.config.get("task")
    arch = files.config["architecture"]
    where = Path(directory) / "config.json"
    if FEATURES_FILE in files.extra:  # real-valued inputs
        if task not in FRAME_MODELS:
            raise ModelFileError(f"{where}: task {task!r} does not read frames")
        return FRAME_MODELS[task].from_files(files)
    if task == "tag":
        return SequenceTagger.from_files(files)
    if task == "lm":
        return LanguageModel.from_files(files)
    if task == "seq2seq":
        return Seq2Seq.from_files(files)
    if task != "classify":
        raise ModelFileError(f"{where}: task {task!r} is not one this rnnkit can load")
    if arch.get("class") == "BagOfWordsNB":
        return BagOfWordsClassifier.from_files(files)
    if arch.get("class") == "Sequential":
        return SequenceClassifier.from_files(files)
    raise ModelFileError(f"{where}: unknown architecture class {arch.get('class')!r}")
