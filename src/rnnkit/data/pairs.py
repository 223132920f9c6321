"""Sequence pairs for encoder-decoder models: the ``pairs`` and ``cmudict`` formats.

Both readers return a :class:`PairCorpus`: each source and target as a list of tokens,
and the line each pair came from, so every later message can point into the file.
Every problem is a :class:`~rnnkit.errors.DataError` naming the file and line.

- ``pairs`` (:func:`read_pairs`): ``source<TAB>target`` lines, as in transliteration
  and translation corpora; each side is split into characters or into
  whitespace-separated words (``source_level``, ``target_level``). Blank lines are
  skipped.
- ``cmudict`` (:func:`read_cmudict`): the CMU Pronouncing Dictionary's lines, a word
  then its phones separated by spaces (``abbett AH0 B EH1 T``); a trailing
  ``# comment`` is dropped, as are the dictionary's own ``;;;`` comment lines. The
  word is read letter by letter and the phones as tokens: spelling -> pronunciation.

:func:`rnnkit.data.formats.read_pair_file` picks the reader by ``format`` or file name.

>>> import tempfile, pathlib
>>> with tempfile.TemporaryDirectory() as d:
...     path = pathlib.Path(d) / "g2p.dict"
...     _ = path.write_text("aalto AA1 L T OW2 # name, finnish\\nab AE1 B\\n")
...     corpus = read_cmudict(path)
>>> corpus.sources, corpus.targets, corpus.lines
([['a', 'a', 'l', 't', 'o'], ['a', 'b']], [['AA1', 'L', 'T', 'OW2'], ['AE1', 'B']], [1, 2])
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from rnnkit.data.bad_lines import BadLines
from rnnkit.data.corpus import check_level
from rnnkit.data.text_files import decode_bytes, read_bytes, split_lines
from rnnkit.errors import DataError

__all__ = ["PairCorpus", "read_cmudict", "read_pairs"]

PathLike = str | os.PathLike[str]


@dataclass(frozen=True)
class PairCorpus:
    """Source and target token sequences, one pair per line of a file.

    Attributes
    ----------
    sources, targets : list of list of str
        The tokens of each side (never empty), ``len(sources) == len(targets)``.
    path : str
        The file, as given; used in messages.
    lines : list of int
        1-based line of each pair.
    source_level, target_level : {"char", "word"}
        How each side was split into tokens.
    skipped : list of str
        The bad lines left out (``on_bad_lines`` warn or skip), ``"line N: problem"``.
    """

    sources: list[list[str]]
    targets: list[list[str]]
    path: str
    lines: list[int]
    source_level: str = "char"
    target_level: str = "char"
    skipped: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.sources)

    def __repr__(self) -> str:
        return f"PairCorpus(path={self.path!r}, pairs={len(self)})"

    def where(self, pair: int) -> str:
        """``"path:line"`` of a pair, for error messages."""
        return f"{self.path}:{self.lines[pair]}"


def read_pairs(
    path: PathLike,
    *,
    source_level: str = "char",
    target_level: str = "char",
    encoding: str = "utf-8",
    on_bad_lines: str | None = "error",
) -> PairCorpus:
    """Read ``source<TAB>target`` lines (see the module docstring).

    A bad line (without exactly one tab, or with an empty side) stops the reader, or
    with `on_bad_lines` warn or skip is left out and recorded in ``skipped``.

    Raises
    ------
    DataError
        A missing or undecodable file, a bad line (by default), or a file without pairs.
    """
    check_level(source_level)
    check_level(target_level)
    source = str(path)
    bad = BadLines(on_bad_lines, source)
    sources, targets, lines = [], [], []
    for n, line in _lines(path, source, encoding):
        if not line.strip():
            continue
        cols = line.split("\t")
        if len(cols) != 2:
            what = "one column" if len(cols) == 1 else f"{len(cols)} columns"
            bad.add(n, f"{what}; a pair is 'source<TAB>target'")
            continue
        src, tgt = _split(cols[0], source_level), _split(cols[1], target_level)
        if not src or not tgt:
            bad.add(n, f"the {'source' if not src else 'target'} is empty")
            continue
        sources.append(src)
        targets.append(tgt)
        lines.append(n)
    corpus = _corpus(sources, targets, source, lines, source_level, target_level)
    corpus.skipped.extend(bad.skipped)
    return corpus


def read_cmudict(path: PathLike, *, encoding: str = "utf-8") -> PairCorpus:
    """Read CMU Pronouncing Dictionary lines: letters -> phones (see the module docstring).

    Raises
    ------
    DataError
        A missing or undecodable file, a word without phones, or a file without words.
    """
    source = str(path)
    sources, targets, lines = [], [], []
    for n, line in _lines(path, source, encoding):
        if line.startswith(";;;"):
            continue
        body = line.split(" #", 1)[0] if " #" in line else line
        fields = body.split()
        if not fields:
            continue
        if len(fields) == 1:
            raise DataError(f"{source}:{n}: the word {fields[0]!r} has no phones")
        sources.append(list(fields[0]))
        targets.append(fields[1:])
        lines.append(n)
    return _corpus(sources, targets, source, lines, "char", "word")


def _lines(path: PathLike, source: str, encoding: str) -> Iterator[tuple[int, str]]:
    text = decode_bytes(read_bytes(Path(path), source, "pair file"), encoding, source)
    yield from enumerate(split_lines(text), start=1)


def _split(text: str, level: str) -> list[str]:
    text = text.strip()
    return list(text) if level == "char" else text.split()


def _corpus(sources, targets, source, lines, source_level, target_level) -> PairCorpus:
    if not sources:
        raise DataError(f"{source}: no pairs found")
    return PairCorpus(sources, targets, source, lines, source_level, target_level)
