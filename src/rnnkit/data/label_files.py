"""The ``label-files`` format: a directory of ``<Label>.txt`` files, one example per line.

As in the names-by-language corpus (``Arabic.txt``, ``Chinese.txt``, ...): the file's
name without ``.txt`` is the label of every line in it. Blank lines are skipped; an
empty file is refused rather than silently making a class with no examples.

>>> import tempfile, pathlib
>>> with tempfile.TemporaryDirectory() as d:
...     _ = (pathlib.Path(d) / "Czech.txt").write_text("Novak\\nDvorak\\n")
...     _ = (pathlib.Path(d) / "Irish.txt").write_text("Murphy\\n")
...     table = read_label_files(d)
...     where = table.where(2)
>>> table.texts, table.labels, where.endswith("Irish.txt:1")
(['Novak', 'Dvorak', 'Murphy'], ['Czech', 'Czech', 'Irish'], True)
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rnnkit.data.table import Table
from rnnkit.data.text_files import decode_bytes, read_bytes, split_lines
from rnnkit.errors import DataError

__all__ = ["LabelFilesTable", "read_label_files"]

PathLike = str | os.PathLike[str]


@dataclass(frozen=True)
class LabelFilesTable(Table):
    """A :class:`~rnnkit.data.table.Table` whose rows come from several files."""

    files: list[str] = field(default_factory=list)

    def where(self, row: int) -> str:
        return f"{self.files[row]}:{self.lines[row]}"

    def subset(self, index: Sequence[int] | np.ndarray) -> LabelFilesTable:
        part = super().subset(index)
        return LabelFilesTable(
            part.texts, part.labels, part.path, part.lines, files=[self.files[i] for i in index]
        )


def read_label_files(directory: PathLike, *, encoding: str = "utf-8") -> LabelFilesTable:
    """Read every ``<Label>.txt`` in `directory`, in file-name order.

    The label is the file's name without ``.txt`` and without surrounding whitespace.

    Raises
    ------
    DataError
        A missing directory, one without ``.txt`` files, an undecodable or empty file,
        a file name that is blank or not UTF-8.
    """
    root = Path(directory)
    if not root.is_dir():
        raise DataError(
            f"{directory}: {'no such directory' if not root.exists() else 'not a directory'}"
        )
    paths = sorted(p for p in root.iterdir() if p.suffix == ".txt" and p.is_file())
    if not paths:
        raise DataError(f"{directory}: a directory without <Label>.txt files")
    texts: list[str] = []
    labels: list[str] = []
    lines: list[int] = []
    files: list[str] = []
    for path in paths:
        label = _label(path)
        text = decode_bytes(read_bytes(path, str(path), "label file"), encoding, str(path))
        before = len(texts)
        for n, line in enumerate(split_lines(text), start=1):
            if line.strip():
                texts.append(line.strip())
                labels.append(label)
                lines.append(n)
                files.append(str(path))
        if len(texts) == before:
            raise DataError(f"{path}: an empty file; every label needs at least one example")
    return LabelFilesTable(texts, labels, str(directory), lines, files=files)


def _label(path: Path) -> str:
    """The label a file's name gives: its stem, without surrounding whitespace."""
    label = path.stem.strip()
    try:
        label.encode("utf-8")
    except UnicodeEncodeError:  # undecodable bytes, kept by os.fsdecode as lone surrogates
        raise DataError(f"{path}: the file name is not UTF-8 text; rename the file") from None
    if not label:
        raise DataError(f"{path}: a file name without a label")
    return label
