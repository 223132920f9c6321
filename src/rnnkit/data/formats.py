"""The data formats, each described once: name, how a file is recognised, reader, the
tasks that accept it and the options (the command line's format flags) it takes.

The command line takes its ``--format`` choices, the help of its format flags and its
refusals from :data:`FORMATS`, and reads every file through the functions here, so a
new format is a reader and one entry.

============  ==========================================  ==========================
format        recognised (without ``--format``)           tasks
============  ==========================================  ==========================
table         the default of classify                     classify
label-files   a directory                                 classify
conllu        a ``.conllu`` name                          tag
conll         the default of tag                          tag
text          the default of lm                           lm
pairs         the default of seq2seq                      seq2seq
cmudict       a ``.dict`` name                            seq2seq
frames        a ``.csv`` whose header has a sequence id   classify, tag, regress
              column and a ``t`` column
npz           an ``.npz`` name                            classify, tag, regress
============  ==========================================  ==========================

A real-valued file (frames, npz) is recognised before the text formats of a task: a
classify or tag task given one trains a model of frames.

>>> [f.name for f in FORMATS]
['table', 'label-files', 'conllu', 'conll', 'text', 'pairs', 'cmudict', 'frames', 'npz']
>>> infer_format("ewt-train.conllu", "tag").name, infer_format("g2p.dict", "seq2seq").name
('conllu', 'cmudict')
>>> get_format("table").flags
('text_col', 'label_col', 'no_header', 'delimiter', 'encoding', 'on_bad_lines')
>>> [f.name for f in formats_for("tag")]
['conllu', 'conll', 'frames', 'npz']
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rnnkit.data.corpus import TextCorpus, read_corpus
from rnnkit.data.frames import ID_COLUMNS, FrameSet, read_frames, read_npz
from rnnkit.data.label_files import read_label_files
from rnnkit.data.pairs import PairCorpus, read_cmudict, read_pairs
from rnnkit.data.table import Table, read_table
from rnnkit.data.tagged import TaggedCorpus, read_conll, read_conllu
from rnnkit.errors import ConfigError, DataError

__all__ = [
    "FORMATS",
    "TASKS",
    "Format",
    "formats_for",
    "frame_format",
    "get_format",
    "infer_format",
    "read_frame_file",
    "read_pair_file",
    "read_tagged",
]

PathLike = str | os.PathLike[str]
#: the tasks a format can be read for (``rnnkit train --task``)
TASKS = ("classify", "tag", "lm", "seq2seq", "regress")


@dataclass(frozen=True)
class Format:
    """One data format.

    Attributes
    ----------
    name : str
        Its ``--format`` name.
    title : str
        What its files are, in words, for messages (``"CoNLL-U files"``).
    returns : type
        What its reader returns: Table, TaggedCorpus, TextCorpus, PairCorpus or FrameSet.
    reader : callable
        ``reader(path, **options)``.
    tasks : tuple of str
        The tasks that accept it.
    flags : tuple of str
        The reader's options that are format flags of the command line, by their
        argparse names (``text_col`` for ``--text-col``).
    recognises : callable or None
        ``recognises(path) -> bool``: whether a file given without a format is one;
        None for the format a task falls back to when no other is recognised.
    """

    name: str
    title: str
    returns: type
    reader: Callable[..., Any]
    tasks: tuple[str, ...]
    flags: tuple[str, ...]
    recognises: Callable[[Path], bool] | None = None

    def read(self, path: PathLike, **options: Any) -> Any:
        """The file at `path`, read with `options` (keywords of :attr:`reader`)."""
        return self.reader(path, **options)


def _read_table(path: PathLike, *, no_header: bool = False, **options: Any) -> Table:
    """:func:`~rnnkit.data.table.read_table` with the option named as the flag is."""
    return read_table(path, header=not no_header, **options)


def _directory(path: Path) -> bool:
    return path.is_dir()


def _conllu_name(path: Path) -> bool:
    return path.suffix.lower() == ".conllu"


def _dict_name(path: Path) -> bool:
    return path.suffix.lower() == ".dict"


def _npz_name(path: Path) -> bool:
    return path.suffix.lower() == ".npz"


def _frames_header(path: Path) -> bool:
    """A ``.csv`` file whose header names a sequence id column and a ``t`` column."""
    if path.suffix.lower() != ".csv" or not path.is_file():
        return False
    # NOTE: errors="replace": a header is sniffed, not read; the reader checks the bytes
    with open(path, encoding="utf-8", errors="replace", newline="") as f:
        header = next(csv.reader([f.readline().lstrip("\ufeff")]), [])
    names = {h.strip() for h in header}
    return "t" in names and bool(names & set(ID_COLUMNS))


_TABLE_FLAGS = ("text_col", "label_col", "no_header", "delimiter", "encoding", "on_bad_lines")
_FRAME_TASKS = ("classify", "tag", "regress")

#: every format, in the order of the ``--format`` choices
FORMATS: tuple[Format, ...] = (
    Format("table", "CSV or TSV tables", Table, _read_table, ("classify",), _TABLE_FLAGS),
    Format("label-files", "directories of <Label>.txt files", Table, read_label_files,
           ("classify",), ("encoding",), _directory),
    Format("conllu", "CoNLL-U files", TaggedCorpus, read_conllu, ("tag",),
           ("tag_col", "encoding"), _conllu_name),
    Format("conll", "token<TAB>tag files", TaggedCorpus, read_conll, ("tag",),
           ("encoding", "on_bad_lines")),
    Format("text", "text files", TextCorpus, read_corpus, ("lm",), ("encoding",)),
    Format("pairs", "source<TAB>target files", PairCorpus, read_pairs, ("seq2seq",),
           ("source_level", "target_level", "encoding", "on_bad_lines")),
    Format("cmudict", "CMU Pronouncing Dictionary files", PairCorpus, read_cmudict,
           ("seq2seq",), ("encoding",), _dict_name),
    Format("frames", "long CSV files of frames", FrameSet, read_frames, _FRAME_TASKS,
           ("encoding",), _frames_header),
    Format("npz", "npz arrays", FrameSet, read_npz, _FRAME_TASKS, (), _npz_name),
)  # fmt: skip


def get_format(name: str) -> Format:
    """The format called `name`; ConfigError names the known ones."""
    for fmt in FORMATS:
        if fmt.name == name:
            return fmt
    raise ConfigError(f"format: expected one of {_names(FORMATS)}, got {name!r}")


def formats_for(task: str, returns: type | None = None) -> tuple[Format, ...]:
    """The formats `task` accepts (those whose reader returns `returns`, when given)."""
    return tuple(
        f for f in FORMATS if task in f.tasks and (returns is None or f.returns is returns)
    )


def infer_format(path: PathLike, task: str, returns: type | None = None) -> Format | None:
    """The format of `path` among :func:`formats_for` (`task`, `returns`); None if none fits.

    A real-valued format is tried first, then the task's other recognised formats, then
    its default (see the module docstring).
    """
    return _recognise(Path(path), formats_for(task, returns))


def _recognise(path: Path, formats: tuple[Format, ...]) -> Format | None:
    # NOTE: sorted is stable: within each rank, the order of FORMATS
    ranked = sorted(formats, key=lambda f: (f.returns is not FrameSet, f.recognises is None))
    return next((f for f in ranked if f.recognises is None or f.recognises(path)), None)


def _names(formats: tuple[Format, ...]) -> str:
    return ", ".join(f.name for f in formats)


def _family(path: PathLike, format: str | None, returns: type) -> Format | None:
    """`format` if its reader returns `returns`, else None; by default the one of `path`."""
    family = tuple(f for f in FORMATS if f.returns is returns)
    if format is None:
        return _recognise(Path(path), family)
    return next((f for f in family if f.name == format), None)


def _taken(fmt: Format, **options: Any) -> dict[str, Any]:
    """The options `fmt`'s reader takes."""
    return {k: v for k, v in options.items() if k in fmt.flags}


