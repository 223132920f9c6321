"""The model directory contract (DESIGN §5): complete writes, checked and contained reads."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

import rnnkit
from rnnkit.errors import ConfigError, ModelFileError, ShapeError
from rnnkit.io import (
    FORMAT,
    VERSION,
    ModelFiles,
    load_model_dir,
    read_config,
    save_model_dir,
)
from rnnkit.io import model_dir as model_dir_module
from rnnkit.io.integrity import digest

CONFIG = {"task": "classify", "architecture": {"cell": "rnn", "units": 3}}


def test_round_trip(model_path, arrays):
    model = load_model_dir(model_path)
    assert isinstance(model, ModelFiles)
    assert model.path == model_path
    files = ["weights.safetensors", "vocab.json", "labels.json"]
    assert model.config == {
        "format": "rnnkit-model",
        "version": 1,
        "task": "classify",
        "architecture": {"cell": "rnn", "units": 3},
        "files": files,
        "rnnkit": rnnkit.__version__,
        "sha256": {name: digest((model_path / name).read_bytes()) for name in files},
    }
    assert model.damaged == ()
    model.verify()
    assert model.vocab == {"tokens": ["<pad>", "movie", "was", "good"]}
    assert model.extra == {"labels.json": {"labels": ["neg", "pos"]}}
    assert sorted(model.weights) == sorted(arrays)
    for name, array in arrays.items():
        assert model.weights[name].dtype == array.dtype
        assert model.weights[name].tobytes() == array.tobytes()


def test_constants():
    assert (FORMAT, VERSION) == ("rnnkit-model", 1)


def test_config_is_not_mutated_and_own_keys_are_kept(tmp_path, arrays):
    config = {**CONFIG, "training": {"seed": 7}, "format": FORMAT}
    snapshot = json.dumps(config)
    save_model_dir(tmp_path / "m", config=config, weights=arrays)
    assert json.dumps(config) == snapshot
    written = read_config(tmp_path / "m")
    keys = ["format", "version", "task", "architecture", "training", "files", "rnnkit", "sha256"]
    assert list(written) == keys
    assert written["training"] == {"seed": 7}


def test_without_vocab(tmp_path, arrays):
    path = save_model_dir(tmp_path / "a" / "b", config=CONFIG, weights=arrays)
    assert path == tmp_path / "a" / "b"
    model = load_model_dir(path)
    assert model.vocab is None
    assert model.extra == {}
    assert sorted(p.name for p in path.iterdir()) == ["config.json", "weights.safetensors"]


def test_files_not_listed_are_ignored(tmp_path, arrays):
    path = tmp_path / "m"
    save_model_dir(path, config=CONFIG, weights=arrays, vocab={"tokens": ["a"]})
    save_model_dir(path, config=CONFIG, weights=arrays)  # an older vocab.json stays behind
    assert (path / "vocab.json").exists()
    assert load_model_dir(path).vocab is None


def test_config_is_written_last(tmp_path, arrays, monkeypatch):
    written = []
    real_replace = os.replace

    def record(source, target):
        written.append(os.path.basename(target))
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", record)
    save_model_dir(tmp_path / "m", config=CONFIG, weights=arrays, vocab={"a": 1})
    assert written == ["weights.safetensors", "vocab.json", "config.json"]


def test_crash_mid_save_leaves_a_directory_without_config(model_path, arrays, monkeypatch):
    def crash(path, text):
        raise OSError("simulated crash")

    monkeypatch.setattr(model_dir_module, "atomic_write_text", crash)
    with pytest.raises(OSError, match="simulated crash"):
        save_model_dir(model_path, config=CONFIG, weights=arrays, vocab={"a": 1})
    monkeypatch.undo()
    with pytest.raises(ModelFileError, match=r"config\.json: missing$"):
        load_model_dir(model_path)


def test_bad_weights_cost_nothing_on_disk(model_path, arrays):
    before = {p.name: p.read_bytes() for p in model_path.iterdir()}
    bad = {**arrays, "emb.E": np.zeros(3, np.float16)}
    with pytest.raises(ShapeError, match=r"'emb\.E' has dtype float16"):
        save_model_dir(model_path, config=CONFIG, weights=bad)
    with pytest.raises(ValueError, match="cannot write NaN"):
        save_model_dir(model_path, config={**CONFIG, "lr": float("nan")}, weights=arrays)
    with pytest.raises(ValueError, match=r"vocab\.json: cannot write NaN"):
        save_model_dir(model_path, config=CONFIG, weights=arrays, vocab={"x": float("inf")})
    assert {p.name: p.read_bytes() for p in model_path.iterdir()} == before


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"task": None}, 'no "task" key'),
        ({"architecture": None}, 'no "architecture" key'),
        ({"task": 3}, '"task" must be a string'),
        ({"architecture": [1]}, '"architecture" must be a JSON object'),
        ({"format": "keras"}, 'format is "keras", expected "rnnkit-model"'),
        ({"version": 2}, "unknown format version 2 (this rnnkit reads version 1)"),
    ],
)
def test_save_refuses_configs_it_could_not_load(tmp_path, arrays, change, message):
    config = {k: v for k, v in {**CONFIG, **change}.items() if v is not None}
    with pytest.raises(ConfigError) as info:
        save_model_dir(tmp_path / "m", config=config, weights=arrays)
    assert str(info.value) == f"{tmp_path / 'm' / 'config.json'}: {message}"
    assert not (tmp_path / "m").exists()


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("../x.json", "is not a plain name inside the directory"),
        ("sub/x.json", "is not a plain name inside the directory"),
        ("labels.txt", "is neither 'weights.safetensors' nor a .json file"),
        ("vocab.json", "is reserved"),
        ("config.json", "is reserved"),
    ],
)
def test_save_refuses_bad_extra_names(tmp_path, arrays, name, message):
    with pytest.raises(ConfigError, match=message):
        save_model_dir(tmp_path / "m", config=CONFIG, weights=arrays, extra_json={name: {}})
    assert not (tmp_path / "m").exists()
    assert not (tmp_path / "x.json").exists()


def test_save_refuses_non_object_json(tmp_path, arrays):
    with pytest.raises(ConfigError, match=r"vocab\.json: content must be a mapping"):
        save_model_dir(tmp_path / "m", config=CONFIG, weights=arrays, vocab=["a"])  # type: ignore[arg-type]


def test_save_into_a_file(tmp_path, arrays):
    (tmp_path / "m").write_text("", encoding="utf-8")
    with pytest.raises(ModelFileError, match=r"m: not a directory$"):
        save_model_dir(tmp_path / "m", config=CONFIG, weights=arrays)


def test_load_not_a_directory(tmp_path):
    (tmp_path / "m").write_text("", encoding="utf-8")
    with pytest.raises(ModelFileError) as info:
        load_model_dir(tmp_path / "m")
    assert str(info.value) == f"{tmp_path / 'm'}: not a directory"
    with pytest.raises(ModelFileError) as info:
        read_config(tmp_path / "nowhere")
    assert str(info.value) == f"{tmp_path / 'nowhere'}: no such model directory"


@pytest.mark.parametrize(
    "name", ["config.json", "weights.safetensors", "vocab.json", "labels.json"]
)
def test_load_missing_file(model_path, name):
    (model_path / name).unlink()
    with pytest.raises(ModelFileError) as info:
        load_model_dir(model_path)
    listed = "" if name == "config.json" else " (listed in config.json)"
    assert str(info.value) == f"{model_path / name}: missing{listed}"


def test_read_config_does_not_read_weights(model_path):
    (model_path / "weights.safetensors").write_bytes(b"garbage")
    assert read_config(model_path)["task"] == "classify"
    with pytest.raises(ModelFileError, match=r"weights\.safetensors: truncated or not a"):
        load_model_dir(model_path)


def test_unknown_version(edit_config):
    path = edit_config(lambda c: {**c, "version": 7})
    with pytest.raises(ModelFileError) as info:
        load_model_dir(path)
    assert str(info.value) == (
        f"{path / 'config.json'}: unknown format version 7 (this rnnkit reads version 1)"
    )


@pytest.mark.parametrize(("version", "shown"), [("1", '"1"'), (True, "true"), (1.0, "1.0")])
def test_version_must_be_the_integer_1(edit_config, version, shown):
    path = edit_config(lambda c: {**c, "version": version})
    with pytest.raises(ModelFileError, match=f"unknown format version {shown} "):
        read_config(path)


def _without(key):
    return lambda config: {k: v for k, v in config.items() if k != key}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda c: [c], "expected a JSON object, found list"),
        (_without("format"), 'no "format" key'),
        (lambda c: {**c, "format": "onnx"}, 'format is "onnx", expected "rnnkit-model"'),
        (_without("version"), 'no "version" key'),
        (_without("task"), 'no "task" key'),
        (_without("architecture"), 'no "architecture" key'),
        (_without("files"), 'no "files" key'),
        (lambda c: {**c, "files": "weights.safetensors"}, '"files" must be a list naming'),
        (lambda c: {**c, "files": ["vocab.json"]}, '"files" must be a list naming'),
        (
            lambda c: {**c, "files": [*c["files"], "config.json"]},
            "\"files\" must not list 'config.json'",
        ),
        (lambda c: {**c, "files": [*c["files"], "w.bin"]}, "file 'w.bin' is neither"),
    ],
)
def test_load_refuses_bad_config(edit_config, change, message):
    path = edit_config(change)
    with pytest.raises(ModelFileError) as info:
        load_model_dir(path)
    assert str(info.value).startswith(f"{path / 'config.json'}: {message}")


@pytest.mark.parametrize(
    "name", ["../x.json", "..", "/etc/x.json", "sub/x.json", "sub\\x.json", "C:x.json", "", 7]
)
def test_load_refuses_names_outside_the_directory(model_path, edit_config, name):
    (model_path.parent / "x.json").write_text("{}", encoding="utf-8")
    edit_config(lambda c: {**c, "files": [*c["files"], name]})
    with pytest.raises(ModelFileError) as info:
        load_model_dir(model_path)
    assert str(info.value) == (
        f"{model_path / 'config.json'}: file name {name!r} is not a plain name inside the directory"
    )


def test_load_invalid_config_json(model_path):
    (model_path / "config.json").write_text('{"format": "rnnkit-model",', encoding="utf-8")
    with pytest.raises(ModelFileError, match=r"config\.json: invalid JSON at line 1 column 27$"):
        load_model_dir(model_path)


@pytest.mark.parametrize("name", ["vocab.json", "labels.json"])
def test_load_json_file_that_is_not_an_object(model_path, name):
    (model_path / name).write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(ModelFileError) as info:
        load_model_dir(model_path)
    assert str(info.value) == f"{model_path / name}: expected a JSON object, found list"


def test_load_corrupt_weights(model_path, pickle_bomb):
    marker = model_path / "marker"
    (model_path / "weights.safetensors").write_bytes(pickle_bomb(marker, 2))
    with pytest.raises(ModelFileError, match=r"weights\.safetensors: "):
        load_model_dir(model_path)
    assert not marker.exists()
