"""Tables of labelled texts (CSV or TSV): the ``table`` format of ``rnnkit train``.

One row per example, a text column and a label column, named by a header or given as
0-based indices. Every problem is a :class:`~rnnkit.errors.DataError` naming the file
and line, so a user can open the file at the right place.

>>> import tempfile, pathlib
>>> with tempfile.TemporaryDirectory() as d:
...     path = pathlib.Path(d) / "reviews.csv"
...     _ = path.write_text('text,label\\nmovie was good,pos\\n"movie was bad, sadly",neg\\n')
...     table = read_table(path)
>>> table.texts, table.labels, table.lines
(['movie was good', 'movie was bad, sadly'], ['pos', 'neg'], [2, 3])
"""

from __future__ import annotations

import csv
import io
import itertools
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from rnnkit.data.bad_lines import BadLines
from rnnkit.data.text_files import decode_bytes, read_bytes
from rnnkit.errors import ConfigError, DataError

__all__ = ["Table", "check_labels", "parse_table", "read_table"]

Column = str | int
PathLike = str | os.PathLike[str]
#: the longest string of digits read as a column index
_MAX_DIGITS = 18


@dataclass(frozen=True)
class Table:
    """Texts and their labels, read from one file.

    Attributes
    ----------
    texts : list of str
        One text per row, exactly as in the file (never empty or all whitespace).
    labels : list of str
        One label per row, with surrounding whitespace removed (never empty).
    path : str
        The file, as given; used in messages.
    lines : list of int
        1-based line in the file where each row starts.
    skipped : list of str
        The bad rows left out (``on_bad_lines`` warn or skip), ``"line N: problem"``.
    """

    texts: list[str]
    labels: list[str]
    path: str
    lines: list[int]
    skipped: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.texts)

    def __repr__(self) -> str:
        return f"Table(path={self.path!r}, rows={len(self)}, classes={len(set(self.labels))})"

    def where(self, row: int) -> str:
        """``"path:line"`` of a row, for error messages."""
        return f"{self.path}:{self.lines[row]}"

    def subset(self, index: Sequence[int] | np.ndarray) -> Table:
        """The rows at `index`, in that order."""
        return replace(
            self,
            texts=[self.texts[i] for i in index],
            labels=[self.labels[i] for i in index],
            lines=[self.lines[i] for i in index],
        )


def read_table(
    path: PathLike,
    *,
    text_col: Column = "text",
    label_col: Column = "label",
    header: bool = True,
    delimiter: str | None = None,
    encoding: str = "utf-8",
    on_bad_lines: str | None = "error",
) -> Table:
    """Read a CSV or TSV file of texts and labels.

    Parameters
    ----------
    path : str or path-like
    text_col, label_col : str or int, default "text", "label"
        Column name (needs a header) or 0-based index. A string of digits such as
        ``"0"`` is an index, unless the header has a column of that name.
    header : bool, default True
        Whether the first row names the columns.
    delimiter : str, optional
        One character. By default tab for ``.tsv`` and ``.txt``, comma for ``.csv``,
        and for other names tab if the first line holds one, else comma.
    encoding : str, default "utf-8"
        Text encoding; a leading byte-order mark is dropped.
    on_bad_lines : {"error", "warn", "skip"}, default "error"
        A bad row (too few fields, an empty text or label) stops the reader, or is
        left out and recorded in ``skipped`` (:mod:`rnnkit.data.bad_lines`).

    Returns
    -------
    Table

    Raises
    ------
    DataError
        Missing file, directory, undecodable bytes, no rows, unknown column, a row with
        too few fields, an empty text or label (each naming the file and line).
    ConfigError
        An unknown encoding, a bad delimiter, or a column argument that is neither a
        name nor an index.

    Notes
    -----
    Tab-separated files are read without quoting, as ``label<TAB>snippet`` corpora
    such as MR are written: a ``"`` is an ordinary character. Comma-separated files
    follow the CSV rules (fields with commas, quotes or newlines are double-quoted).
    """
    source = str(path)
    if delimiter is not None and (not isinstance(delimiter, str) or len(delimiter) != 1):
        raise ConfigError(f"delimiter: expected one character, got {delimiter!r}")
    text = decode_bytes(read_bytes(Path(path), source), encoding, source)
    if delimiter is None:
        delimiter = _infer_delimiter(Path(path), text)
    return parse_table(
        text,
        source,
        text_col=text_col,
        label_col=label_col,
        header=header,
        delimiter=delimiter,
        on_bad_lines=on_bad_lines,
    )


