"""read_conllu, read_conll, read_tagged: both formats, every error message, the real files."""

from __future__ import annotations

import string
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import conllu
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rnnkit.data.formats import read_tagged
from rnnkit.data.tagged import TaggedCorpus, read_conll, read_conllu
from rnnkit.data.text_files import TEXT_CONTROLS
from rnnkit.errors import ConfigError, DataError

Write = Callable[[str, "bytes | str"], Path]
DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
EWT_DIR, WNUT_DIR = DATA / "ud_english_ewt", DATA / "wnut17"
# Counts from the datasets' READMEs (sentences, words or tokens).
EWT_COUNTS = {"train": (12544, 204577), "dev": (2001, 25147), "test": (2077, 25094)}
WNUT_FILES = {
    "train": "wnut17train.conll",
    "dev": "emerging.dev.conll",
    "test": "emerging.test.annotated",
}
WNUT_COUNTS = {"train": (3394, 62730), "dev": (1009, 15733), "test": (1287, 23394)}
WNUT_B_TAGS = {  # per type: train, dev, test
    "person": (660, 470, 429),
    "location": (548, 74, 150),
    "group": (264, 39, 165),
    "corporation": (221, 34, 66),
    "product": (142, 114, 127),
    "creative-work": (140, 105, 142),
}
# Each example writes a file: a few dozen examples keep these tests well under a second.
file_settings = settings(
    suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=40, deadline=None
)

#: the control characters of binary files (NUL, ...): a file of them is refused as binary
NOT_TEXT = "".join(c for c in map(chr, range(32)) if c not in TEXT_CONTROLS) + "\x7f"


def word(i: int, form: str, upos: str, xpos: str = "NN") -> str:
    """A CoNLL-U word line with ten columns."""
    return f"{i}\t{form}\t{form.lower()}\t{upos}\t{xpos}\t_\t0\troot\t0:root\t_\n"


SAMPLE = (
    "# sent_id = 1\n"
    "# text = Don't go\n"
    "1-2\tDon't\t_\t_\t_\t_\t_\t_\t_\t_\n"
    + word(1, "Do", "AUX", "VBP")
    + word(2, "n't", "PART", "RB")
    + word(3, "go", "VERB", "VB")
    + "3.1\tgone\tgo\tVERB\tVBN\t_\t_\t_\t2:conj\t_\n"
    + "\n"
    + "# sent_id = 2\n"
    + word(1, "Hi", "INTJ", "UH")
    + "\n"
)


# -- CoNLL-U ----------------------------------------------------------------------------


def test_conllu_reads_words_and_skips_ranges_and_empty_nodes(write: Write) -> None:
    path = write("s.conllu", SAMPLE)
    corpus = read_conllu(path)
    assert corpus.sentences == [["Do", "n't", "go"], ["Hi"]]
    assert corpus.tags == [["AUX", "PART", "VERB"], ["INTJ"]]
    assert corpus.lines == [4, 10]  # the line of each sentence's first word
    assert corpus.path == str(path)
    assert read_conllu(path, tag_col="xpos").tags == [["VBP", "RB", "VB"], ["UH"]]
    assert read_conllu(path, tag_col="XPOS").tags == [["VBP", "RB", "VB"], ["UH"]]


def test_conllu_crlf_bom_blank_runs_and_no_final_newline(write: Write) -> None:
    text = "\n\n" + word(1, "a", "X") + " \n\t\n\n" + word(1, "b", "Y") + word(2, "c", "Z")
    path = write("s.conllu", "\ufeff" + text.rstrip("\n").replace("\n", "\r\n"))
    corpus = read_conllu(path)
    assert corpus.sentences == [["a"], ["b", "c"]]
    assert corpus.tags == [["X"], ["Y", "Z"]]
    assert corpus.lines == [3, 7]