def read_tagged(
    path: PathLike,
    format: str | None = None,
    *,
    tag_col: str = "upos",
    encoding: str = "utf-8",
    on_bad_lines: str | None = None,
) -> TaggedCorpus:
    """Read a tagged corpus, choosing the reader from the file name or ``format``.

    Parameters
    ----------
    path : str or path-like
    format : {"conllu", "conll"}, optional
        By default ``conllu`` for a ``.conllu`` file and ``conll`` for any other name
        (``.conll``, ``.txt``, ``.tsv``, ...).
    tag_col : {"upos", "xpos"}, default "upos"
        CoNLL-U only: the column holding the tags. A ``conll`` file has one tag column,
        so anything but the default is refused there rather than silently ignored.
    encoding : str, default "utf-8"
    on_bad_lines : {"error", "warn", "skip"}, optional
        ``conll`` only: what to do with a bad line (:mod:`rnnkit.data.bad_lines`);
        None is "error".

    Raises
    ------
    ConfigError
        An unknown format or encoding, ``tag_col="xpos"`` for a ``conll`` file, or
        `on_bad_lines` for a ``conllu`` one.
    DataError
        Anything wrong with the file; see :func:`~rnnkit.data.tagged.read_conllu` and
        :func:`~rnnkit.data.tagged.read_conll`.
    """
    fmt = _family(path, format, TaggedCorpus)
    if fmt is None:
        family = tuple(f for f in FORMATS if f.returns is TaggedCorpus)
        raise ConfigError(f"format: expected one of {_names(family)}, got {format!r}")
    if "tag_col" not in fmt.flags and str(tag_col).lower() != "upos":
        takers = " or ".join(f.title for f in FORMATS if "tag_col" in f.flags)
        raise ConfigError(f"tag_col: {tag_col!r} applies to {takers} only, not {fmt.name}")
    if "on_bad_lines" not in fmt.flags and on_bad_lines is not None:
        raise ConfigError(f"on_bad_lines applies to token<TAB>tag files, not {fmt.title}")
    options = _taken(fmt, tag_col=tag_col, encoding=encoding, on_bad_lines=on_bad_lines)
    return fmt.read(path, **options)


