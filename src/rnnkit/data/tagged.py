"""Tagged corpora (one tag per token): the ``conllu`` and ``conll`` formats of ``rnnkit train``.

Both readers return a :class:`TaggedCorpus`: the sentences as lists of tokens, their tags,
and the line of each sentence's first token, so that every later message can point into
the file. Every problem is a :class:`~rnnkit.errors.DataError` naming the file and line.

- ``conllu`` (:func:`read_conllu`): Universal Dependencies files, ten tab-separated
  columns ``ID FORM LEMMA UPOS XPOS FEATS HEAD DEPREL DEPS MISC``. The tag is UPOS by
  default or XPOS (``tag_col``). Only word lines (integer ID) are read: multiword-token
  ranges such as ``3-4`` and empty nodes such as ``8.1`` are skipped.
- ``conll`` (:func:`read_conll`): ``token<TAB>tag`` lines, as in named-entity corpora
  such as WNUT-17; a blank line, or a line holding only whitespace, ends a sentence.

:func:`rnnkit.data.formats.read_tagged` picks the reader by ``format`` or file name.

>>> import tempfile, pathlib
>>> with tempfile.TemporaryDirectory() as d:
...     path = pathlib.Path(d) / "ner.conll"
...     _ = path.write_text("Paris\\tB-location\\nrocks\\tO\\n\\t\\nhi\\tO\\n")
...     corpus = read_conll(path)
>>> corpus.sentences, corpus.tags, corpus.lines
([['Paris', 'rocks'], ['hi']], [['B-location', 'O'], ['O']], [1, 4])
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from conllu.exceptions import ParseException
from conllu.parser import parse_id_value, parse_nullable_value

from rnnkit.data.bad_lines import BadLine, BadLines
from rnnkit.data.text_files import decode_bytes, read_bytes
from rnnkit.errors import ConfigError, DataError

__all__ = ["TaggedCorpus", "read_conll", "read_conllu"]

PathLike = str | os.PathLike[str]
#: CoNLL-U columns that hold a part-of-speech tag, by ``--tag-col`` name
_CONLLU_TAG_COLUMNS = {"upos": 3, "xpos": 4}
_CONLLU_N_COLUMNS = 10


@dataclass(frozen=True)
class TaggedCorpus:
    """Sentences of tokens and their tags, read from one file.

    A sentence with no tokens cannot exist by construction: the readers only start a
    sentence at a token line, so every ``sentences[i]`` holds at least one token.

    Attributes
    ----------
    sentences : list of list of str
        The tokens of each sentence, exactly as in the file.
    tags : list of list of str
        One tag per token (never empty), ``len(tags[i]) == len(sentences[i])``.
    path : str
        The file, as given; used in messages.
    lines : list of int
        1-based line of each sentence's first token.
    skipped : list of str
        The bad lines left out (``on_bad_lines`` warn or skip), ``"line N: problem"``.
    """

    sentences: list[list[str]]
    tags: list[list[str]]
    path: str
    lines: list[int]
    skipped: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.sentences)

    def __repr__(self) -> str:
        return f"TaggedCorpus(path={self.path!r}, sentences={len(self)}, tokens={self.n_tokens})"

    @property
    def n_tokens(self) -> int:
        """Number of tokens in all sentences."""
        return sum(len(sentence) for sentence in self.sentences)

    def where(self, sentence: int) -> str:
        """``"path:line"`` of a sentence's first token, for error messages."""
        return f"{self.path}:{self.lines[sentence]}"


def read_conllu(path: PathLike, *, tag_col: str = "upos", encoding: str = "utf-8") -> TaggedCorpus:
    """Read the words of a CoNLL-U file and their UPOS or XPOS tags.

    Parameters
    ----------
    path : str or path-like
    tag_col : {"upos", "xpos"}, default "upos"
        The column holding the tags (case does not matter).
    encoding : str, default "utf-8"
        Text encoding; a leading byte-order mark is dropped.

    Raises
    ------
    DataError
        Missing file, undecodable bytes, no sentences, a token line without exactly ten
        tab-separated columns, an ID that is not a word index, a multiword range or
        empty node (the grammar of the ``conllu`` package), word IDs not counting
        1, 2, 3, ... within a sentence, a sentence of comments only, an empty FORM, or
        a tag of ``_``.
    ConfigError
        An unknown encoding or ``tag_col``.

    Notes
    -----
    Columns are split on tabs only, as the CoNLL-U specification says (a FORM may hold
    spaces); ``conllu.parse`` also splits on runs of two spaces and keeps no line
    numbers, so only its field grammar is used here.
    """
    tag_name = str(tag_col).lower()
    if tag_name not in _CONLLU_TAG_COLUMNS:
        raise ConfigError(f"tag_col: expected 'upos' or 'xpos', got {tag_col!r}")
    source = str(path)
    text = decode_bytes(read_bytes(Path(path), source, "tagged corpus file"), encoding, source)
    corpus = _Builder(source)
    for block in _blocks(text):
        words: list[tuple[int, str, str]] = []  # (line, form, tag)
        for line, fields in block:
            if fields[0].startswith("#"):
                continue
            word = _conllu_word(fields, tag_name, len(words) + 1, f"{source}:{line}")
            if word is not None:
                words.append((line, *word))
        if not words:
            raise DataError(f"{source}:{block[0][0]}: a sentence with no word lines")
        corpus.add(words)
    return corpus.build()