def test_conllu_columns_split_on_tabs_only(write: Write) -> None:
    # The specification allows spaces in FORM; conllu.parse would also split at "  ".
    path = write("s.conllu", word(1, "New  York", "PROPN") + word(2, "5 000", "NUM"))
    corpus = read_conllu(path)
    assert corpus.sentences == [["New  York", "5 000"]]
    assert corpus.tags == [["PROPN", "NUM"]]


@pytest.mark.parametrize(
    ("text", "tag_col", "message"),
    [
        (
            word(1, "a", "X") + "2\tb\tb\tY\n",
            "upos",
            r":2: expected 10 tab-separated columns, found 4",
        ),
        (
            word(1, "a", "X") + word(2, "b", "Y")[:-1] + "\textra\n",
            "upos",
            r":2: expected 10 .* 11",
        ),
        ("x" + word(1, "a", "X")[1:], "upos", r":1: malformed CoNLL-U: 'x' is not a valid ID"),
        ("3-2" + word(1, "a", "X")[1:], "upos", r":1: malformed CoNLL-U: '3-2' is not a valid ID"),
        ("_" + word(1, "a", "X")[1:], "upos", r":1: word ID '_' where 1 was expected$"),
        (word(1, "", "X"), "upos", r":1: empty FORM$"),
        (word(1, "a", "X") + word(3, "b", "Y"), "upos", r":2: word ID '3' where 2 was expected$"),
        (word(1, "a", "X") + word(1, "b", "Y"), "upos", r":2: .* 2 was expected \(is the blank"),
        (word(1, "a", "X") + word(2, "b", "_"), "upos", r":2: word 'b' has no UPOS tag \('_'\)"),
        (word(1, "a", "X", "_"), "xpos", r":1: word 'a' has no XPOS tag \('_'\)"),
        (word(1, "a", "X") + "\n# a comment\n# another\n", "upos", r":3: a sentence with no word"),
        ("1-2\tab\t_\t_\t_\t_\t_\t_\t_\t_\n", "upos", r":1: a sentence with no word lines"),
        ("", "upos", r"s\.conllu: empty file \(no sentences\)$"),
        ("\n \n\t\n", "upos", r"s\.conllu: empty file \(no sentences\)$"),
    ],
)
def test_conllu_errors_name_file_and_line(
    write: Write, text: str, tag_col: str, message: str
) -> None:
    path = write("s.conllu", text)
    with pytest.raises(DataError, match=message) as info:
        read_conllu(path, tag_col=tag_col)
    assert str(info.value).startswith(str(path))
    assert "\n" not in str(info.value)


def test_conllu_unknown_tag_col(write: Write) -> None:
    with pytest.raises(ConfigError, match=r"tag_col: expected 'upos' or 'xpos', got 'deprel'"):
        read_conllu(write("s.conllu", SAMPLE), tag_col="deprel")


@st.composite
def conllu_files(draw: st.DrawFn) -> tuple[str, list[list[str]], list[list[str]], list[int]]:
    """A CoNLL-U text with comments, ranges and empty nodes, and what a reader must find."""
    forms = st.text(
        st.characters(exclude_characters="\t\n\r" + NOT_TEXT, exclude_categories=["Cs"]), min_size=1
    )
    n_sentences = draw(st.integers(1, 4))
    lines: list[str] = []
    sentences, tags, starts = [], [], []
    for _ in range(n_sentences):
        lines += ["# sent_id = s"] * draw(st.integers(0, 2))
        n_words = draw(st.integers(1, 5))
        words = [draw(forms) for _ in range(n_words)]
        upos = [draw(st.sampled_from(["NOUN", "VERB", "ADP", "PUNCT"])) for _ in range(n_words)]
        for i, (form, tag) in enumerate(zip(words, upos, strict=True), start=1):
            if i < n_words and draw(st.booleans()):
                lines.append(f"{i}-{i + 1}\t{form}x\t_\t_\t_\t_\t_\t_\t_\t_")
            lines.append(word(i, form, tag).rstrip("\n"))
            if i == 1:
                starts.append(len(lines))
            if draw(st.booleans()):
                lines.append(f"{i}.1\tghost\t_\tX\t_\t_\t_\t_\t{i}:dep\t_")
        lines += [draw(st.sampled_from(["", " ", "\t"]))] * draw(st.integers(1, 2))
        sentences.append(words)
        tags.append(upos)
    return "\n".join(lines), sentences, tags, starts


