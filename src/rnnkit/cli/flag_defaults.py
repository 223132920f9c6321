"""The defaults ``rnnkit train --help`` shows beside each model and training flag, read
from the task models' ``DEFAULTS``, so that every number lives in one place.

A flag's default can differ from task to task (and, for classify and tag, between
texts and real-valued frames); the help names the most common value and then the
tasks that differ:

>>> from rnnkit.cli.flag_defaults import default_text
>>> default_text("hidden", lambda task, frames: task in ("classify", "lm"))
'default 128 (lm: 256; classify --level char: 256)'
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rnnkit.data.formats import TASKS
from rnnkit.models.classifier import CHAR_DEFAULTS, SequenceClassifier
from rnnkit.models.loading import FRAME_MODELS, TEXT_MODELS

__all__ = ["TRAINED", "default_text", "defaults_by_task"]

#: (task, on real-valued frames) -> the task model ``rnnkit train`` builds
TRAINED: dict[tuple[str, bool], Any] = {
    ("classify", False): SequenceClassifier,
    **{(task, False): model for task, model in TEXT_MODELS.items()},
    **{(task, True): model for task, model in FRAME_MODELS.items()},
}

#: how classify names its other defaults, those of characters (CHAR_DEFAULTS)
CHAR_LEVEL = "classify --level char"


def shown(value: Any, unset: str = "none") -> str:
    """A setting's value as the help shows it: on/off, a number, a name, `unset` for None."""
    if value is None:
        return unset
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def defaults_by_task(
    setting: str, applies: Callable[[str, bool], bool], unset: str = "none"
) -> dict[str, str]:
    """Who has which default: ``{"classify": "128", "lm": "256", ...}``.

    A task is named alone where its models on texts and on frames agree, else as
    ``tag on texts`` and ``tag on frames``; classify's character defaults are named
    :data:`CHAR_LEVEL` where they differ. `applies(task, frames)` says where the flag
    applies; a model without the setting is left out.
    """
    out: dict[str, str] = {}
    for task in TASKS:
        values = {}
        for frames in (False, True):
            model = TRAINED.get((task, frames))
            if model is not None and applies(task, frames) and setting in model.DEFAULTS:
                values["frames" if frames else "texts"] = shown(model.DEFAULTS[setting], unset)
        if len(set(values.values())) > 1:
            out.update({f"{task} on {kind}": value for kind, value in values.items()})
        elif values:
            out[task] = next(iter(values.values()))
        if task == "classify" and "texts" in values and setting in CHAR_DEFAULTS:
            char = shown(CHAR_DEFAULTS[setting], unset)
            if char != values["texts"]:
                out[CHAR_LEVEL] = char
    return out


def default_text(setting: str, applies: Callable[[str, bool], bool], unset: str = "none") -> str:
    """``default 128 (lm: 256)``: the most common default, then the tasks that differ
    ("" where no model has the setting)."""
    by_task = defaults_by_task(setting, applies, unset)
    char = by_task.pop(CHAR_LEVEL, None)
    groups: dict[str, list[str]] = {}
    for task, value in by_task.items():
        groups.setdefault(value, []).append(task)
    if not groups:
        return ""
    # NOTE: ties go to the value met first, the first task's (max keeps the first)
    common = max(groups, key=lambda value: len(groups[value]))
    others = [f"{', '.join(t)}: {v}" for v, t in groups.items() if v != common]
    if char is not None:  # said even when it is the common value: classify's differs
        others.append(f"{CHAR_LEVEL}: {char}")
    return f"default {common}" + (f" ({'; '.join(others)})" if others else "")
