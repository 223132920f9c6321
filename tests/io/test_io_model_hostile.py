"""Hostile model directories: links out, FIFOs, lying headers, wrong types, changed files.

Whoever made the directory may also have fixed up the SHA-256 records in config.json
(:func:`rewrite` does), so each of these must be refused for what it is, with a
ModelFileError naming the file: never another exception, never a read outside the
directory, never a hang.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rnnkit.errors import ModelFileError, RnnkitError
from rnnkit.io import load_model_dir, read_config
from rnnkit.io.integrity import digest
from rnnkit.models import load_model
from tiny_models import TASKS, Saved


@pytest.fixture
def model(saved: dict[str, Saved], tmp_path: Path) -> Path:
    """A copy of the tiny classifier's directory, free to damage."""
    return Path(shutil.copytree(saved["classify"].path, tmp_path / "model"))


def rewrite(directory: Path, name: str, data: bytes) -> None:
    """Write a file of the model and record its SHA-256, as a forger would."""
    (directory / name).write_bytes(data)
    path = directory / "config.json"
    config = json.loads(path.read_text(encoding="utf-8"))
    if name != "config.json":
        config["sha256"][name] = digest(data)
        path.write_text(json.dumps(config), encoding="utf-8")


def refused(directory: Path, *words: str) -> str:
    with pytest.raises(ModelFileError) as info:
        load_model(directory)
    message = str(info.value)
    assert message.startswith(str(directory)) and "\n" not in message, message
    for word in words:
        assert word in message, message
    return message


# -- links and special files ------------------------------------------------------------


@pytest.mark.parametrize("name", ["config.json", "weights.safetensors", "vocab.json"])
def test_a_link_to_a_file_outside_is_refused(model: Path, tmp_path: Path, name: str) -> None:
    outside = tmp_path / f"outside-{name}"
    outside.write_bytes((model / name).read_bytes())  # the very same bytes
    (model / name).unlink()
    (model / name).symlink_to(outside)
    assert refused(model, "a link to a file outside the model directory").startswith(
        f"{model / name}: "
    )


def test_a_link_to_a_system_file_is_refused(model: Path) -> None:
    (model / "vocab.json").unlink()
    (model / "vocab.json").symlink_to("/etc/passwd")
    refused(model, "vocab.json: a link to a file outside the model directory")


def test_links_inside_the_directory_are_followed(model: Path, tmp_path: Path) -> None:
    (model / "vocab.json").rename(model / "real-vocab.json")
    (model / "vocab.json").symlink_to("real-vocab.json")
    (tmp_path / "alias").symlink_to(model)
    assert load_model(tmp_path / "alias").labels_ == ["neg", "pos"]


def test_a_loop_of_links(model: Path) -> None:
    (model / "vocab.json").unlink()
    (model / "vocab.json").symlink_to("loop.json")
    (model / "loop.json").symlink_to("vocab.json")
    refused(model, "vocab.json: ")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
@pytest.mark.parametrize("name", ["config.json", "vocab.json", "weights.safetensors"])
def test_a_fifo_is_refused_without_waiting_for_a_writer(model: Path, name: str) -> None:
    (model / name).unlink()
    os.mkfifo(model / name)
    refused(model, f"{name}: not a regular file")


def test_a_directory_in_place_of_a_file(model: Path) -> None:
    (model / "config.json").unlink()
    (model / "config.json").mkdir()
    refused(model, "config.json: is a directory")


# -- SHA-256 records ----------------------------------------------------------------------