@file_settings
@given(sample=conllu_files())
def test_conllu_round_trip(write: Write, sample: tuple) -> None:
    text, sentences, tags, starts = sample
    corpus = read_conllu(write("g.conllu", text))
    assert (corpus.sentences, corpus.tags, corpus.lines) == (sentences, tags, starts)


# -- token<TAB>tag ----------------------------------------------------------------------


def test_conll_blank_tab_and_whitespace_lines_end_sentences(write: Write) -> None:
    text = "\nNew\tB-location\nYork\tI-location \n\t\n@x\tO\n   \n\n ok \tO\r\nfine\tO"
    corpus = read_conll(write("n.conll", text))
    assert corpus.sentences == [["New", "York"], ["@x"], [" ok ", "fine"]]
    assert corpus.tags == [["B-location", "I-location"], ["O"], ["O", "O"]]
    assert corpus.lines == [2, 5, 8]


#: what the message of a bad line ends with: the flag that leaves it out
SKIP_HINT = r" \(--on-bad-lines skip leaves such lines out\)$"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a\tO\nb\n", r":2: token line without a tag \(expected token<TAB>tag\)" + SKIP_HINT),
        ("a\tO\nb c O\n", r":2: token line without a tag"),
        ("a\tO\nb\t \n", r":2: token 'b' has an empty tag" + SKIP_HINT),
        ("\tO\n", r":1: empty token before the tab" + SKIP_HINT),
        ("a\tNN\tO\n", r":1: expected token<TAB>tag, found 3 fields" + SKIP_HINT),
        (word(1, "a", "X"), r":1: expected token<TAB>tag, found 10 fields; a CoNLL-U file\?"),
        ("", r"n\.conll: empty file \(no sentences\)$"),
        ("\t\n\n", r"n\.conll: empty file \(no sentences\)$"),
    ],
)
def test_conll_errors_name_file_and_line(write: Write, text: str, message: str) -> None:
    path = write("n.conll", text)
    with pytest.raises(DataError, match=message) as info:
        read_conll(path)
    assert str(info.value).startswith(str(path))


@st.composite
def conll_files(draw: st.DrawFn) -> tuple[str, list[list[str]], list[list[str]], list[int]]:
    """A token<TAB>tag text with mixed sentence boundaries, and what a reader must find."""
    # Tokens may hold \x0b, \x85, \u2028 ...: str.splitlines would break lines there.
    tokens = st.text(
        st.characters(exclude_characters="\t\n\r" + NOT_TEXT, exclude_categories=["Cs"]), min_size=1
    )
    tag_names = st.text(string.ascii_letters + "-", min_size=1)
    boundary = st.sampled_from(["", "\t", " ", " \t  "])
    lines = [draw(boundary) for _ in range(draw(st.integers(0, 2)))]
    sentences, tags, starts = [], [], []
    for _ in range(draw(st.integers(1, 4))):
        words = draw(st.lists(tokens, min_size=1, max_size=5))
        labels = [draw(tag_names) for _ in words]
        starts.append(len(lines) + 1)
        lines += [f"{w}\t{t}" for w, t in zip(words, labels, strict=True)]
        lines += [draw(boundary) for _ in range(draw(st.integers(1, 2)))]
        sentences.append(words)
        tags.append(labels)
    if draw(st.booleans()):
        lines.pop()  # the last sentence without a closing blank line
    return "\n".join(lines), sentences, tags, starts


@file_settings
@given(sample=conll_files())
def test_conll_round_trip(write: Write, sample: tuple) -> None:
    text, sentences, tags, starts = sample
    corpus = read_conll(write("g.conll", text))
    assert (corpus.sentences, corpus.tags, corpus.lines) == (sentences, tags, starts)