def parse_table(
    text: str,
    source: str,
    *,
    text_col: Column = "text",
    label_col: Column = "label",
    header: bool = True,
    delimiter: str = "\t",
    on_bad_lines: str | None = "error",
) -> Table:
    """Parse the decoded contents of a table file; see :func:`read_table`.

    ``source`` names the file in messages and in ``Table.path``.

    Examples
    --------
    >>> parse_table("1\\tgood film \\n0\\tdull \\n", "mr.tsv", text_col=1, label_col=0,
    ...             header=False).labels
    ['1', '0']
    """
    rows = csv_rows(text, source, delimiter)
    first = next(rows, None)
    if first is None:
        raise DataError(f"{source}: empty file (no rows)")
    names = first[1] if header else None
    where = f"{source}:{first[0]}"  # the header's line, for column errors
    text_i = _resolve(text_col, "text", names, where, delimiter)
    label_i = _resolve(label_col, "label", names, where, delimiter)
    if text_i == label_i:
        raise ConfigError(f"text and label columns are the same column ({text_i})")
    need = max(text_i, label_i) + 1
    if names is not None and need > len(names):
        raise DataError(f"{where}: no column {need - 1}; {_listing(names, delimiter)}")
    texts: list[str] = []
    labels: list[str] = []
    lines: list[int] = []
    bad = BadLines(on_bad_lines, source)
    for line, row in rows if header else itertools.chain([first], rows):
        if len(row) < need:
            found = f"found {len(row)}, need {need} (delimiter {delimiter!r})"
            bad.add(line, f"too few fields: {found}")
            continue
        row_text, row_label = row[text_i], row[label_i].strip()
        if not row_text.strip() or not row_label:
            bad.add(line, "empty text" if not row_text.strip() else "empty label")
            continue
        texts.append(row_text)
        labels.append(row_label)
        lines.append(line)
    if not texts:
        raise DataError(f"{source}: no rows after the header")
    return Table(texts=texts, labels=labels, path=source, lines=lines, skipped=bad.skipped)


def check_labels(labels: Sequence[str], path: str) -> list[str]:
    """Check that the labels hold at least two classes; return the classes, sorted.

    Examples
    --------
    >>> check_labels(["pos", "neg", "pos"], "reviews.csv")
    ['neg', 'pos']
    >>> check_labels(["pos", "pos"], "reviews.csv")
    Traceback (most recent call last):
    ...
    rnnkit.errors.DataError: reviews.csv: label column has only one class 'pos'; a classifier needs at least two
    """  # noqa: E501
    classes = sorted(set(labels))
    if not classes:
        raise DataError(f"{path}: no labels; a classifier needs at least two classes")
    if len(classes) == 1:
        raise DataError(
            f"{path}: label column has only one class {classes[0]!r}; "
            "a classifier needs at least two"
        )
    return classes


def _infer_delimiter(path: Path, text: str) -> str:
    suffix = path.suffix.lower()
    if suffix in (".tsv", ".txt"):
        return "\t"
    if suffix == ".csv":
        return ","
    first_line = text.split("\n", 1)[0]
    return "\t" if "\t" in first_line else ","


def csv_rows(text: str, source: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """Yield (first line number, fields) for every non-blank row.

    A malformed row (an unclosed quote, a field over the csv module's size limit) is a
    DataError naming the line.
    """
    stream = io.StringIO(text, newline="")
    if delimiter == "\t":
        reader = csv.reader(stream, delimiter=delimiter, quoting=csv.QUOTE_NONE)
    else:
        reader = csv.reader(stream, delimiter=delimiter, quoting=csv.QUOTE_MINIMAL)
    line = 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as e:
            raise DataError(f"{source}:{reader.line_num}: {e}") from None
        if row:
            yield line, row
        line = reader.line_num + 1


def _resolve(col: Column, role: str, names: list[str] | None, where: str, delimiter: str) -> int:
    """0-based index of a column given by name or index."""
    if isinstance(col, int) and not isinstance(col, bool):
        if col < 0:
            raise ConfigError(f"{role} column: expected a name or a 0-based index, got {col}")
        return col
    if not isinstance(col, str):
        raise ConfigError(f"{role} column: expected a name or a 0-based index, got {col!r}")
    if names is not None and col in names:
        return names.index(col)
    if col.isascii() and col.isdigit():
        if len(col) > _MAX_DIGITS:  # int() refuses over 4300 digits; no file is that wide
            raise ConfigError(
                f"{role} column: expected a name or a 0-based index, "
                f"got a number of {len(col)} digits"
            )
        return int(col)
    if names is None:
        raise ConfigError(
            f"{where}: {role} column {col!r} is a name, but the file has no header; "
            "give a 0-based index"
        )
    raise DataError(f"{where}: no column {col!r}; {_listing(names, delimiter)}")


def _listing(names: list[str], delimiter: str) -> str:
    columns = ", ".join(f"{i} {name!r}" for i, name in enumerate(names))
    return f"columns are {columns} (delimiter {delimiter!r})"
