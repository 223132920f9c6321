"""Atomic writes leave the old file whole on failure; read_json names the file at fault."""

from __future__ import annotations

import json
import math
import os
import stat
from pathlib import Path

import numpy as np
import pytest

from rnnkit.errors import DataError, ModelFileError
from rnnkit.io import (
    atomic_write_bytes,
    atomic_write_json,
    atomic_write_text,
    json_safe,
    read_json,
)

posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")


def test_write_bytes_creates_and_replaces(tmp_path, temp_files):
    path = tmp_path / "a.bin"
    atomic_write_bytes(path, b"old")
    atomic_write_bytes(path, b"new content")
    assert path.read_bytes() == b"new content"
    assert temp_files(tmp_path) == []
    assert [p.name for p in tmp_path.iterdir()] == ["a.bin"]


def test_write_accepts_str_path(tmp_path):
    atomic_write_bytes(str(tmp_path / "a.bin"), b"x")
    assert (tmp_path / "a.bin").read_bytes() == b"x"


@pytest.mark.parametrize("step", ["fsync", "chmod", "replace"])
@pytest.mark.parametrize("exception", [OSError("disk full"), KeyboardInterrupt()])
def test_failure_keeps_old_file_and_removes_temporary(
    tmp_path, monkeypatch, temp_files, step, exception
):
    path = tmp_path / "config.json"
    path.write_bytes(b'{"old": true}\n')
    seen = []

    def fail(*args, **kwargs):
        seen.append(args)  # the temporary file existed when the step ran
        assert temp_files(tmp_path) != []
        raise exception

    monkeypatch.setattr(os, step, fail)
    with pytest.raises(type(exception)) as info:
        atomic_write_bytes(path, b'{"new": true}\n')
    assert info.value is exception
    monkeypatch.undo()
    assert seen
    assert path.read_bytes() == b'{"old": true}\n'
    assert temp_files(tmp_path) == []


def test_failure_on_new_file_leaves_nothing(tmp_path, monkeypatch):
    def fail(*args):
        raise OSError("no")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="no"):
        atomic_write_bytes(tmp_path / "new.bin", b"data")
    monkeypatch.undo()
    assert list(tmp_path.iterdir()) == []


def test_missing_directory_raises_and_creates_nothing(tmp_path):
    with pytest.raises(FileNotFoundError, match="No such file or directory"):
        atomic_write_bytes(tmp_path / "no" / "a.bin", b"x")
    assert list(tmp_path.iterdir()) == []


@posix_only
def test_file_and_directory_are_synced(tmp_path, monkeypatch):
    kinds = []
    real_fsync = os.fsync

    def record(fd):
        kinds.append("dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", record)
    atomic_write_bytes(tmp_path / "a.bin", b"x")
    assert kinds == ["file", "dir"]


@posix_only
def test_directory_fsync_refusal_is_tolerated(tmp_path, monkeypatch):
    real_fsync = os.fsync

    def refuse_directories(fd):
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            raise OSError(22, "Invalid argument")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", refuse_directories)
    atomic_write_bytes(tmp_path / "a.bin", b"x")
    assert (tmp_path / "a.bin").read_bytes() == b"x"


@posix_only
def test_new_file_gets_umask_permissions_not_tempfile_0600(tmp_path):
    (tmp_path / "plain").write_bytes(b"")  # what open() gives under the current umask
    atomic_write_bytes(tmp_path / "atomic", b"")
    mode = stat.S_IMODE((tmp_path / "atomic").stat().st_mode)
    assert mode == stat.S_IMODE((tmp_path / "plain").stat().st_mode)


@posix_only
def test_replaced_file_keeps_its_permissions(tmp_path):
    path = tmp_path / "a.bin"
    path.write_bytes(b"old")
    path.chmod(0o640)
    atomic_write_bytes(path, b"new")
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_write_text_keeps_line_endings_and_encoding(tmp_path):
    path = tmp_path / "t.txt"
    atomic_write_text(path, "a\r\nb\né\n")
    assert path.read_bytes() == b"a\r\nb\n\xc3\xa9\n"
    atomic_write_text(path, "é", encoding="latin-1")
    assert path.read_bytes() == b"\xe9"


