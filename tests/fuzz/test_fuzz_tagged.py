"""Fuzz: tagged corpora (CoNLL-U and token<TAB>tag) from any bytes.

Each input goes through both readers: ``read_conllu`` (UPOS and XPOS) and
``read_conll``. Each returns sound sentences or raises one line naming the file and a
line it has.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given

from hostile import ENCODINGS, check_error, drawn, fuzz, hostile_bytes, n_lines
from rnnkit.data.tagged import TaggedCorpus, read_conll, read_conllu
from rnnkit.errors import ConfigError, DataError, RnnkitError

#: pieces of CoNLL-U files: IDs good and bad, the null "_", fields, comments, tabs
CONLLU_PIECES = (
    b"1",
    b"2",
    b"3",
    b"0",
    b"1-2",
    b"2-1",
    b"1.1",
    b"1.",
    b"-",
    b".",
    b"01",
    b"\xd9\xa1",  # ARABIC-INDIC DIGIT ONE
    b"9" * 5000,
    b"_",
    b"NOUN",
    b"dog",
    b"# sent_id = 1",
    b"#",
    b"\t",
    b"\t_\t_\t_\t_\t_\t_\t_\t_",
    b"\tdog\tdog\tNOUN\tNN\t_\t0\troot\t_\t_",
    b"\n",
    b"\r\n",
    b"\r",
    b" ",
    b"\x00",
    b"\x85",
    b"\xff",
    "\u2028".encode(),
)

#: pieces of token<TAB>tag files
CONLL_PIECES = (b"New", b"B-loc", b"O", b"\t", b"\tO\n", b"\n", b"\r\n", b" ", b"\x1c", b"\xc2\x85")


def check_corpus(corpus: TaggedCorpus, lines: int) -> None:
    """What every TaggedCorpus promises: non-empty sentences, one tag per token, lines."""
    assert len(corpus.sentences) == len(corpus.tags) == len(corpus.lines) >= 1
    for tokens, tags in zip(corpus.sentences, corpus.tags, strict=True):
        assert tokens and len(tokens) == len(tags)
        assert all(isinstance(t, str) and t for t in tokens)
        assert all(isinstance(t, str) and t and t == t.strip() for t in tags)
    assert corpus.lines == sorted(set(corpus.lines)) and corpus.lines[-1] <= lines


def read_both(path: Path, data: bytes, encoding: str = "utf-8") -> None:
    path.write_bytes(data)
    lines = n_lines(data)
    for read, kwargs in (
        (read_conllu, {"tag_col": "upos"}),
        (read_conllu, {"tag_col": "XPOS"}),
        (read_conll, {}),
    ):
        try:
            corpus = read(path, encoding=encoding, **kwargs)
        except ConfigError as exc:
            assert str(exc).startswith("encoding: ") and "\n" not in str(exc)
        except RnnkitError as exc:
            check_error(exc, str(path), lines)
        else:
            check_corpus(corpus, lines)


@fuzz(700)
@given(drawn(hostile_bytes, 300))
def test_any_bytes(tmp_path: Path, data: bytes) -> None:
    read_both(tmp_path / "t.conllu", data)


@fuzz(1000)
@given(drawn(lambda d: d.rest(d.pick([CONLLU_PIECES, CONLLU_PIECES + CONLL_PIECES])), 60))
def test_near_valid_files(tmp_path: Path, data: bytes) -> None:
    read_both(tmp_path / "t.conllu", data)


@fuzz(300)
@given(drawn(lambda d: (d.pick(ENCODINGS), hostile_bytes(d)), 200))
def test_any_encoding(tmp_path: Path, case: tuple[str, bytes]) -> None:
    encoding, data = case
    read_both(tmp_path / "t.conll", data, encoding)


# -- regressions: inputs the fuzz tests found ---------------------------------------------


def test_an_id_holding_a_carriage_return_is_named_on_one_line(tmp_path: Path) -> None:
    path = tmp_path / "t.conllu"
    path.write_bytes(b"\r\tdog\tdog\tNOUN\tNN\t_\t0\troot\t_\t_\n")
    with pytest.raises(DataError) as info:
        read_conllu(path)
    assert str(info.value) == f"{path}:1: malformed CoNLL-U: '\\r' is not a valid ID"


def test_an_id_too_long_for_int(tmp_path: Path) -> None:
    path = tmp_path / "t.conllu"
    path.write_text("9" * 5000 + "\tdog\tdog\tNOUN\tNN\t_\t0\troot\t_\t_\n", encoding="utf-8")
    with pytest.raises(DataError) as info:
        read_conllu(path)
    assert str(info.value) == f"{path}:1: malformed CoNLL-U: '{'9' * 40}'... is not a valid ID"