def test_a_file_changed_since_it_was_saved(model: Path) -> None:
    vocab = json.loads((model / "vocab.json").read_text(encoding="utf-8"))
    vocab["labels"] = ["pos", "neg"]  # still a valid model, with its labels swapped
    (model / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    assert refused(model) == (
        f"{model / 'vocab.json'}: damaged or changed since the model was saved "
        "(its SHA-256 is not the one config.json records)"
    )


def test_a_directory_without_records_loads_unchecked(model: Path) -> None:
    """As rnnkit wrote them before it recorded digests."""
    path = model / "config.json"
    config = json.loads(path.read_text(encoding="utf-8"))
    del config["sha256"]
    path.write_text(json.dumps(config), encoding="utf-8")
    assert load_model(model).labels_ == ["neg", "pos"]


@pytest.mark.parametrize(
    "record",
    [
        None,
        [],
        {},
        {"weights.safetensors": "0" * 64},  # vocab.json not recorded
        {"weights.safetensors": "0" * 64, "vocab.json": "0" * 64, "x.json": "0" * 64},
        {"weights.safetensors": "0" * 63, "vocab.json": "0" * 64},
        {"weights.safetensors": "G" * 64, "vocab.json": "0" * 64},
        {"weights.safetensors": 0, "vocab.json": "0" * 64},
    ],
)
def test_a_malformed_record(model: Path, record: Any) -> None:
    path = model / "config.json"
    config = json.loads(path.read_text(encoding="utf-8"))
    config["sha256"] = record
    path.write_text(json.dumps(config), encoding="utf-8")
    with pytest.raises(ModelFileError) as info:
        read_config(model)
    assert str(info.value) == (
        f'{path}: "sha256" must give the SHA-256 (64 hex digits) of each listed file'
    )


# -- weights.safetensors that lie -------------------------------------------------------


def safetensors(header: dict[str, Any], data: bytes = b"") -> bytes:
    text = json.dumps(header).encode("utf-8")
    return struct.pack("<Q", len(text)) + text + data


def tensors_of(model: Path) -> dict[str, np.ndarray]:
    return dict(load_model_dir(model).weights)


def header_of(arrays: dict[str, np.ndarray], **change: Any) -> tuple[dict[str, Any], bytes]:
    """A true header for `arrays`, then `change` applied to the first tensor's entry."""
    header, data, start = {}, b"", 0
    codes = {"float32": "F32", "float64": "F64", "int32": "I32", "int64": "I64"}
    for name, a in arrays.items():
        raw = np.ascontiguousarray(a).tobytes()
        header[name] = {
            "dtype": codes[a.dtype.name],
            "shape": list(a.shape),
            "data_offsets": [start, start + len(raw)],
        }
        data, start = data + raw, start + len(raw)
    header[next(iter(arrays))].update(change)
    return header, data


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"dtype": "F64"}, ["not a valid safetensors file"]),  # the bytes do not fill it
        ({"dtype": "F16"}, ["has dtype F16"]),
        ({"dtype": "BOOL"}, ["has dtype BOOL"]),
        ({"dtype": 5}, ["not a valid safetensors file"]),
        ({"shape": [2**62, 2**62]}, ["not a valid safetensors file"]),
        ({"shape": [-1]}, ["not a valid safetensors file"]),
        ({"shape": [10**30]}, ["not a valid safetensors file"]),
        ({"data_offsets": [0, 2**63]}, ["truncated"]),
        ({"data_offsets": [0, "9" * 5000]}, ["header is not JSON"]),  # an int too long
        ({"data_offsets": [4, 0]}, ["not a valid safetensors file"]),
        ({"data_offsets": [0]}, ["not a valid safetensors file"]),
    ],
)
def test_a_header_that_lies(model: Path, change: dict, words: list[str]) -> None:
    header, data = header_of(tensors_of(model), **change)
    raw = safetensors(header, data).replace(b'"' + b"9" * 5000 + b'"', b"9" * 5000)
    raw = struct.pack("<Q", len(raw) - 8 - len(data)) + raw[8:]
    rewrite(model, "weights.safetensors", raw)
    refused(model, "weights.safetensors: ", *words)


def test_a_header_length_of_two_to_the_64(model: Path) -> None:
    rewrite(model, "weights.safetensors", b"\xff" * 8 + b"{}")
    refused(model, "weights.safetensors: truncated or not a safetensors file")


def test_a_tensor_of_another_dtype_than_the_architecture(model: Path) -> None:
    arrays = {k: v.astype(np.float64) for k, v in tensors_of(model).items()}
    rewrite(model, "weights.safetensors", safetensors(*header_of(arrays)))
    refused(model, "weights.safetensors: tensor", "is float64, the architecture says float32")


def test_a_tensor_transposed(model: Path) -> None:
    arrays = tensors_of(model)
    name = next(k for k, v in arrays.items() if v.ndim == 2 and v.shape[0] != v.shape[1])
    arrays[name] = np.ascontiguousarray(arrays[name].T)
    rewrite(model, "weights.safetensors", safetensors(*header_of(arrays)))
    refused(model, f"tensor {name!r} has shape")