# -- both formats -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "format", "expected"),
    [
        ("a.conllu", None, "conllu"),
        ("a.CoNLLU", None, "conllu"),
        ("a.conll", None, "conll"),
        ("a.txt", None, "conll"),
        ("a.tsv", None, "conll"),
        ("emerging.test.annotated", None, "conll"),
        ("noext", None, "conll"),
        ("a.txt", "conllu", "conllu"),
        ("a.conllu", "conll", "conll"),
    ],
)
def test_read_tagged_infers_or_takes_the_format(
    write: Write, name: str, format: str | None, expected: str
) -> None:
    contents = {"conllu": word(1, "Hi", "INTJ"), "conll": "Hi\tO\n"}
    corpus = read_tagged(write(name, contents[expected]), format=format)
    assert corpus.tags == [["INTJ" if expected == "conllu" else "O"]]
    wrong = "conll" if expected == "conllu" else "conllu"
    refusal = {
        "conllu": ":1: expected 10 tab-separated columns, found 2$",
        "conll": ":1: expected token<TAB>tag, found 10 fields; a CoNLL-U file?",
    }
    with pytest.raises(DataError, match=refusal[expected]):  # the reader refuses the other
        read_tagged(write(name, contents[wrong]), format=format)


def test_read_tagged_option_errors(write: Write) -> None:
    with pytest.raises(ConfigError, match=r"format: expected one of conllu, conll, got 'csv'"):
        read_tagged(write("a.conll", "a\tO\n"), format="csv")
    with pytest.raises(ConfigError, match=r"tag_col: 'xpos' applies to CoNLL-U files only"):
        read_tagged(write("a.conll", "a\tO\n"), tag_col="xpos")
    assert read_tagged(write("a.conll", "a\tO\n"), tag_col="upos").tags == [["O"]]
    with pytest.raises(ConfigError, match=r"encoding: unknown text encoding 'klingon'"):
        read_tagged(write("a.conll", "a\tO\n"), encoding="klingon")


@pytest.mark.parametrize(
    ("name", "first", "third"),
    [
        ("a.conllu", word(1, "ok", "X") + "\n", word(1, "caf\xe9", "NOUN")),
        ("a.conll", "ok\tO\n\n", "caf\xe9\tO\n"),
    ],
)
def test_missing_file_directory_and_bad_bytes(
    write: Write, tmp_path: Path, name: str, first: str, third: str
) -> None:
    with pytest.raises(DataError, match=r"nope\.\w+: no such file$"):
        read_tagged(tmp_path / f"nope{Path(name).suffix}")
    (tmp_path / f"dir{Path(name).suffix}").mkdir()
    with pytest.raises(DataError, match=r"dir\.\w+: is a directory"):
        read_tagged(tmp_path / f"dir{Path(name).suffix}")
    path = write(name, first.encode() + third.encode("latin-1"))  # \xe9 alone is not UTF-8
    with pytest.raises(DataError, match=r":3: cannot decode bytes .* try --encoding latin-1$"):
        read_tagged(path)
    assert read_tagged(path, encoding="latin-1").sentences[1] == ["caf\xe9"]


def test_corpus_helpers(write: Write) -> None:
    corpus = read_conllu(write("s.conllu", SAMPLE))
    assert len(corpus) == 2 and corpus.n_tokens == 4
    assert corpus.where(1) == f"{corpus.path}:10"
    assert repr(corpus) == f"TaggedCorpus(path={corpus.path!r}, sentences=2, tokens=4)"
    with pytest.raises(AttributeError, match="cannot assign to field 'path'"):
        corpus.path = "other"  # type: ignore[misc]


# -- the real files ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def ewt() -> dict[str, TaggedCorpus]:
    """The three EWT splits, read once for the module (train is 14 MB)."""
    paths = {split: EWT_DIR / f"en_ewt-ud-{split}.conllu" for split in EWT_COUNTS}
    missing = [p.name for p in paths.values() if not p.is_file()]
    if missing:
        pytest.skip(f"UD English-EWT not found in {EWT_DIR} (missing {', '.join(missing)})")
    return {split: read_tagged(path) for split, path in paths.items()}