def read_conll(
    path: PathLike, *, encoding: str = "utf-8", on_bad_lines: str | None = "error"
) -> TaggedCorpus:
    """Read ``token<TAB>tag`` lines; a blank or whitespace-only line ends a sentence.

    Parameters
    ----------
    path : str or path-like
    encoding : str, default "utf-8"
        Text encoding; a leading byte-order mark is dropped.
    on_bad_lines : {"error", "warn", "skip"}, default "error"
        A bad token line (below) stops the reader, or is left out of its sentence and
        recorded in ``skipped`` (:mod:`rnnkit.data.bad_lines`).

    Raises
    ------
    DataError
        Missing file, undecodable bytes, no sentences, and by default a bad token line:
        one without exactly two tab-separated fields, or with an empty token or tag
        (each naming the file and line).
    ConfigError
        An unknown encoding or `on_bad_lines`.

    Examples
    --------
    WNUT-17's training file ends some sentences with a line holding a single tab:

    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as d:
    ...     path = pathlib.Path(d) / "train.conll"
    ...     _ = path.write_text("@paul\\tO\\n\\t\\nNew\\tB-location\\nYork\\tI-location\\n")
    ...     read_conll(path).tags
    [['O'], ['B-location', 'I-location']]
    """
    source = str(path)
    text = decode_bytes(read_bytes(Path(path), source, "tagged corpus file"), encoding, source)
    corpus = _Builder(source)
    bad = BadLines(on_bad_lines, source)
    for block in _blocks(text):
        words = []
        for line, fields in block:
            try:
                words.append((line, *_conll_token(fields)))
            except BadLine as problem:
                bad.add(line, str(problem))
        if words:  # a sentence of bad lines only is left out whole
            corpus.add(words)
    return corpus.build(bad.skipped)


class _Builder:
    """Collects the sentences of one file into a :class:`TaggedCorpus`."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.sentences: list[list[str]] = []
        self.tags: list[list[str]] = []
        self.lines: list[int] = []

    def add(self, words: list[tuple[int, str, str]]) -> None:
        """Add one sentence given as (line, token, tag) triples (at least one)."""
        self.lines.append(words[0][0])
        self.sentences.append([token for _, token, _ in words])
        self.tags.append([tag for _, _, tag in words])

    def build(self, skipped: list[str] | None = None) -> TaggedCorpus:
        if not self.sentences:
            raise DataError(f"{self.source}: empty file (no sentences)")
        return TaggedCorpus(self.sentences, self.tags, self.source, self.lines, skipped or [])


def _blocks(text: str) -> Iterator[list[tuple[int, list[str]]]]:
    """Yield each run of non-blank lines as (1-based line, tab-separated fields) pairs.

    A line holding only whitespace (WNUT-17 train has lines of a single tab) is blank.
    """
    block: list[tuple[int, list[str]]] = []
    # NOTE: split on "\n" only: str.splitlines would also break at \x1c, \u2028, ...,
    # characters a token may hold.
    for number, line in enumerate(text.split("\n"), start=1):
        if line.strip():
            block.append((number, line.removesuffix("\r").split("\t")))
        elif block:
            yield block
            block = []
    if block:
        yield block


def _conllu_word(
    fields: list[str], tag_name: str, expected: int, where: str
) -> tuple[str, str] | None:
    """(form, tag) of a CoNLL-U word line; None for a multiword range or empty node.

    ``expected`` is the word ID this line must have (1 + the words read before it).
    """
    if len(fields) != _CONLLU_N_COLUMNS:
        raise DataError(
            f"{where}: expected {_CONLLU_N_COLUMNS} tab-separated columns, found {len(fields)}"
        )
    try:
        word_id = parse_id_value(fields[0])
    except (ParseException, ValueError):  # ValueError: an ID over int()'s 4300 digits
        # NOTE: not the package's message, which quotes the ID as it is (a "\r" in it
        # would break the line).
        raise DataError(
            f"{where}: malformed CoNLL-U: {_shown(fields[0])} is not a valid ID"
        ) from None
    if isinstance(word_id, tuple):  # (3, "-", 4) a multiword range, (8, ".", 1) an empty node
        return None
    if word_id != expected:
        hint = " (is the blank line before it missing?)" if word_id == 1 else ""
        raise DataError(f"{where}: word ID {fields[0]!r} where {expected} was expected{hint}")
    if not fields[1]:
        raise DataError(f"{where}: empty FORM")
    raw = fields[_CONLLU_TAG_COLUMNS[tag_name]]
    tag = parse_nullable_value(raw.strip())
    if tag is None:
        raise DataError(f"{where}: word {fields[1]!r} has no {tag_name.upper()} tag ({raw!r})")
    return fields[1], tag


def _shown(field: str, limit: int = 40) -> str:
    """`field` quoted for a message, cut short when long."""
    return repr(field) if len(field) <= limit else f"{field[:limit]!r}..."


def _conll_token(fields: list[str]) -> tuple[str, str]:
    """(token, tag) of a ``token<TAB>tag`` line; BadLine says what is wrong with it."""
    if len(fields) == 1:
        raise BadLine("token line without a tag (expected token<TAB>tag)")
    if len(fields) != 2:
        hint = "; a CoNLL-U file? use --format conllu" if len(fields) == _CONLLU_N_COLUMNS else ""
        raise BadLine(f"expected token<TAB>tag, found {len(fields)} fields{hint}")
    token, tag = fields[0], fields[1].strip()
    if not token:
        raise BadLine("empty token before the tab")
    if not tag:
        raise BadLine(f"token {token!r} has an empty tag")
    return token, tag
