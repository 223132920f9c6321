"""Fuzz: directories of ``<Label>.txt`` files with any names and any bytes.

tests/data/test_frames.py feeds one ``Czech.txt`` of random bytes; here the
directory holds several files with odd names (blank, spaced, non-UTF-8, a directory
named ``.txt``) and near-valid contents, read in several encodings.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given

from hostile import ENCODINGS, Draw, check_error, drawn, fuzz, hostile_bytes
from rnnkit.data.label_files import LabelFilesTable, read_label_files
from rnnkit.errors import ConfigError, DataError, RnnkitError

#: file names as bytes: labels good and odd, names that are no label, one not UTF-8
NAMES = (
    b"Czech.txt",
    b"Irish.txt",
    b"a b.txt",
    b" Greek .txt",
    b" .txt",
    b"\t.txt",
    b".txt",
    b"x.TXT",
    b"Czech.txt.txt",
    b"\xc3\xa9.txt",
    b"\xff.txt",  # not UTF-8: the label would be a lone surrogate
    b"notes.md",
)


def write_files(root: Path, files: list[tuple[bytes, bytes]], subdir: bool) -> None:
    for entry in os.listdir(os.fsencode(root)):
        target = os.path.join(os.fsencode(root), entry)
        os.rmdir(target) if os.path.isdir(target) else os.remove(target)
    for name, data in files:
        with open(os.path.join(os.fsencode(root), name), "wb") as f:
            f.write(data)
    if subdir:
        os.mkdir(os.path.join(os.fsencode(root), b"Sub.txt"))


def check_table(table: LabelFilesTable) -> None:
    assert len(table.texts) == len(table.labels) == len(table.lines) == len(table.files) >= 1
    assert all(t and t == t.strip() for t in table.texts)
    assert all(label and label == label.strip() for label in table.labels)
    for label in table.labels:
        label.encode("utf-8")  # a label can be written to vocab.json


def files_and_options(d: Draw) -> tuple[list[tuple[bytes, bytes]], bool, str]:
    subdir, encoding = d.one_in(4), d.pick(ENCODINGS[:6])
    files = [(d.pick(NAMES), d.raw(d.byte() % 40)) for _ in range(d.byte() % 3)]
    files.append((d.pick(NAMES), hostile_bytes(d)))
    return files, subdir, encoding


@fuzz(1500)
@given(drawn(files_and_options, 160))
def test_any_files(tmp_path: Path, case: tuple[list[tuple[bytes, bytes]], bool, str]) -> None:
    files, subdir, encoding = case
    root = tmp_path / "names"
    root.mkdir(exist_ok=True)
    write_files(root, files, subdir)
    try:
        table = read_label_files(root, encoding=encoding)
    except ConfigError as exc:
        check_error(exc, "encoding: ")
    except RnnkitError as exc:
        check_error(exc, str(root))
    else:
        check_table(table)


# -- regressions: inputs the fuzz tests found ---------------------------------------------


def test_a_file_name_that_is_not_utf8(tmp_path: Path) -> None:
    write_files(tmp_path, [(b"\xff.txt", b"Novak\n")], False)
    with pytest.raises(DataError, match=r"\.txt: the file name is not UTF-8 text"):
        read_label_files(tmp_path)


@pytest.mark.parametrize("name", [b" .txt", b"\t.txt"])
def test_a_file_name_without_a_label(tmp_path: Path, name: bytes) -> None:
    write_files(tmp_path, [(name, b"Novak\n")], False)
    with pytest.raises(DataError, match=r"\.txt: a file name without a label"):
        read_label_files(tmp_path)


def test_labels_lose_the_spaces_around_them(tmp_path: Path) -> None:
    write_files(tmp_path, [(b" Greek .txt", b"Pappas\n")], False)
    assert read_label_files(tmp_path).labels == ["Greek"]