@pytest.fixture(scope="module")
def wnut() -> dict[str, TaggedCorpus]:
    paths = {split: WNUT_DIR / name for split, name in WNUT_FILES.items()}
    missing = [p.name for p in paths.values() if not p.is_file()]
    if missing:
        pytest.skip(f"WNUT-17 not found in {WNUT_DIR} (missing {', '.join(missing)})")
    return {split: read_tagged(path) for split, path in paths.items()}


@pytest.mark.parametrize("split", sorted(EWT_COUNTS))
def test_ewt_counts_match_the_readme(ewt: dict[str, TaggedCorpus], split: str) -> None:
    corpus = ewt[split]
    assert (len(corpus), corpus.n_tokens) == EWT_COUNTS[split]
    assert all(len(s) == len(t) for s, t in zip(corpus.sentences, corpus.tags, strict=True))
    assert len({tag for tags in corpus.tags for tag in tags}) == 17  # every UPOS tag occurs
    text_lines = Path(corpus.path).read_text(encoding="utf-8").split("\n")
    for i in (0, len(corpus) // 2, len(corpus) - 1):
        assert text_lines[corpus.lines[i] - 1].startswith(f"1\t{corpus.sentences[i][0]}\t")


def test_ewt_dev_equals_the_conllu_package(ewt: dict[str, TaggedCorpus]) -> None:
    text = Path(ewt["dev"].path).read_text(encoding="utf-8")
    words = [[t for t in s if isinstance(t["id"], int)] for s in conllu.parse(text)]
    assert ewt["dev"].sentences == [[t["form"] for t in s] for s in words]
    assert ewt["dev"].tags == [[t["upos"] for t in s] for s in words]
    xpos = read_tagged(ewt["dev"].path, tag_col="xpos")
    assert xpos.sentences == ewt["dev"].sentences
    assert xpos.tags == [[t["xpos"] for t in s] for s in words]


@pytest.mark.parametrize("split", sorted(WNUT_COUNTS))
def test_wnut17_counts_match_the_readme(wnut: dict[str, TaggedCorpus], split: str) -> None:
    corpus = wnut[split]
    assert (len(corpus), corpus.n_tokens) == WNUT_COUNTS[split]
    tags = Counter(tag for seq in corpus.tags for tag in seq)
    assert len(tags) == 13
    column = ["train", "dev", "test"].index(split)
    assert {t: tags[f"B-{t}"] for t in WNUT_B_TAGS} == {
        t: counts[column] for t, counts in WNUT_B_TAGS.items()
    }


def test_conll_bad_lines_can_be_left_out_and_are_recorded(write: Write) -> None:
    # a tweet corpus: a token that was whitespace left a lone space, then "<TAB>O"
    path = write("tweets.conll", "Hi\tO\n \n\tO\nthere\tO\n\na\tO\nb\n")
    with pytest.raises(DataError, match=r"tweets\.conll:3: empty token before the tab" + SKIP_HINT):
        read_conll(path)
    for policy in ("warn", "skip"):
        corpus = read_conll(path, on_bad_lines=policy)
        assert corpus.sentences == [["Hi"], ["there"], ["a"]]
        assert corpus.lines == [1, 4, 6]
        assert corpus.skipped == [
            "line 3: empty token before the tab",
            "line 7: token line without a tag (expected token<TAB>tag)",
        ]
    assert read_tagged(path, on_bad_lines="skip").skipped == corpus.skipped
    assert read_conll(write("ok.conll", "a\tO\n")).skipped == []
    with pytest.raises(ConfigError, match="on_bad_lines='drop'"):
        read_conll(path, on_bad_lines="drop")
    with pytest.raises(ConfigError, match="on_bad_lines applies to token<TAB>tag files"):
        read_tagged(write("u.conllu", word(1, "a", "X")), on_bad_lines="skip")
