"""Checking the training settings a model directory records, before they build anything.

The task models trust their settings; a setting that a damaged or forged config.json
gives as ``null``, a list or 1e308 would otherwise fail in NumPy, far from the file,
and a size of 2**40 would ask for terabytes before the weights could disagree.
"""

from __future__ import annotations

import math
from typing import Any

from rnnkit.errors import ModelFileError
from rnnkit.io import CONFIG_FILE, ModelFiles

__all__ = ["check_recorded_settings"]

#: settings that size a network: at least 1, and for a Seq2Seq, which builds its
#: network from them (the others from the recorded architecture), no larger than the
#: saved tensors allow
SIZE_SETTINGS = ("hidden", "embed_dim", "decoder_hidden")
COUNT_SETTINGS = ("layers", "decoder_layers")
#: settings with a fixed set of values that a task model reads only when predicting
CHOICES: dict[str, tuple[Any, ...]] = {
    "dtype": ("float32", "float64"),
    "crf": (True, False, "auto"),
    "iobes": (True, False, "auto"),
}
#: settings that name a file, recorded for information: a string or null
PATH_SETTINGS = ("embeddings",)
#: the largest integer a setting may be: NumPy's int64
MAX_INT = 2**63 - 1


def check_recorded_settings(files: ModelFiles, cls: Any) -> None:
    """ModelFileError naming config.json for a training setting that is not of its
    default's type (a count that is not a whole number, ...) or out of range.

    The task models trust their recorded settings; a setting the directory gives as
    ``null``, a list or 1e308 would otherwise fail in NumPy, far from the file.
    """
    where = files.path / CONFIG_FILE
    training = files.config.get("training")
    settings = training.get("settings") if isinstance(training, dict) else None
    if not isinstance(settings, dict):
        return  # the task model names what is wrong
    for key, default in getattr(cls, "DEFAULTS", {}).items():
        if key not in settings:
            continue
        value = settings[key]
        if key in CHOICES:
            # NOTE: by type and value, so that 1 is not taken for True
            if not any(type(value) is type(c) and value == c for c in CHOICES[key]):
                raise ModelFileError(
                    f"{where}: training setting {key}={value!r} is not one of "
                    f"{', '.join(repr(c) for c in CHOICES[key])}"
                )
        elif not _fits(value, default):
            raise ModelFileError(
                f"{where}: training setting {key}={value!r} is not {_kind(default)}"
            )
    for key in PATH_SETTINGS:
        if not isinstance(settings.get(key), str | None):
            raise ModelFileError(
                f"{where}: training setting {key}={settings[key]!r} is not a path or null"
            )
    for key in SIZE_SETTINGS + COUNT_SETTINGS:
        if settings.get(key) == 0:
            raise ModelFileError(f"{where}: training setting {key}=0 sizes no network")
    if getattr(cls, "task", None) == "seq2seq":
        largest = max((d for t in files.weights.values() for d in t.shape), default=0)
        for keys, limit in ((SIZE_SETTINGS, largest), (COUNT_SETTINGS, len(files.weights))):
            for key in keys:
                if isinstance(settings.get(key), int) and settings[key] > limit:
                    raise ModelFileError(
                        f"{where}: training setting {key}={settings[key]} is larger than the "
                        f"saved tensors allow ({limit})"
                    )


def _fits(value: Any, default: Any) -> bool:
    """Whether `value` has the type of the setting whose default is `default`."""
    if isinstance(default, bool):
        return isinstance(value, bool)
    if isinstance(value, bool):
        return False
    if isinstance(default, int):
        return isinstance(value, int) and 0 <= value <= MAX_INT
    if isinstance(default, float):
        return isinstance(value, (int, float)) and math.isfinite(value)
    if isinstance(default, str):
        return isinstance(value, str)
    # a default of None: a number, a string, or None
    if isinstance(value, int):
        return 0 <= value <= MAX_INT
    if isinstance(value, float):
        return math.isfinite(value)
    return value is None or isinstance(value, str)


def _kind(default: Any) -> str:
    if isinstance(default, bool):
        return "true or false"
    if isinstance(default, int):
        return "a whole number from 0 to 2**63 - 1"
    if isinstance(default, float):
        return "a finite number"
    if isinstance(default, str):
        return "a string"
    return "null, a string, or a finite number (whole numbers from 0)"
