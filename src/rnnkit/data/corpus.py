"""Plain text for language models: one long stream of token ids.

A language model reads a text as one sequence, however long, so its corpus is not a
list of examples but a single (N,) array of ids. :func:`read_corpus` builds it in two
streaming passes over the file, one that counts the tokens (the vocabulary) and one
that encodes them into an array allocated once at its final size, so a large file
never sits in memory as text or as a list of tokens: what stays is its ids, in the
smallest unsigned integer type that holds the vocabulary (one byte per character of
an English text).

Two levels of token:

- ``"char"``: every character is a token, newlines included. The vocabulary is the
  set of characters of the training text, in code-point order, with no specials, so
  a character the model never saw cannot be encoded: a :class:`DataError` naming it,
  or, with ``unknown="skip"`` (how a model reads text to score it), left out of the
  stream and counted in :attr:`TextCorpus.unknown`.
- ``"word"``: words are the whitespace-separated pieces of a line and every line ends
  with ``<eos>``; the vocabulary has the usual specials, the words by frequency, and
  rarer words (``min_freq``, ``max_vocab``) become ``<unk>``, counted in
  :attr:`TextCorpus.unknown` when a given vocabulary reads the text.

>>> corpus = corpus_from_text("namaste", "char")
>>> corpus.vocab.tokens
['a', 'e', 'm', 'n', 's', 't']
>>> corpus.ids.tolist(), corpus.decode(corpus.ids[:4])
([3, 0, 2, 0, 4, 5, 1], 'nama')
"""

from __future__ import annotations

import io
import os
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rnnkit.data.text_files import bad_line_of_file, check_encoding, check_file_not_binary
from rnnkit.errors import ConfigError, DataError
from rnnkit.text.vocab import DEFAULT_SPECIALS, EOS, Vocabulary

__all__ = [
    "LEVELS",
    "TextCorpus",
    "check_level",
    "corpus_from_text",
    "encode_tokens",
    "read_corpus",
    "tokenize",
]

Array = np.ndarray
LEVELS = ("char", "word")
#: what to do with a token a given vocabulary cannot encode: stop, or leave it out
UNKNOWN = ("error", "skip")
#: characters read from a file at a time by the char-level passes
CHUNK_CHARS = 1 << 20


@dataclass
class TextCorpus:
    """A text as token ids: ``ids`` (N,), its ``vocab``, the ``level`` and where it came from.

    ``unknown`` counts the tokens of the text a given vocabulary lacked: characters left
    out of ``ids``, or words read as ``<unk>``.
    """

    ids: Array
    vocab: Vocabulary
    level: str
    path: str = "<text>"
    unknown: int = 0

    def __len__(self) -> int:
        return len(self.ids)

    def decode(self, ids: Iterable[int] | Array) -> str:
        """Ids back to text: characters joined, or words with ``<eos>`` as a line break."""
        return join_tokens(self.vocab.decode(ids, strip_specials=False), self.level)

    def split(self, valid_fraction: float) -> tuple[TextCorpus, TextCorpus]:
        """(first part, last `valid_fraction` of the tokens): the usual held-out tail."""
        if not 0.0 < valid_fraction < 1.0:
            raise ConfigError(f"valid_fraction={valid_fraction}: must lie in (0, 1)")
        n_valid = round(valid_fraction * len(self.ids))
        if n_valid < 2 or len(self.ids) - n_valid < 2:
            raise DataError(
                f"{self.path}: {len(self.ids)} tokens are too few to hold out "
                f"{valid_fraction:.0%} for validation"
            )
        cut = len(self.ids) - n_valid
        head = TextCorpus(self.ids[:cut], self.vocab, self.level, self.path)
        tail = TextCorpus(self.ids[cut:], self.vocab, self.level, f"{self.path} (last {n_valid:,})")
        return head, tail


def check_level(level: str) -> str:
    if level not in LEVELS:
        raise ConfigError(f"level={level!r}: use 'char' or 'word'")
    return level


def tokenize(text: str, level: str) -> list[str]:
    """The tokens of `text` at `level` (words: whitespace-split, ``<eos>`` after each line)."""
    check_level(level)
    if level == "char":
        return list(text)
    return [tok for line in io.StringIO(text) for tok in _line_words(line)]


def join_tokens(tokens: Iterable[str], level: str) -> str:
    """Tokens back to text; at word level ``<eos>`` is a line break."""
    if level == "char":
        return "".join(tokens)
    out: list[str] = []
    line: list[str] = []
    for tok in tokens:
        if tok == EOS:
            out.append(" ".join(line) + "\n")
            line = []
        else:
            line.append(tok)
    return "".join(out) + " ".join(line)


