"""The data format a model was trained on, kept in its directory: the format flags that
``evaluate``, ``report``, ``diagnose`` and ``predict`` take by default.

``rnnkit train`` records in ``config.json`` how it read ``--data``::

    "data": {"format": "table", "suffix": ".tsv", "encoding": "latin-1",
             "header": false, "label_col": "0", "text_col": "1", "delimiter": null}

(only the flags that format takes). A later command given a file of the same kind
(the same format, and the same file name extension) reads it with these settings
wherever the command line leaves a flag out; a flag given always wins, and a file of
another kind, or a model directory without the entry (written before it existed),
gets the flags' own defaults.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rnnkit.cli.data_flags import FORMAT_FLAGS, chosen_format, flag_value
from rnnkit.errors import RnnkitError
from rnnkit.io import CONFIG_FILE, atomic_write_text, read_config
from rnnkit.io.atomic import json_text

__all__ = ["data_format_entry", "record_data_format", "with_data_format"]

#: format flags that describe the file, not how a run treats its bad lines
_RECORDED = ("text_col", "label_col", "no_header", "delimiter", "tag_col", "encoding")
#: the type of each recorded value ("header" stands for --no-header, inverted)
_TYPES: dict[str, tuple[type, ...]] = {
    "text_col": (str, int),
    "label_col": (str, int),
    "header": (bool,),
    "delimiter": (str,),
    "tag_col": (str,),
    "encoding": (str,),
}


def data_format_entry(args: argparse.Namespace, task: str) -> dict[str, Any] | None:
    """How ``train`` read --data: its format, extension and the format's flags."""
    fmt = chosen_format(args, args.data, task)
    if fmt is None:
        return None
    entry: dict[str, Any] = {"format": fmt.name, "suffix": Path(args.data).suffix.lower()}
    for dest in _RECORDED:
        if dest in fmt.flags:
            value = flag_value(args, dest)
            if dest == "no_header":
                entry["header"] = not value
            else:
                entry[dest] = value
    return entry


def record_data_format(args: argparse.Namespace, task: str) -> None:
    """Add the ``data`` entry to the config.json that training has just written."""
    entry = data_format_entry(args, task)
    if entry is None:
        return
    config = read_config(args.out)
    config["data"] = entry
    path = Path(args.out) / CONFIG_FILE
    atomic_write_text(path, json_text(config, path))


def with_data_format(
    args: argparse.Namespace, model_dir: str | None, path: str | None, task: str
) -> argparse.Namespace:
    """A copy of `args` whose format flags left out are the model's (when `path` is a
    file of the kind it was trained on); the others stay None, read as their defaults
    (:func:`~rnnkit.cli.data_flags.flag_value`), so that a flag given for a task none of
    whose formats takes it can still be told apart and refused."""
    filled = argparse.Namespace(**vars(args))
    saved = _saved(model_dir, path, args, task)
    for dest in FORMAT_FLAGS:
        if getattr(filled, dest, None) is not None:
            continue  # given on the command line: it wins
        if dest == "no_header" and "header" in saved:
            setattr(filled, dest, not saved["header"])
        elif saved.get(dest) is not None:
            setattr(filled, dest, saved[dest])
    return filled


def _saved(
    model_dir: str | None, path: str | None, args: argparse.Namespace, task: str
) -> dict[str, Any]:
    """The model's recorded format flags if `path` is of the recorded kind, else {}."""
    if model_dir is None or path is None:
        return {}
    try:
        entry = read_config(model_dir).get("data")
    except RnnkitError:
        return {}  # the command loading the model names what is wrong with it
    if not isinstance(entry, dict):
        return {}  # a model directory written before the entry existed
    try:
        fmt = chosen_format(args, path, task)
    except RnnkitError:
        return {}
    if fmt is None or entry.get("format") != fmt.name:
        return {}
    if entry.get("suffix") != Path(path).suffix.lower():
        return {}
    # NOTE: a value of the wrong type (a hand-edited config) is left out, not trusted
    return {
        key: value
        for key, value in entry.items()
        if key in _TYPES and isinstance(value, _TYPES[key]) and not _is_bool_column(key, value)
    }


def _is_bool_column(key: str, value: Any) -> bool:
    return key in ("text_col", "label_col") and isinstance(value, bool)