def read_pair_file(
    path: PathLike,
    format: str | None = None,
    *,
    source_level: str | None = None,
    target_level: str | None = None,
    encoding: str = "utf-8",
    on_bad_lines: str | None = None,
) -> PairCorpus:
    """Read pairs, choosing the reader from the file name or ``format``.

    By default ``cmudict`` for a ``.dict`` file and ``pairs`` for any other name. The
    levels default to characters, except the phones of ``cmudict`` (words); a
    ``cmudict`` file refuses any other split rather than ignore it.
    """
    fmt = _family(path, format, PairCorpus)
    if fmt is None:
        family = tuple(f for f in FORMATS if f.returns is PairCorpus)
        raise ConfigError(f"format: expected one of {_names(family)}, got {format!r}")
    if "source_level" not in fmt.flags:  # cmudict: its levels are fixed
        if (source_level or "char") != "char" or (target_level or "word") != "word":
            raise ConfigError("a cmudict file is read as letters -> phones: drop --*-level")
    options = _taken(
        fmt,
        source_level=source_level or "char",
        target_level=target_level or "char",
        encoding=encoding,
        on_bad_lines=on_bad_lines,
    )
    return fmt.read(path, **options)


def frame_format(path: PathLike, format: str | None = None) -> str | None:
    """``"npz"`` or ``"frames"`` if `path` holds real-valued sequences, else None.

    `format` decides when given; otherwise a ``.npz`` name, or a ``.csv`` whose header
    has a sequence id column and a ``t`` column.
    """
    fmt = _family(path, format, FrameSet)
    return None if fmt is None else fmt.name


def read_frame_file(
    path: PathLike, format: str | None = None, *, encoding: str = "utf-8"
) -> FrameSet:
    """Read a ``frames`` CSV or an ``npz`` file, by `format` or as :func:`frame_format` finds."""
    fmt = _family(path, format, FrameSet)
    if format is not None and fmt is None:
        family = tuple(f for f in FORMATS if f.returns is FrameSet)
        shown = " or ".join(repr(f.name) for f in family)
        raise ConfigError(f"--format {format}: real-valued sequences are {shown}")
    if fmt is None:
        raise DataError(
            f"{path}: not a frames CSV (a .csv with a sequence id and a t column) or an .npz "
            "file; name the format with --format"
        )
    return fmt.read(path, **_taken(fmt, encoding=encoding))
