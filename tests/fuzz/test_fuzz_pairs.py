"""Fuzz: sequence pairs (source<TAB>target and CMUdict) from any bytes.

Each input goes through ``read_pairs`` at both levels, ``read_cmudict`` and
``read_pair_file``; each returns sound pairs or raises one line naming the file and a
line it has.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given

from hostile import ENCODINGS, check_error, drawn, fuzz, hostile_bytes, n_lines
from rnnkit.data.formats import read_pair_file
from rnnkit.data.pairs import PairCorpus, read_cmudict, read_pairs
from rnnkit.errors import ConfigError, DataError, RnnkitError

#: pieces of pair files and of the CMU Pronouncing Dictionary
PAIR_PIECES = (
    b"namaste",
    b"AH0",
    b"B EH1",
    b" ",
    b"  ",
    b"\t",
    b" #",
    b" # comment",
    b"#",
    b";;;",
    b";;; header",
    b"\n",
    b"\r\n",
    b"\r",
    b"\x00",
    b"\x0b",
    b"\x0c",
    b"\x1c",
    b"\x1e",
    b"\xc2\x85",  # NEL
    b"\xe2\x80\xa8",  # LINE SEPARATOR
    b"\x85",
    b"\xff",
    "é".encode(),
)

READERS = (
    (read_pairs, {}),
    (read_pairs, {"source_level": "word", "target_level": "word"}),
    (read_cmudict, {}),
    (read_pair_file, {"format": None}),
)


def check_pairs(corpus: PairCorpus, lines: int) -> None:
    assert len(corpus.sources) == len(corpus.targets) == len(corpus.lines) >= 1
    for src, tgt in zip(corpus.sources, corpus.targets, strict=True):
        assert src and tgt and all(isinstance(t, str) and t for t in src + tgt)
    assert corpus.lines == sorted(set(corpus.lines)) and corpus.lines[-1] <= lines


def read_all(path: Path, data: bytes, encoding: str = "utf-8") -> None:
    path.write_bytes(data)
    lines = n_lines(data)
    for read, kwargs in READERS:
        try:
            corpus = read(path, encoding=encoding, **kwargs)
        except ConfigError as exc:
            check_error(exc, "encoding: ")
        except RnnkitError as exc:
            check_error(exc, str(path), lines)
        else:
            check_pairs(corpus, lines)


@fuzz(700)
@given(drawn(hostile_bytes, 300))
def test_any_bytes(tmp_path: Path, data: bytes) -> None:
    read_all(tmp_path / "p.dict", data)


@fuzz(1000)
@given(drawn(lambda d: d.rest(PAIR_PIECES), 50))
def test_near_valid_files(tmp_path: Path, data: bytes) -> None:
    read_all(tmp_path / "p.tsv", data)


@fuzz(300)
@given(drawn(lambda d: (d.pick(ENCODINGS), hostile_bytes(d)), 200))
def test_any_encoding(tmp_path: Path, case: tuple[str, bytes]) -> None:
    encoding, data = case
    read_all(tmp_path / "p.tsv", data, encoding)


# -- regressions: inputs the fuzz tests found ---------------------------------------------


@pytest.mark.parametrize("separator", ["\x85", "\u2028", "\x1c", "\x0b", "\x0c"])
def test_a_unicode_line_separator_inside_a_pair_is_a_character(
    tmp_path: Path, separator: str
) -> None:
    path = tmp_path / "p.tsv"
    path.write_text(f"a{separator}b\tc\nd\te\n", encoding="utf-8")
    corpus = read_pairs(path)
    assert corpus.sources == [["a", separator, "b"], ["d"]]
    assert corpus.lines == [1, 2]


def test_lines_end_at_cr_lf_and_lone_cr(tmp_path: Path) -> None:
    path = tmp_path / "p.tsv"
    path.write_bytes(b"a\tb\r\nc\td\re\n")
    with pytest.raises(DataError) as info:
        read_pairs(path)
    assert str(info.value) == (
        f"{path}:3: one column; a pair is 'source<TAB>target' (--on-bad-lines skip leaves such "
        "lines out)"
    )