def read_corpus(
    path: str | os.PathLike[str],
    level: str,
    *,
    vocab: Vocabulary | None = None,
    min_freq: int = 1,
    max_vocab: int | None = None,
    encoding: str = "utf-8",
    unknown: str = "error",
) -> TextCorpus:
    """Read a text file as a :class:`TextCorpus`, streaming.

    With `vocab` (a trained model's) the file is encoded with it; otherwise the
    vocabulary is built from the file first. A token `vocab` cannot encode (a
    character, or a word when it has no ``<unk>``) is a DataError naming its line, or
    with ``unknown="skip"`` left out and counted. Raises DataError for a missing or
    unreadable file, an empty one, one that looks binary, or one that is not text in
    `encoding` (naming the line); ConfigError for an unknown encoding or level, or a bad `min_freq`,
    `max_vocab` or `unknown`.
    """
    check_level(level)
    check_encoding(encoding)
    _check_vocab_args(vocab, level, min_freq, max_vocab)
    _check_unknown(unknown)
    where = str(path)
    path = Path(path)
    if path.is_dir():
        raise DataError(f"{where}: is a directory, not a text file")
    check_file_not_binary(path, where, encoding)

    def pieces() -> Iterator[str]:
        try:
            with open(path, encoding=encoding) as f:
                yield from _file_pieces(f, level)
        except FileNotFoundError:
            raise DataError(f"{where}: no such file") from None
        except UnicodeError:  # UnicodeDecodeError, or a codec's bare UnicodeError
            raise DataError(
                f"{where}:{bad_line_of_file(path, encoding)}: cannot decode bytes with encoding "
                f"{encoding!r}; try --encoding latin-1"
            ) from None
        except OSError as exc:
            raise DataError(f"{where}: cannot read: {exc.strerror or exc}") from None
        except ValueError as exc:  # a path holding a NUL
            raise DataError(f"{where}: cannot read: {exc}") from None

    return _build(pieces, level, where, vocab, min_freq, max_vocab, unknown)


def corpus_from_text(
    text: str,
    level: str,
    *,
    vocab: Vocabulary | None = None,
    min_freq: int = 1,
    max_vocab: int | None = None,
    unknown: str = "error",
) -> TextCorpus:
    """:func:`read_corpus` for a text held in a string."""
    check_level(level)
    if not isinstance(text, str):
        raise DataError(f"the text must be a str, got {type(text).__name__}")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:  # a lone surrogate: no vocabulary can hold it
        line = text.count("\n", 0, exc.start) + 1
        bad = text[exc.start]
        raise DataError(f"<text>:{line}: character {bad!r} is a lone surrogate, not text") from None
    _check_vocab_args(vocab, level, min_freq, max_vocab)
    _check_unknown(unknown)

    def pieces() -> Iterator[str]:
        yield from _file_pieces(io.StringIO(text), level)

    return _build(pieces, level, "<text>", vocab, min_freq, max_vocab, unknown)


def encode_tokens(tokens: list[str], vocab: Vocabulary, level: str, what: str) -> Array:
    """Ids of `tokens`; a character the char vocabulary lacks is a DataError naming it."""
    if level == "char":
        missing = sorted({t for t in tokens if t not in vocab})
        if missing:
            shown = ", ".join(repr(c) for c in missing[:5])
            raise DataError(f"{what}: {shown} not in the model's characters")
    return np.array([vocab[t] for t in tokens], dtype=np.int64)


# -- the two passes -------------------------------------------------------------------
def _build(pieces, level, where, vocab, min_freq, max_vocab, unknown) -> TextCorpus:
    counts: Counter[str] = Counter()
    n = 0
    for piece in pieces():  # pass 1: count
        if level == "char":
            n += len(piece)
            if vocab is None:
                counts.update(_char_counts(piece))
        else:
            words = _line_words(piece)
            n += len(words)
            if vocab is None:
                counts.update(words)
    if n == 0:
        raise DataError(f"{where}: the text is empty")
    if vocab is None:
        vocab = _vocabulary(counts, level, min_freq, max_vocab)
    ids = np.empty(n, dtype=_id_dtype(len(vocab)))
    i = n_unknown = 0
    if level == "char":
        table = _char_table(vocab)
    line = 0
    skip = unknown == "skip"
    for piece in pieces():  # pass 2: encode into the final array
        if level == "char":
            encoded, missing = _encode_chars(piece, table, where, line, skip)
            line += piece.count("\n")
        else:
            line += 1
            word_ids, missing = _encode_words(_line_words(piece), vocab, where, line, skip)
            encoded = np.asarray(word_ids, dtype=np.int64)
        ids[i : i + len(encoded)] = encoded
        i += len(encoded)
        n_unknown += missing
    if i == 0:
        raise DataError(f"{where}: no token of the text is in the model's vocabulary")
    # NOTE: a skipped token leaves the array's tail unused: keep the ids read
    return TextCorpus(ids[:i] if i < n else ids, vocab, level, where, n_unknown)


