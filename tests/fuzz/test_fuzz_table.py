"""Fuzz: tables of labelled texts (CSV and TSV) from any bytes, text and arguments.

``parse_table`` and ``read_table`` return a sound Table or raise one line naming the
file and a line it has; see ``hostile.py`` for the inputs.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given

from hostile import (
    ENCODINGS,
    TEXT_PIECES,
    Draw,
    check_error,
    drawn,
    fuzz,
    hostile_bytes,
    hostile_text,
    n_lines,
)
from rnnkit.data.table import Table, parse_table, read_table
from rnnkit.errors import ConfigError, DataError, RnnkitError

SOURCE = "reviews.csv"
#: column arguments: names, indices as ints and digit strings, and what is neither
COLUMNS = ("text", "label", "0", "1", "2", "x", "", "\u0661", "9" * 5000, -1, 0, 1, 2, 4)
DELIMITERS = (",", "\t", ";", " ", '"', "\n", "\r", "\x00")
HEADERS = ("text,label\n", "label,text\r\n", "text\n", "", "a,text,label\n")
#: pieces of table rows, as text: the common pieces, labels, cells, odd quoting
CELLS = (*TEXT_PIECES, "pos", "good film", ",pos\n", ",\n", '""', '"a,b"')


def check_table(table: Table, lines: int) -> None:
    """What every Table promises: rows with a text and a stripped label, lines in order."""
    assert len(table) == len(table.labels) == len(table.lines) >= 1
    assert all(isinstance(t, str) and t.strip() for t in table.texts)
    assert all(label and label == label.strip() for label in table.labels)
    assert table.lines == sorted(set(table.lines))
    assert 1 <= table.lines[0] and table.lines[-1] <= lines


def parse_or_error(text: str, **kwargs) -> None:
    lines = n_lines(text.encode("utf-8", "surrogatepass"))
    try:
        table = parse_table(text, SOURCE, **kwargs)
    except ConfigError as exc:  # an argument at fault: one line, naming it
        assert "\n" not in str(exc)
    except RnnkitError as exc:
        check_error(exc, SOURCE, lines)
    else:
        check_table(table, lines)


def near_valid_table(d: Draw) -> tuple[str, dict]:
    """A header, then rows of odd cells, line ends and quoting; one time in 30 a last
    row with a field over the csv module's limit."""
    header, delimiter = d.pick(HEADERS), d.pick(",\t")
    columns = d.pick([{}, {"text_col": 1, "label_col": 0, "header": False}])
    huge = d.one_in(30)
    text = header.replace(",", delimiter) + d.rest(CELLS).replace(",", delimiter)
    if huge:
        text += f'x{delimiter}"{"y" * 131073}"\n'
    return text, {"delimiter": delimiter, **columns}


@fuzz(1000)
@given(drawn(near_valid_table))
def test_near_valid_tables(case: tuple[str, dict]) -> None:
    text, kwargs = case
    parse_or_error(text, **kwargs)


def text_and_options(d: Draw) -> tuple[str, dict]:
    kwargs = {
        "text_col": d.pick(COLUMNS),
        "label_col": d.pick(COLUMNS),
        "header": d.pick([True, False]),
        "delimiter": d.pick(DELIMITERS),
    }
    text = hostile_text(d) if d.byte() % 2 else hostile_bytes(d, huge=True).decode("latin-1")
    return text, kwargs


@fuzz(600)
@given(drawn(text_and_options))
def test_any_text_and_options(case: tuple[str, dict]) -> None:
    text, kwargs = case
    parse_or_error(text, **kwargs)


def file_and_options(d: Draw) -> tuple[str, str, dict, bytes]:
    name = d.pick(["x.csv", "x.tsv", "x.txt", "x.dat"])
    encoding = d.pick(ENCODINGS[:3]) if d.byte() % 4 else d.pick(ENCODINGS)
    kwargs = d.pick([{}, {"text_col": 1, "label_col": 0, "header": False}])
    return name, encoding, kwargs, hostile_bytes(d, huge=True)


@fuzz(600)
@given(drawn(file_and_options, 300))
def test_any_file(tmp_path: Path, case: tuple[str, str, dict, bytes]) -> None:
    name, encoding, kwargs, data = case
    path = tmp_path / name
    path.write_bytes(data)
    try:
        table = read_table(path, encoding=encoding, **kwargs)
    except ConfigError as exc:
        assert "encoding" in str(exc) and "\n" not in str(exc)
    except RnnkitError as exc:
        check_error(exc, str(path), n_lines(data))
    else:
        check_table(table, n_lines(data))


#: arguments of every type: None, bools, ints, floats, strings of any length
ARGUMENTS = (None, True, False, -3, 0, 1, 3, 2.0, float("nan"), "", ",", "\t", "ab", "text", "1")


@fuzz(200)
@given(drawn(lambda d: (d.pick(ARGUMENTS), d.pick(ARGUMENTS), d.pick(ARGUMENTS)), 3))
def test_any_delimiter_and_column_arguments(tmp_path: Path, case: tuple) -> None:
    delimiter, text_col, label_col = case
    path = tmp_path / "t.csv"
    path.write_bytes(b"text,label\ngood film,pos\n")
    try:
        read_table(path, delimiter=delimiter, text_col=text_col, label_col=label_col)
    except RnnkitError as exc:
        assert "\n" not in str(exc)


# -- regressions: inputs the fuzz tests found ---------------------------------------------


@pytest.mark.parametrize("encoding", ["rot13", "hex", "base64"])
def test_an_encoding_that_is_not_a_text_encoding(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(b"text,label\ngood,pos\n")
    with pytest.raises(ConfigError, match=rf"^encoding: '{encoding}' is not a text encoding$"):
        read_table(path, encoding=encoding)


def test_an_encoding_name_holding_a_nul(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(b"text,label\ngood,pos\n")
    with pytest.raises(ConfigError, match=r"^encoding: unknown text encoding 'utf\\x00-8'$"):
        read_table(path, encoding="utf\x00-8")


@pytest.mark.parametrize("encoding", ["punycode", "undefined"])
def test_a_codec_failing_with_a_bare_unicode_error(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(b"text,label\n\\x,pos\n")
    with pytest.raises(DataError, match=rf"^{path}:1: cannot decode bytes with encoding"):
        read_table(path, encoding=encoding)


def test_a_column_index_too_long_for_int() -> None:
    message = r"^text column: expected a name or a 0-based index, got a number of 5000 digits$"
    with pytest.raises(ConfigError, match=message):
        parse_table("a,b\n", SOURCE, text_col="9" * 5000, header=False)


# -- every file reader, on paths that are no file -------------------------------------------


def _readers():
    from rnnkit.data.corpus import read_corpus
    from rnnkit.data.frames import read_frames, read_npz
    from rnnkit.data.label_files import read_label_files
    from rnnkit.data.pairs import read_cmudict, read_pairs
    from rnnkit.data.tagged import read_conll, read_conllu

    return [
        read_table,
        read_conllu,
        read_conll,
        lambda p: read_corpus(p, "char"),
        lambda p: read_corpus(p, "word"),
        read_pairs,
        read_cmudict,
        read_frames,
        read_npz,
        read_label_files,
    ]


@pytest.mark.parametrize("read", _readers())
@pytest.mark.parametrize("name", ["missing.csv", "a\0b.csv", "directory", ""])
def test_a_path_that_is_no_file(tmp_path: Path, read, name: str) -> None:
    (tmp_path / "directory").mkdir()
    path = f"{tmp_path}/{name}"
    with pytest.raises(DataError) as info:
        read(path)
    check_error(info.value, path)
