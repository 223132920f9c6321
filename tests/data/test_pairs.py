"""The pair readers: TSV pairs at either level, CMUdict lines, and every bad input."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rnnkit.data.formats import read_pair_file
from rnnkit.data.pairs import read_cmudict, read_pairs
from rnnkit.errors import ConfigError, DataError

CMUDICT = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "cmudict_g2p"


def test_pairs_at_char_and_word_level(write) -> None:
    path = write("t.tsv", "namaste\tनमस्ते\n\nthe cat\tle chat\n")
    chars = read_pairs(path)
    assert chars.sources[0] == list("namaste") and chars.targets[0] == list("नमस्ते")
    assert chars.lines == [1, 3]  # the blank line is skipped, line numbers kept
    words = read_pairs(path, source_level="word", target_level="word")
    assert words.sources[1] == ["the", "cat"] and words.targets[1] == ["le", "chat"]
    mixed = read_pair_file(path, source_level="char", target_level="word")
    assert mixed.targets[1] == ["le", "chat"] and mixed.sources[1][:3] == ["t", "h", "e"]


def test_cmudict_lines_drop_comments_and_keep_stress(write) -> None:
    path = write(
        "x.dict",
        ";;; a header comment\naalto AA1 L T OW2 # name, finnish\n'bout B AW1 T\n",
    )
    corpus = read_pair_file(path)  # .dict: the cmudict reader
    assert corpus.sources == [list("aalto"), list("'bout")]
    assert corpus.targets == [["AA1", "L", "T", "OW2"], ["B", "AW1", "T"]]
    assert corpus.lines == [2, 3]
    assert (corpus.source_level, corpus.target_level) == ("char", "word")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("abc\txyz\nlonely\n", r"t.tsv:2: one column; a pair is 'source<TAB>target'"),
        ("a\tb\tc\n", r"t.tsv:1: 3 columns"),
        ("\txyz\n", r"t.tsv:1: the source is empty"),
        ("abc\t  \n", r"t.tsv:1: the target is empty"),
        ("\n\n", r"t.tsv: no pairs found"),
    ],
)
def test_bad_pair_lines_name_the_file_and_line(write, text: str, message: str) -> None:
    with pytest.raises(DataError, match=message):
        read_pairs(write("t.tsv", text))


def test_bad_cmudict_and_bad_arguments(write, tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"d.dict:2: the word 'cat' has no phones"):
        read_cmudict(write("d.dict", "dog D AO1 G\ncat\n"))
    with pytest.raises(DataError, match="no such file"):
        read_pairs(tmp_path / "missing.tsv")
    with pytest.raises(DataError, match="cannot decode"):
        read_pairs(write("bad.tsv", b"a\t\xff\xfe\n"))
    with pytest.raises(ConfigError, match="level"):
        read_pairs(write("ok.tsv", "a\tb\n"), source_level="byte")
    with pytest.raises(ConfigError, match="letters -> phones"):
        read_pair_file(write("e.dict", "a EY1\n"), target_level="char")
    with pytest.raises(ConfigError, match="format"):
        read_pair_file(write("f.tsv", "a\tb\n"), "csv")


@given(
    st.lists(
        st.tuples(
            st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zs", "Zl", "Zp")), min_size=1),
            st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zs", "Zl", "Zp")), min_size=1),
        ),
        min_size=1,
        max_size=5,
    )
)
def test_any_written_pairs_read_back(tmp_path_factory, pairs) -> None:
    path = tmp_path_factory.mktemp("p") / "p.tsv"
    path.write_text("".join(f"{a}\t{b}\n" for a, b in pairs), encoding="utf-8")
    corpus = read_pairs(path)
    assert corpus.sources == [list(a) for a, _ in pairs]
    assert corpus.targets == [list(b) for _, b in pairs]


def test_the_shared_cmudict_splits() -> None:
    if not (CMUDICT / "cmudict-test.dict").exists():
        pytest.skip(f"CMUdict data not found at {CMUDICT}")
    test = read_cmudict(CMUDICT / "cmudict-test.dict")
    assert len(test) == 6303
    assert all(tok[-1] in "012" or tok.isalpha() for t in test.targets for tok in t)
    assert not any("#" in tok for t in test.targets for tok in t)


def test_bad_pair_lines_can_be_left_out_and_are_recorded(write) -> None:
    path = write("p.tsv", "abc\tcba\nno tab here\nab\t \nba\tab\n")
    with pytest.raises(DataError, match=r"p\.tsv:2: one column.*--on-bad-lines skip"):
        read_pairs(path)
    corpus = read_pair_file(path, on_bad_lines="skip")
    assert corpus.sources == [list("abc"), list("ba")] and corpus.lines == [1, 4]
    assert corpus.skipped == [
        "line 2: one column; a pair is 'source<TAB>target'",
        "line 3: the target is empty",
    ]