def _check_vocab_args(vocab: Any, level: str, min_freq: Any, max_vocab: Any) -> None:
    """ConfigError for a `vocab` that is not a Vocabulary, or word-level limits out of range."""
    if vocab is not None:
        if not isinstance(vocab, Vocabulary):
            raise ConfigError(f"vocab: expected a Vocabulary, got {type(vocab).__name__}")
        return
    if level == "char":
        return  # every character is kept: min_freq and max_vocab are word-level settings
    if isinstance(min_freq, bool) or not isinstance(min_freq, int) or min_freq < 1:
        raise ConfigError(f"min_freq={min_freq!r}: must be an integer, at least 1")
    bad_max = isinstance(max_vocab, bool) or not isinstance(max_vocab, int) or max_vocab < 0
    if max_vocab is not None and bad_max:
        raise ConfigError(f"max_vocab={max_vocab!r}: must be None or an integer, at least 0")


def _check_unknown(unknown: str) -> None:
    if unknown not in UNKNOWN:
        raise ConfigError(f"unknown={unknown!r}: use 'error' or 'skip'")


def _vocabulary(counts: Counter[str], level: str, min_freq: int, max_vocab: int | None):
    if level == "char":  # every character, in code-point order, no specials
        return Vocabulary(sorted(counts), specials=())
    for special in DEFAULT_SPECIALS:  # <eos> ends each line; a text may say "<unk>" too
        counts.pop(special, None)
    ranked = sorted(counts.items(), key=lambda item: -item[1])  # stable: ties by first seen
    kept = [w for w, c in ranked if c >= min_freq]
    return Vocabulary(kept[:max_vocab])


def _id_dtype(n_vocab: int) -> np.dtype:
    for dtype in (np.uint8, np.uint16, np.uint32):
        if n_vocab <= np.iinfo(dtype).max + 1:
            return np.dtype(dtype)
    raise DataError(f"a vocabulary of {n_vocab:,} tokens is too large")  # pragma: no cover


def _file_pieces(f, level: str) -> Iterator[str]:
    if level == "char":
        while piece := f.read(CHUNK_CHARS):
            yield piece
    else:
        yield from f


def _line_words(line: str) -> list[str]:
    """The words of one line, then ``<eos>`` if the line is a whole line (ends in a newline)."""
    words = line.split()
    if line.endswith(("\n", "\r")):
        words.append(EOS)
    return words


def _codepoints(text: str) -> Array:
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def _char_counts(piece: str) -> dict[str, int]:
    points, counts = np.unique(_codepoints(piece), return_counts=True)
    return {chr(p): int(c) for p, c in zip(points.tolist(), counts.tolist(), strict=True)}


def _char_table(vocab: Vocabulary) -> tuple[Array, Array]:
    """Sorted code points of the vocabulary and their ids, for a vectorised lookup.

    Tokens of more than one character (the specials of a word vocabulary) are left
    out: no character of a text can be one.
    """
    chars = [(ord(t), i) for i, t in enumerate(vocab.tokens) if len(t) == 1]
    points = np.array([p for p, _ in chars], dtype=np.uint32)
    ids = np.array([i for _, i in chars], dtype=np.int64)
    order = np.argsort(points)
    return points[order], ids[order]


def _encode_words(
    words: list[str], vocab: Vocabulary, where: str, line: int, skip: bool
) -> tuple[list[int], int]:
    """The ids of one line's words and how many of them `vocab` lacks (read as ``<unk>``,
    or, without it, left out with `skip` and a DataError otherwise)."""
    missing = [w for w in words if w not in vocab]
    if missing and vocab.unk_id is None:  # without <unk>, an unknown word cannot be encoded
        if not skip:
            raise DataError(f"{where}:{line}: word {missing[0]!r} is not in the model's vocabulary")
        words = [w for w in words if w in vocab]
    return [vocab[w] for w in words], len(missing)


def _encode_chars(
    piece: str, table: tuple[Array, Array], where: str, line0: int, skip: bool
) -> tuple[Array, int]:
    """The ids of a piece of text and how many of its characters the table lacks (left
    out with `skip`, a DataError naming the first otherwise)."""
    points, ids = table
    cp = _codepoints(piece)
    pos_ok = np.minimum(np.searchsorted(points, cp), max(len(points) - 1, 0))
    known = points[pos_ok] == cp if len(points) else np.zeros(len(cp), dtype=bool)
    bad = np.flatnonzero(~known)
    if bad.size and not skip:
        at = int(bad[0])
        line = line0 + piece.count("\n", 0, at) + 1
        raise DataError(f"{where}:{line}: character {piece[at]!r} is not in the model's vocabulary")
    if bad.size:
        return ids[pos_ok[known]], int(bad.size)
    return ids[pos_ok], 0
