"""The format registry: every format described once, recognised as before, read by its reader."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from format_samples import SAMPLES, write_sample
from rnnkit.data import FORMATS, Format, FrameSet, formats_for, get_format, infer_format
from rnnkit.data.formats import TASKS
from rnnkit.errors import ConfigError, DataError

#: what the text reader needs beyond its format flags
EXTRA = {"text": {"level": "char"}}


def test_every_format_is_described_once_with_known_tasks() -> None:
    names = [f.name for f in FORMATS]
    assert len(set(names)) == len(names)
    assert set(SAMPLES) == set(names), "a new format needs a sample here"
    for fmt in FORMATS:
        assert fmt.tasks and set(fmt.tasks) <= set(TASKS), fmt.name
        assert get_format(fmt.name) is fmt


def test_every_task_has_formats_and_at_most_one_default() -> None:
    for task in TASKS:
        assert formats_for(task), task
        defaults = [f.name for f in formats_for(task) if f.recognises is None]
        assert len(defaults) <= 1, (task, defaults)


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.name)
def test_the_flags_of_a_format_are_keywords_of_its_reader(fmt: Format) -> None:
    params = inspect.signature(fmt.reader).parameters
    takes_any = any(p.kind is p.VAR_KEYWORD for p in params.values())
    for flag in fmt.flags:
        assert takes_any or flag in params, (fmt.name, flag)


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.name)
def test_each_format_reads_its_sample_into_its_type(tmp_path: Path, fmt: Format) -> None:
    path = write_sample(tmp_path, fmt.name)
    data = fmt.read(path, **EXTRA.get(fmt.name, {}))
    assert isinstance(data, fmt.returns)
    assert len(data) >= 1


@pytest.mark.parametrize("name", list(SAMPLES))
def test_each_sample_is_recognised_as_its_format_by_its_tasks(tmp_path: Path, name: str) -> None:
    path = write_sample(tmp_path, name)
    for task in get_format(name).tasks:
        found = infer_format(path, task, get_format(name).returns)
        assert found is not None and found.name == name, (task, found)


@pytest.mark.parametrize(
    ("file", "task", "expected"),
    [
        ("a.csv", "classify", "table"),
        ("a.tsv", "classify", "table"),
        ("dir/", "classify", "label-files"),
        ("f.csv", "classify", "frames"),
        ("f.csv", "tag", "frames"),
        ("f.csv", "regress", "frames"),
        ("a.npz", "classify", "npz"),
        ("x.npz/", "classify", "npz"),  # a directory named .npz: real-valued first
        ("a.conllu", "tag", "conllu"),
        ("a.CoNLLU", "tag", "conllu"),
        ("a.txt", "tag", "conll"),
        ("a.txt", "lm", "text"),
        ("f.csv", "lm", "text"),
        ("g.dict", "seq2seq", "cmudict"),
        ("a.tsv", "seq2seq", "pairs"),
        ("a.csv", "regress", None),
        ("a.txt", "regress", None),
    ],
)
def test_inference_rules(tmp_path: Path, file: str, task: str, expected: str | None) -> None:
    path = tmp_path / file.rstrip("/")
    if file.endswith("/"):
        path.mkdir()
    elif file == "f.csv":
        path.write_text("seq_id,t,label,a\ns,0,x,1\n")
    else:
        path.write_text("text,label\ngood,pos\n")
    found = infer_format(path, task)
    assert (found and found.name) == expected


def test_real_valued_formats_take_the_tasks_of_frames() -> None:
    real = [f for f in FORMATS if f.returns is FrameSet]
    assert [f.name for f in real] == ["frames", "npz"]
    assert {f.tasks for f in real} == {("classify", "tag", "regress")}


def test_an_unknown_format_names_the_known_ones() -> None:
    with pytest.raises(ConfigError, match=r"format: expected one of table, label-files, .*'csv'"):
        get_format("csv")


#: the start of an executable: a header, then NUL bytes
BINARY = b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x03\x00>\x00\x01\x00" + bytes(range(256)) * 4


@pytest.mark.parametrize("fmt", [f for f in FORMATS if f.name != "npz"], ids=lambda f: f.name)
def test_every_text_format_refuses_a_binary_file_in_one_line_without_its_bytes(
    tmp_path: Path, fmt: Format
) -> None:
    path = write_sample(tmp_path, fmt.name)
    (next(path.iterdir()) if path.is_dir() else path).write_bytes(BINARY)
    options = {**EXTRA.get(fmt.name, {})}
    if "encoding" in fmt.flags:
        options["encoding"] = "latin-1"  # decodes any bytes: the hint a user follows
    with pytest.raises(DataError, match=r"looks binary \(NUL bytes at offset 7\)") as info:
        fmt.read(path, **options)
    message = str(info.value)
    assert message.endswith(": rnnkit reads text") and "ELF" not in message
    assert "\n" not in message


def test_text_with_many_control_characters_looks_binary_and_utf16_text_does_not(
    tmp_path: Path,
) -> None:
    from rnnkit.data.text_files import check_not_binary, decode_bytes

    with pytest.raises(DataError, match=r"x looks binary \(50% of its first 8 characters"):
        check_not_binary(b"ab\x01\x02cd\x03\x04", "x")
    check_not_binary("tab\there\x1b[0m\r\n\x0c", "x")  # the controls text holds
    text = "text,label\nhi,a\n"
    assert decode_bytes(text.encode("utf-16"), "utf-16", "u.csv") == text
    with pytest.raises(DataError, match=r"NUL characters at offset 2"):
        decode_bytes("hi\0".encode("utf-16"), "utf-16", "u.csv")