def test_write_json_layout(tmp_path):
    path = tmp_path / "c.json"
    atomic_write_json(path, {"b": 1, "a": [1, 2], "word": "café"})
    expected = '{\n  "b": 1,\n  "a": [\n    1,\n    2\n  ],\n  "word": "café"\n}\n'
    assert path.read_bytes() == expected.encode("utf-8")


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_write_json_refuses_non_finite_and_keeps_old_file(tmp_path, temp_files, bad):
    path = tmp_path / "c.json"
    path.write_text('{"lr": 0.1}\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"c\.json: cannot write NaN or infinity as JSON"):
        atomic_write_json(path, {"training": {"lr": bad}})
    assert path.read_text(encoding="utf-8") == '{"lr": 0.1}\n'
    assert temp_files(tmp_path) == []


def test_write_json_refuses_numpy_scalars(tmp_path):
    with pytest.raises(TypeError, match="float32 is not JSON serializable"):
        atomic_write_json(tmp_path / "c.json", {"lr": np.float32(0.1)})
    assert list(tmp_path.iterdir()) == []


def test_read_json_round_trip(tmp_path):
    obj = {"z": [1, 2.5, None, True], "a": {"é": "ü"}}
    atomic_write_json(tmp_path / "c.json", obj)
    assert read_json(tmp_path / "c.json") == obj
    assert list(read_json(tmp_path / "c.json")) == ["z", "a"]


def test_read_json_accepts_byte_order_mark(tmp_path):
    (tmp_path / "c.json").write_bytes(b'\xef\xbb\xbf{"a": 1}')
    assert read_json(tmp_path / "c.json") == {"a": 1}


def test_read_json_missing(tmp_path):
    path = tmp_path / "config.json"
    with pytest.raises(ModelFileError) as info:
        read_json(path)
    assert str(info.value) == f"{path}: missing"


def test_read_json_position_of_syntax_error(tmp_path):
    path = tmp_path / "config.json"
    path.write_text('{\n  "task": "lm",\n  "units": ,\n}', encoding="utf-8")
    with pytest.raises(ModelFileError) as info:
        read_json(path)
    assert str(info.value) == f"{path}: invalid JSON at line 3 column 12"


def test_read_json_uses_the_requested_error_type(tmp_path):
    path = tmp_path / "data.json"
    path.write_text("[1,", encoding="utf-8")
    with pytest.raises(DataError, match=r"data\.json: invalid JSON at line 1 column 4"):
        read_json(path, error=DataError)
    with pytest.raises(DataError, match=r"nothing\.json: missing$"):
        read_json(tmp_path / "nothing.json", error=DataError)


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_read_json_rejects_non_finite_constants(tmp_path, constant):
    path = tmp_path / "c.json"
    path.write_text(f'{{"lr": {constant}}}', encoding="utf-8")
    with pytest.raises(ModelFileError) as info:
        read_json(path)
    assert str(info.value) == f"{path}: invalid JSON: {constant} is not a JSON number"


def test_read_json_not_utf8(tmp_path):
    path = tmp_path / "c.json"
    path.write_bytes(b'{"a": "\xff"}')
    with pytest.raises(ModelFileError) as info:
        read_json(path)
    assert str(info.value) == f"{path}: not UTF-8 text (bad byte at offset 7)"


def test_read_json_directory(tmp_path):
    with pytest.raises(ModelFileError, match="is a directory, expected a JSON file"):
        read_json(tmp_path)


def test_read_json_deep_nesting_is_a_model_file_error(tmp_path):
    path = tmp_path / "c.json"
    path.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    with pytest.raises(ModelFileError, match="nested too deeply"):
        read_json(path)


def test_written_json_is_what_json_module_reads(tmp_path):
    obj = {"vocab": ["<pad>", "\u2028", "\\", '"'], "n": 10**30, "x": 1e-300}
    atomic_write_json(tmp_path / "v.json", obj)
    assert json.loads((tmp_path / "v.json").read_text(encoding="utf-8")) == obj
    assert read_json(Path(tmp_path / "v.json")) == obj


def test_json_safe_turns_non_finite_numbers_into_null(tmp_path) -> None:
    obj = {"a": [1.5, math.nan, (np.float32(2.0), -math.inf)], "b": {"c": np.float64(math.inf)}}
    safe = json_safe(obj)
    assert safe == {"a": [1.5, None, [2.0, None]], "b": {"c": None}}
    assert type(safe["a"][2][0]) is float  # a NumPy scalar becomes a plain float
    atomic_write_json(tmp_path / "x.json", safe)  # which refuses NaN: nothing is left
    with pytest.raises(ValueError, match=r"y\.json: cannot write NaN or infinity as JSON"):
        atomic_write_json(tmp_path / "y.json", obj)
