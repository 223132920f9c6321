"""The model directory: one trained model as a folder of safetensors and JSON files.

::

    MODEL_DIR/
      config.json          {"format": "rnnkit-model", "version": 1, "task": ...,
                            "architecture": {...}, "files": [...], "rnnkit": "x.y.z",
                            "sha256": {file: its SHA-256}}
      weights.safetensors  every parameter, named "<layer>.<param>"
      vocab.json           input vocabulary (and target vocabulary / labels), optional
      *.json               any further JSON files the model needs

``config.json`` is written last, so a directory with a config is complete. Its
``"files"`` list names every other file of the model; loading checks exactly those
files, and reads nothing outside the directory, even through a link. ``"sha256"``
records each file's digest, so a file damaged or changed since it was saved is refused
(:meth:`ModelFiles.verify`; a directory written before rnnkit recorded digests loads
unchecked). No file is ever unpickled, so loading a model directory never executes
code.

>>> import tempfile
>>> import numpy as np
>>> with tempfile.TemporaryDirectory() as tmp:
...     _ = save_model_dir(tmp, config={"task": "lm", "architecture": {"cell": "rnn"}},
...                        weights={"rnn.b": np.zeros(3)})
...     read_config(tmp)["files"]
['weights.safetensors']
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rnnkit.errors import ConfigError, ModelFileError, RnnkitError
from rnnkit.io.atomic import (
    atomic_write_bytes,
    atomic_write_text,
    fsync_directory,
    json_text,
    parse_json,
)
from rnnkit.io.integrity import (
    CONFIG_FILE,
    DIGEST_KEY,
    WEIGHTS_FILE,
    check_digests,
    check_file_names,
    digest,
    read_inside,
)
from rnnkit.io.weights import decode_weights, encode_weights
from rnnkit.version import __version__

__all__ = [
    "CONFIG_FILE",
    "FORMAT",
    "VERSION",
    "VOCAB_FILE",
    "WEIGHTS_FILE",
    "ModelFiles",
    "load_model_dir",
    "read_config",
    "save_model_dir",
]

FORMAT = "rnnkit-model"
VERSION = 1
VOCAB_FILE = "vocab.json"


@dataclass(frozen=True)
class ModelFiles:
    """Everything read from a model directory by :func:`load_model_dir`.

    Attributes
    ----------
    config : dict
        The parsed ``config.json``, checked for format, version, task and architecture.
    weights : dict of str to ndarray
        Every tensor of ``weights.safetensors`` by name.
    vocab : dict or None
        The parsed ``vocab.json``, or None if the model has none.
    path : Path
        The model directory.
    extra : dict of str to dict
        Any further JSON files listed in the config, by file name.
    damaged : tuple of str
        The files whose SHA-256 is not the one ``config.json`` records.
    """

    config: dict[str, Any]
    weights: dict[str, np.ndarray]
    vocab: dict[str, Any] | None
    path: Path
    extra: dict[str, dict[str, Any]] = field(default_factory=dict)
    damaged: tuple[str, ...] = ()

    def verify(self) -> None:
        """ModelFileError naming the first file damaged or changed since it was saved.

        Whoever builds a model from the files calls this once it has checked what they
        hold, so that a file edited by hand is refused for what is wrong in it, and
        one that still fits for having changed.
        """
        if self.damaged:
            raise ModelFileError(
                f"{self.path / self.damaged[0]}: damaged or changed since the model was "
                f"saved (its SHA-256 is not the one {CONFIG_FILE} records)"
            )


def save_model_dir(
    directory: str | os.PathLike[str],
    *,
    config: Mapping[str, Any],
    weights: Mapping[str, np.ndarray],
    vocab: Mapping[str, Any] | None = None,
    extra_json: Mapping[str, Mapping[str, Any]] | None = None,
) -> Path:
    """Write a model directory, each file atomically and ``config.json`` last.

    Parameters
    ----------
    directory : str or os.PathLike
        Created with its parents if needed; files of an older model there are replaced.
    config : mapping
        Must hold ``"task"`` and ``"architecture"`` (a mapping). ``"format"`` and
        ``"version"`` are filled in if absent; ``"files"`` and ``"rnnkit"`` (the version
        that wrote it) are always set. The caller's mapping is not changed.
    weights : mapping of str to ndarray
        Every parameter by ``"<layer>.<param>"``; float32, float64, int32 or int64.
    vocab : mapping, optional
        Written as ``vocab.json``.
    extra_json : mapping of str to mapping, optional
        Further JSON files by plain file name ending in ``.json`` (``"labels.json"``).

    Returns
    -------
    Path
        The directory.

    Raises
    ------
    ConfigError
        If the config lacks a required key or names another format or version, or an
        extra file name is not a plain ``*.json`` name or is taken. Nothing is written.
    ShapeError
        If a weight has an unsupported dtype. Nothing is written.
    ValueError
        If a JSON file would hold NaN or an infinity (a bug). Nothing is written.
    ModelFileError
        If `directory` is a file.

    Notes
    -----
    Everything is encoded before the first byte is written. An existing
    ``config.json`` is then removed first, so a crash part-way leaves a directory that
    says it is incomplete, rather than an old config beside new weights.
    """
    directory = Path(directory)
    config_path = directory / CONFIG_FILE
    extra = dict(extra_json or {})
    for name in extra:
        if name in (CONFIG_FILE, WEIGHTS_FILE, VOCAB_FILE):
            raise ConfigError(f"{directory / name}: extra JSON file name {name!r} is reserved")
    files = [WEIGHTS_FILE] + ([VOCAB_FILE] if vocab is not None else []) + list(extra)
    full_config = {"format": FORMAT, "version": VERSION, **config}
    full_config.pop(DIGEST_KEY, None)  # a loaded model's config, saved again
    full_config.update(files=files, rnnkit=__version__)
    _check_config(full_config, config_path, ConfigError)

    # Encode everything first: a bad value must not cost the model already on disk.
    weights_data = encode_weights(directory / WEIGHTS_FILE, weights)
    texts = {}
    for name, obj in ([(VOCAB_FILE, vocab)] if vocab is not None else []) + list(extra.items()):
        if not isinstance(obj, Mapping):
            raise ConfigError(f"{directory / name}: content must be a mapping (a JSON object)")
        texts[name] = json_text(dict(obj), directory / name)
    full_config[DIGEST_KEY] = {WEIGHTS_FILE: digest(weights_data)}
    full_config[DIGEST_KEY].update({n: digest(t.encode("utf-8")) for n, t in texts.items()})
    config_text = json_text(full_config, config_path)

    try:
        directory.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise ModelFileError(f"{directory}: not a directory") from None
    config_path.unlink(missing_ok=True)
    fsync_directory(directory)
    atomic_write_bytes(directory / WEIGHTS_FILE, weights_data)
    for name, text in texts.items():
        atomic_write_text(directory / name, text)
    atomic_write_text(config_path, config_text)
    return directory


def read_config(directory: str | os.PathLike[str]) -> dict[str, Any]:
    """Read and check ``config.json`` of a model directory, without reading the weights.

    Parameters
    ----------
    directory : str or os.PathLike
        The model directory.

    Returns
    -------
    dict
        The config, with ``"format"``, ``"version"``, ``"task"``, ``"architecture"``
        and ``"files"`` checked.

    Raises
    ------
    ModelFileError
        Naming the directory or ``config.json`` and the reason: not a directory,
        missing, invalid JSON, not an object, wrong format, unknown version, a missing
        key, or a file name that is not a plain name inside the directory.
    """
    directory = Path(directory)
    if not directory.is_dir():
        reason = "not a directory" if directory.exists() else "no such model directory"
        raise ModelFileError(f"{directory}: {reason}")
    path = directory / CONFIG_FILE
    config = parse_json(read_inside(directory, CONFIG_FILE, "a JSON file"), path)
    _check_config(config, path, ModelFileError)
    return config


def load_model_dir(directory: str | os.PathLike[str]) -> ModelFiles:
    """Read a model directory written by :func:`save_model_dir`.

    Parameters
    ----------
    directory : str or os.PathLike
        The model directory.

    Returns
    -------
    ModelFiles
        Config, weights, vocabulary (or None) and extra JSON files.

    Raises
    ------
    ModelFileError
        As :func:`read_config`, or naming a file the config lists that is missing, not
        a regular file, a link to a file outside the directory, corrupt, or (for JSON
        files) not a JSON object. A file whose SHA-256 differs from the config's record
        is only noted in ``damaged``: :meth:`ModelFiles.verify` refuses it.

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     load_model_dir(tmp)
    Traceback (most recent call last):
    ...
    rnnkit.errors.ModelFileError: .../config.json: missing
    """
    directory = Path(directory)
    config = read_config(directory)
    files = config["files"]
    for name in files:
        if not os.path.lexists(directory / name):
            raise ModelFileError(f"{directory / name}: missing (listed in {CONFIG_FILE})")
    data = {
        name: read_inside(
            directory, name, "a safetensors file" if name == WEIGHTS_FILE else "a JSON file"
        )
        for name in files
    }
    record = config.get(DIGEST_KEY)
    damaged = tuple(n for n in files if record is not None and digest(data[n]) != record[n])
    weights = decode_weights(data[WEIGHTS_FILE], directory / WEIGHTS_FILE)
    objects = {
        name: _json_object(data[name], directory / name) for name in files if name != WEIGHTS_FILE
    }
    vocab = objects.pop(VOCAB_FILE, None)
    return ModelFiles(config, weights, vocab, directory, objects, damaged)


def _json_object(data: bytes, path: Path) -> dict[str, Any]:
    obj = parse_json(data, path)
    if not isinstance(obj, dict):
        raise ModelFileError(f"{path}: expected a JSON object, found {type(obj).__name__}")
    return obj


def _check_config(config: Any, path: Path, error: type[RnnkitError]) -> None:
    """Check what every model directory's config must hold; raise `error` naming `path`."""
    if not isinstance(config, dict):
        raise error(f"{path}: expected a JSON object, found {type(config).__name__}")
    # Format and version first: a later version may well name the other keys differently.
    for key in ("format", "version", "task", "architecture", "files"):
        if key not in config:
            raise error(f"{path}: no {json.dumps(key)} key")
        value = config[key]
        if key == "format" and value != FORMAT:
            raise error(f"{path}: format is {json.dumps(value)}, expected {json.dumps(FORMAT)}")
        # NOTE: `type(...) is int`, because JSON true would otherwise equal version 1.
        if key == "version" and not (type(value) is int and value == VERSION):
            found = json.dumps(value)
            raise error(
                f"{path}: unknown format version {found} (this rnnkit reads version {VERSION})"
            )
    if not isinstance(config["task"], str):
        raise error(f'{path}: "task" must be a string')
    if not isinstance(config["architecture"], Mapping):
        raise error(f'{path}: "architecture" must be a JSON object')
    check_file_names(config["files"], path, error)
    if DIGEST_KEY in config:
        check_digests(config[DIGEST_KEY], config["files"], path, error)
