"""Real-valued sequences: a ``frames`` CSV or an ``npz`` file (see
:mod:`rnnkit.data.frames`), read for a :class:`~rnnkit.models.FrameClassifier`
(``--task classify``, a label per sequence), a :class:`~rnnkit.models.FrameTagger`
(``--task tag``, a label per frame) or a :class:`~rnnkit.models.FrameRegressor`
(``--task regress``, numbers per sequence or per frame, or ``--forecast H`` to predict
the frame H steps ahead).
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np

from rnnkit.cli.data_flags import FORMAT_FLAGS, flag_value, refuse_format_flags
from rnnkit.cli.outputs import use_checkpoints, use_grad_log
from rnnkit.cli.ranks import use_group
from rnnkit.cli.tasks.finish import finish_training
from rnnkit.cli.tasks.small_data import plan_training
from rnnkit.cli.train_flags import model_settings
from rnnkit.data import FrameSet, formats_for
from rnnkit.data.formats import read_frame_file
from rnnkit.data.splits import split_indices
from rnnkit.errors import ConfigError, DataError
from rnnkit.models import FrameClassifier, FrameRegressor, FrameTagger
from rnnkit.models.frames import FrameModel

__all__ = ["NO_CONFUSION", "read", "score", "targets", "train", "training_data"]

#: --task -> the model of real-valued sequences
MODELS: dict[str, Any] = {
    "classify": FrameClassifier,
    "tag": FrameTagger,
    "regress": FrameRegressor,
}
NO_CONFUSION = "--plot draws a confusion matrix: a regressor has none"


def read(path: str, args: argparse.Namespace) -> FrameSet:
    """Read a frames CSV or an npz file, by --format or as the name and header say."""
    return read_frame_file(path, args.format, encoding=flag_value(args, "encoding"))


def targets(task: str, frames: FrameSet, forecast: int | None = None) -> Any:
    """What the model of `task` learns from the file's labels (None when forecasting)."""
    if task == "classify":
        if frames.per_step:
            i = next(i for i, s in enumerate(frames.labels) if len(set(s)) > 1)
            raise DataError(
                f"{frames.where(i)}: its label changes from frame to frame; "
                "use --task tag to label every frame"
            )
        return frames.labels
    if task == "tag":
        if frames.per_step:
            return frames.labels
        return [[label] * len(x) for label, x in zip(frames.labels, frames.sequences, strict=True)]
    if forecast is not None:
        return None
    return _numbers(frames)


def _numbers(frames: FrameSet) -> Any:
    """Regression targets: the label column as numbers, per sequence or per frame."""

    def number(text: str, i: int) -> float:
        try:
            value = float(text)
        except ValueError:
            raise DataError(f"{frames.where(i)}: label {text!r} is not a number") from None
        if not np.isfinite(value):
            raise DataError(f"{frames.where(i)}: label {text!r} is not a finite number")
        return value

    if frames.per_step:
        return [np.array([number(v, i) for v in seq]) for i, seq in enumerate(frames.labels)]
    return np.array([number(v, i) for i, v in enumerate(frames.labels)])


def _check_known(frames: FrameSet, model: Any) -> None:
    """Refuse a sequence label the classifier never saw, naming the sequence."""
    known = set(model.labels_)
    for i, label in enumerate(frames.labels):
        if isinstance(label, str) and label not in known:
            raise DataError(
                f"{frames.where(i)}: label {label!r} was not seen in training "
                f"(known: {', '.join(model.labels_)})"
            )


def train(args: argparse.Namespace) -> int:
    """``rnnkit train --task classify|tag|regress`` on a frames CSV or an npz file."""
    if args.model != "rnn":
        raise ConfigError(f"--model {args.model} applies to texts, not to real-valued frames")
    frame_formats = formats_for(args.task, FrameSet)
    message = "{flag} applies to {takers}, not to real-valued frames"
    refuse_format_flags(args, frame_formats, tuple(FORMAT_FLAGS), message)
    if args.plot and args.task == "regress":
        raise ConfigError(NO_CONFUSION)
    settings = model_settings(args, args.task, frames=True)
    model = MODELS[args.task](**settings)
    use_checkpoints(model, args)
    use_grad_log(model, args)
    use_group(model, args)
    forecast = model.settings.get("forecast")
    data = read(args.data, args)
    plan = plan_training(
        len(data),
        args.valid_split,
        split_given=getattr(args, "valid_split_given", True),
        batch_size=model.settings["batch_size"],
        epochs=model.settings["epochs"],
        epochs_given="epochs" in settings,
        has_valid=bool(args.valid),
    )
    if plan.message is not None:
        print(plan.message)
    model.settings["epochs"] = plan.epochs
    valid = None
    if args.valid:
        valid = read(args.valid, args).aligned(data.features)
    elif plan.split:
        keep, held = split_indices(len(data), args.valid_split, args.seed)
        data, valid = data.subset(keep), data.subset(held)
    test = read(args.test, args).aligned(data.features) if args.test else None
    wanted = targets(args.task, data, forecast)
    pair = None if valid is None else (valid.sequences, targets(args.task, valid, forecast))
    print(
        f"{data.path}: {len(data):,} sequences of {len(data.features)} features for training"
        + ("" if valid is None else f", {len(valid):,} for validation")
    )
    started = time.perf_counter()
    model.fit(data.sequences, wanted, valid=pair, features=data.features)
    finish_training(args, model, started, valid, test, lambda part: _evaluate(model, part))
    return 0


def _evaluate(model: Any, frames: FrameSet) -> Any:
    if isinstance(model, FrameClassifier):
        _check_known(frames, model)
    forecast = model.settings.get("forecast")
    return model.evaluate(frames.sequences, targets(model.task, frames, forecast))


def score(args: argparse.Namespace, model: FrameModel) -> Any:
    """The model's report on the frames of --data, aligned to its features by name."""
    return _evaluate(model, read(args.data, args).aligned(model.features_))


def training_data(model: Any, path: str, args: argparse.Namespace) -> Any:
    """The sequences of `path` and their targets, as `model` was trained on them."""
    frames = read(path, args).aligned(model.features_)
    wanted = targets(model.task, frames, model.settings.get("forecast"))
    if isinstance(model, FrameClassifier):
        _check_known(frames, model)
    return model.training_data(frames.sequences, wanted)