# -- JSON files holding wrong types -------------------------------------------------------

#: values put in place of each value of a JSON file, one at a time
HOSTILE_VALUES = (None, True, -1, 2**70, 1e308, "", [], {"a": 1})
#: what training recorded and loading never reads: not worth a case per value
UNREAD = ("history", "rnnkit")


def replacements(value: Any, path: tuple = ()) -> Iterator[tuple[tuple, Any]]:
    """(path, hostile value) for every place in a JSON value (the first two items of a
    list), nested lists and dicts."""
    for hostile in HOSTILE_VALUES:
        if hostile != value or type(hostile) is not type(value):
            yield path, hostile
    if isinstance(value, dict):
        children = [(k, v) for k, v in value.items() if k not in UNREAD]
    else:
        children = list(enumerate(value[:2])) if isinstance(value, list) else []
    for key, child in children:
        yield from replacements(child, (*path, key))


def replaced(value: Any, path: tuple, new: Any) -> Any:
    if not path:
        return new
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[path[0]] = replaced(value[path[0]], path[1:], new)
    return copy


@pytest.mark.parametrize("task", sorted(TASKS))
def test_json_files_holding_wrong_types(
    saved: dict[str, Saved],
    tmp_path: Path,
    task: str,
) -> None:
    original = saved[task]
    directory = Path(shutil.copytree(original.path, tmp_path / task))
    config_bytes = (directory / "config.json").read_bytes()
    n = 0
    for name in sorted(p.name for p in directory.iterdir() if p.suffix == ".json"):
        data = (original.path / name).read_bytes()
        value = json.loads(data)
        for path, new in replacements(value):
            rewrite(directory, name, json.dumps(replaced(value, path, new)).encode())
            try:
                model = load_model(directory)
            except ModelFileError as exc:
                assert str(exc).startswith(str(directory)) and "\n" not in str(exc)
            else:
                # What it loaded may predict otherwise, but only ever fail cleanly. NOTE: a
                # scaling of 1e308 loads, and its predictions overflow: warnings, not errors.
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    try:
                        original.predict(model)
                    except RnnkitError as exc:
                        assert "\n" not in str(exc), f"{name} {path} = {new!r}: {exc!r}"
            n += 1
        (directory / name).write_bytes(data)
        (directory / "config.json").write_bytes(config_bytes)
    assert n > 100


# -- regressions: training settings the wrong-types test found crashing -----------------


@pytest.mark.parametrize(
    ("task", "setting", "value", "words"),
    [
        ("seq2seq", "hidden", None, "is not a whole number"),
        ("seq2seq", "layers", 0, "layers=0 sizes no network"),
        ("seq2seq", "layers", 2**20, "is larger than the saved tensors allow"),
        ("seq2seq", "hidden", 2**20, "is larger than the saved tensors allow"),
        ("seq2seq", "beam", 2**70, "is not a whole number from 0 to 2**63 - 1"),
        ("seq2seq", "embed_scale", 1e308, "invalid settings (high - low range exceeds"),
        ("seq2seq", "length_penalty", None, "is not a finite number"),
        ("seq2seq", "cell", [], "is not a string"),
        ("seq2seq", "dtype", True, "is not one of 'float32', 'float64'"),
        ("frames", "dtype", "", "is not one of 'float32', 'float64'"),
        ("tag", "crf", 1, "is not one of True, False, 'auto'"),
        ("lm", "hidden", "", "is not a whole number"),
        ("classify", "lower", 1, "is not true or false"),
        ("regress", "max_len", [3], "null, a string, or a finite number"),
    ],
)
def test_a_training_setting_of_the_wrong_type_or_size(
    saved: dict[str, Saved], tmp_path: Path, task: str, setting: str, value: Any, words: str
) -> None:
    directory = Path(shutil.copytree(saved[task].path, tmp_path / task))
    path = directory / "config.json"
    config = json.loads(path.read_text(encoding="utf-8"))
    config["training"]["settings"][setting] = value
    path.write_text(json.dumps(config), encoding="utf-8")
    assert refused(directory, words).startswith(f"{path}: ")
