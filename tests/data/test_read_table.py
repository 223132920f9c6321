"""read_table: CSV and TSV files, column selection, the real MR files, every error message."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rnnkit.data import Table, check_labels, read_table
from rnnkit.data.text_files import TEXT_CONTROLS
from rnnkit.errors import ConfigError, DataError

MR_ROWS = {"train": 8530, "dev": 1066, "test": 1066}
Write = Callable[[str, "bytes | str"], Path]
# Each example writes a file: fewer examples keep these tests well under a second.
fixture_settings = settings(
    suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=50
)


def test_csv_with_header(write: Write) -> None:
    path = write("reviews.csv", 'id,label,text\n7,pos,movie was good\n8,neg,"bad, ""very"" bad"\n')
    table = read_table(path)
    assert table.texts == ["movie was good", 'bad, "very" bad']
    assert table.labels == ["pos", "neg"]
    assert table.lines == [2, 3]
    assert table.path == str(path)
    assert len(table) == 2 and table.where(1) == f"{path}:3"
    assert repr(table) == f"Table(path={str(path)!r}, rows=2, classes=2)"


def test_tsv_keeps_quotes_and_text_exactly(write: Write) -> None:
    path = write("mr.tsv", '1\t" conan " rules \n0\tdull "\n')
    table = read_table(path, text_col=1, label_col=0, header=False)
    assert table.texts == ['" conan " rules ', 'dull "']
    assert table.labels == ["1", "0"]


def test_line_numbers_count_blank_lines_and_quoted_newlines(write: Write) -> None:
    path = write("r.csv", 'text,label\n\n"two\nlines",a\n\nlast,b\n')
    table = read_table(path)
    assert table.texts == ["two\nlines", "last"]
    assert table.lines == [3, 6]


def test_crlf_bom_extra_columns_and_label_whitespace(write: Write) -> None:
    path = write("r.csv", "\ufefftext,label,extra\r\nfine, pos ,x\r\nok,neg,y\r\n")
    table = read_table(path)
    assert table.texts == ["fine", "ok"]
    assert table.labels == ["pos", "neg"]


@pytest.mark.parametrize(
    ("text_col", "label_col", "header", "expected"),
    [
        (2, 0, True, ["c1", "c2"]),
        ("2", "0", True, ["c1", "c2"]),  # digits are an index when no column has that name
        ("1", "0", True, ["b1", "b2"]),  # ... but a column named "1" wins
        ("2", "0", False, ["text", "c1", "c2"]),
    ],
)
def test_columns_by_name_or_index(
    write: Write, text_col: str | int, label_col: str | int, header: bool, expected: list[str]
) -> None:
    path = write("t.tsv", "label\t1\ttext\nx\tb1\tc1\ny\tb2\tc2\n")
    table = read_table(path, text_col=text_col, label_col=label_col, header=header)
    assert table.texts == expected


@pytest.mark.parametrize(
    ("name", "contents", "delimiter", "expected"),
    [
        ("a.txt", "text\tlabel\nx,y\tz\n", None, ["x,y"]),
        ("a.TSV", "text\tlabel\nx,y\tz\n", None, ["x,y"]),
        ("a.csv", "text,label\nx\ty,z\n", None, ["x\ty"]),
        ("a.dat", "text\tlabel\nx,y\tz\n", None, ["x,y"]),
        ("a.dat", "text,label\nx\ty,z\n", None, ["x\ty"]),
        ("a.csv", "text;label\nx,y;z\n", ";", ["x,y"]),
    ],
)
def test_delimiter_from_extension_or_argument(
    write: Write, name: str, contents: str, delimiter: str | None, expected: list[str]
) -> None:
    assert read_table(write(name, contents), delimiter=delimiter).texts == expected


def test_encoding_argument(write: Write) -> None:
    path = write("r.csv", "text,label\ncafé,pos\n".encode("latin-1"))
    assert read_table(path, encoding="latin-1").texts == ["café"]


def test_mr_files_load(mr_dir: Path) -> None:
    for split, rows in MR_ROWS.items():
        path = mr_dir / f"{split}.tsv"
        table = read_table(path, text_col=1, label_col=0, header=False, encoding="latin-1")
        assert len(table) == rows
        assert table.lines == list(range(1, rows + 1))
        assert table.labels.count("1") == table.labels.count("0") == rows // 2
        assert check_labels(table.labels, table.path) == ["0", "1"]
        raw = path.read_bytes().decode("latin-1").split("\n")[:-1]
        assert table.texts == [line.split("\t", 1)[1] for line in raw]
    # byte 0x85 (NEL in latin-1) must not break a row
    assert any("\x85" in text for text in table.texts)


def test_mr_as_utf8_names_the_first_bad_line(mr_dir: Path) -> None:
    path = mr_dir / "train.tsv"
    data = path.read_bytes()
    first_bad = next(i for i, line in enumerate(data.split(b"\n"), 1) if not _is_utf8(line))
    with pytest.raises(DataError) as info:
        read_table(path, text_col=1, label_col=0, header=False)
    assert str(info.value) == (
        f"{path}:{first_bad}: cannot decode bytes with encoding 'utf-8'; try --encoding latin-1"
    )


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


@pytest.mark.parametrize(
    ("name", "contents", "kwargs", "message"),
    [
        ("e.csv", "", {}, "{path}: empty file (no rows)"),
        ("e.csv", "\n\n", {}, "{path}: empty file (no rows)"),
        ("h.csv", "text,label\n", {}, "{path}: no rows after the header"),
        (
            "c.csv",
            "review,sentiment\nx,y\n",
            {},
            "{path}:1: no column 'text'; columns are 0 'review', 1 'sentiment' (delimiter ',')",
        ),
        (
            "c.tsv",
            "text,label\nx,y\n",
            {},
            "{path}:1: no column 'text'; columns are 0 'text,label' (delimiter '\\t')",
        ),
        (
            "c.csv",
            "text,label\nx,y\n",
            {"label_col": 4},
            "{path}:1: no column 4; columns are 0 'text', 1 'label' (delimiter ',')",
        ),
        (
            "f.tsv",
            "1\tgood\n0\tbad\n1\n",
            {"text_col": 1, "label_col": 0, "header": False},
            "{path}:3: too few fields: found 1, need 2 (delimiter '\\t')",
        ),
        ("u.csv", b"text,label\nok,1\nbad \xff,0\n", {}, "{path}:3: cannot decode bytes with "),
        ("u.csv", b"\xfftext,label\n", {}, "{path}:1: cannot decode bytes with encoding 'utf-8'"),
        ("t.csv", "text,label\nok,1\n,0\n", {}, "{path}:3: empty text"),
        ("t.csv", "text,label\nok,1\n \t ,0\n", {}, "{path}:3: empty text"),
        ("l.csv", "text,label\nok, \n", {}, "{path}:2: empty label"),
        ("big.csv", "text,label\nok,1\n" + "x" * 200_000 + ",1\n", {}, "{path}:3: field larger"),
    ],
)
def test_data_errors(
    write: Write, name: str, contents: str | bytes, kwargs: dict, message: str
) -> None:
    path = write(name, contents)
    with pytest.raises(DataError) as info:
        read_table(path, **kwargs)
    assert str(info.value).startswith(message.format(path=path))
    assert "\n" not in str(info.value)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(DataError) as info:
        read_table(tmp_path / "nope.csv")
    assert str(info.value) == f"{tmp_path / 'nope.csv'}: no such file"
    with pytest.raises(DataError) as info:
        read_table(tmp_path)
    assert str(info.value) == f"{tmp_path}: is a directory, not a table file"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"header": False}, "{path}:1: text column 'text' is a name, but the file has no header"),
        ({"text_col": "label"}, "text and label columns are the same column (1)"),
        ({"text_col": -1}, "text column: expected a name or a 0-based index, got -1"),
        ({"label_col": 1.0}, "label column: expected a name or a 0-based index, got 1.0"),
        ({"delimiter": "::"}, "delimiter: expected one character, got '::'"),
        ({"encoding": "klingon"}, "encoding: unknown text encoding 'klingon'"),
    ],
)
def test_argument_errors(write: Write, kwargs: dict, message: str) -> None:
    path = write("a.csv", "text,label\nx,y\n")
    with pytest.raises(ConfigError) as info:
        read_table(path, **kwargs)
    assert str(info.value).startswith(message.format(path=path))


def test_check_labels() -> None:
    assert check_labels(["b", "a", "b"], "r.csv") == ["a", "b"]
    with pytest.raises(DataError) as info:
        check_labels(["pos"] * 3, "r.csv")
    assert str(info.value) == (
        "r.csv: label column has only one class 'pos'; a classifier needs at least two"
    )
    with pytest.raises(DataError, match=r"^r\.csv: no labels; a classifier needs at least two"):
        check_labels([], "r.csv")


@fixture_settings
@given(
    st.binary(max_size=300),
    st.sampled_from(["x.csv", "x.tsv", "x.dat"]),
    st.sampled_from([{}, {"text_col": 1, "label_col": 0, "header": False}]),
)
def test_arbitrary_bytes_give_a_table_or_a_data_error(
    write: Write, data: bytes, name: str, kwargs: dict
) -> None:
    path = write(name, data)
    try:
        table = read_table(path, **kwargs)
    except DataError as e:
        assert str(e).startswith(str(path)) and "\n" not in str(e)
    else:
        assert isinstance(table, Table) and len(table) >= 1
        assert all(text.strip() for text in table.texts)
        assert all(label and label == label.strip() for label in table.labels)


#: the control characters of binary files (NUL, ...): a file of them is refused as binary
NOT_TEXT = "".join(c for c in map(chr, range(32)) if c not in TEXT_CONTROLS) + "\x7f"
chars_st = st.characters(blacklist_categories=["Cs"], blacklist_characters=NOT_TEXT)
text_st = st.text(chars_st, min_size=1).filter(str.strip)
label_st = st.text(chars_st, min_size=1).filter(lambda s: s == s.strip() and s)


@fixture_settings
@given(st.lists(st.tuples(text_st, label_st), min_size=1, max_size=8))
def test_csv_written_by_the_csv_module_reads_back(
    write: Write, rows: list[tuple[str, str]]
) -> None:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(["text", "label"])
    writer.writerows(rows)
    table = read_table(write("w.csv", buffer.getvalue()))
    assert table.texts == [text for text, _ in rows]
    assert table.labels == [label for _, label in rows]


@fixture_settings
@given(
    st.lists(
        st.tuples(
            text_st.filter(lambda s: not {"\t", "\n", "\r"} & set(s)),
            label_st.filter(lambda s: not {"\t", "\n", "\r"} & set(s)),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_plain_tsv_reads_back(write: Write, rows: list[tuple[str, str]]) -> None:
    contents = "".join(f"{label}\t{text}\n" for text, label in rows)
    table = read_table(write("w.tsv", contents), text_col=1, label_col=0, header=False)
    assert table.texts == [text for text, _ in rows]
    assert table.lines == list(range(1, len(rows) + 1))


def test_bad_rows_can_be_left_out_and_are_recorded(write: Write) -> None:
    path = write("mr.tsv", "1\tgood film\n0\n1\t \n\tdull\n0\tbad plot\n")
    options = {"text_col": 1, "label_col": 0, "header": False}
    with pytest.raises(DataError, match=r"mr\.tsv:2: too few fields.*--on-bad-lines skip"):
        read_table(path, **options)
    table = read_table(path, **options, on_bad_lines="skip")
    assert table.texts == ["good film", "bad plot"] and table.lines == [1, 5]
    assert table.skipped == [
        "line 2: too few fields: found 1, need 2 (delimiter '\\t')",
        "line 3: empty text",
        "line 4: empty label",
    ]
    assert table.subset([1]).texts == ["bad plot"]
