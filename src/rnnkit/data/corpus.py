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
  a character the model never saw cannot be encoded (:class:`DataError` naming it).
- ``"word"``: words are the whitespace-separated pieces of a line and every line ends
  with ``<eos>``; the vocabulary has the usual specials, the words by frequency, and
  rarer words (``min_freq``, ``max_vocab``) become ``<unk>``.

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

import numpy as np

from rnnkit.errors import ConfigError, DataError
from rnnkit.text.vocab import EOS, Vocabulary

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
#: characters read from a file at a time by the char-level passes
CHUNK_CHARS = 1 << 20


@dataclass
class TextCorpus:
    """A text as token ids: ``ids`` (N,), its ``vocab``, the ``level`` and where it came from."""

    ids: Array
    vocab: Vocabulary
    level: str
    path: str = "<text>"

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
) -> TextCorpus:
    """Read a text file as a :class:`TextCorpus`, streaming.

    With `vocab` (a trained model's) the file is encoded with it; otherwise the
    vocabulary is built from the file first. Raises DataError for an empty file, a
    file that is not text in `encoding`, or a character the given char vocabulary
    lacks (with its line); OSError when the file cannot be read.
    """
    check_level(level)
    path = Path(path)
    where = str(path)

    def pieces() -> Iterator[str]:
        try:
            with open(path, encoding=encoding) as f:
                yield from _file_pieces(f, level)
        except UnicodeDecodeError as exc:
            raise DataError(
                f"{where}: not {encoding} text (byte {exc.start}); give --encoding"
            ) from None
        except LookupError:
            raise DataError(f"{where}: unknown encoding {encoding!r}") from None

    return _build(pieces, level, where, vocab, min_freq, max_vocab)


def corpus_from_text(
    text: str,
    level: str,
    *,
    vocab: Vocabulary | None = None,
    min_freq: int = 1,
    max_vocab: int | None = None,
) -> TextCorpus:
    """:func:`read_corpus` for a text held in a string."""
    check_level(level)
    if not isinstance(text, str):
        raise DataError(f"the text must be a str, got {type(text).__name__}")

    def pieces() -> Iterator[str]:
        yield from _file_pieces(io.StringIO(text), level)

    return _build(pieces, level, "<text>", vocab, min_freq, max_vocab)


def encode_tokens(tokens: list[str], vocab: Vocabulary, level: str, what: str) -> Array:
    """Ids of `tokens`; a character the char vocabulary lacks is a DataError naming it."""
    if level == "char":
        missing = sorted({t for t in tokens if t not in vocab})
        if missing:
            shown = ", ".join(repr(c) for c in missing[:5])
            raise DataError(f"{what}: {shown} not in the model's characters")
    return np.array([vocab[t] for t in tokens], dtype=np.int64)


# -- the two passes -------------------------------------------------------------------
def _build(pieces, level, where, vocab, min_freq, max_vocab) -> TextCorpus:
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
    i = 0
    if level == "char":
        table = _char_table(vocab)
    line = 0
    for piece in pieces():  # pass 2: encode into the final array
        if level == "char":
            ids[i : i + len(piece)] = _encode_chars(piece, table, where, line)
            line += piece.count("\n")
            i += len(piece)
        else:
            words = _line_words(piece)
            ids[i : i + len(words)] = [vocab[w] for w in words]
            i += len(words)
    return TextCorpus(ids, vocab, level, where)


def _vocabulary(counts: Counter[str], level: str, min_freq: int, max_vocab: int | None):
    if level == "char":  # every character, in code-point order, no specials
        return Vocabulary(sorted(counts), specials=())
    if min_freq < 1:
        raise ConfigError(f"min_freq={min_freq}: must be at least 1")
    counts.pop(EOS, None)  # <eos> is a special, not a word of the text
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
    """Sorted code points of the vocabulary and their ids, for a vectorised lookup."""
    points = np.array([ord(t) for t in vocab.tokens], dtype=np.uint32)
    order = np.argsort(points)
    return points[order], order.astype(np.int64)


def _encode_chars(piece: str, table: tuple[Array, Array], where: str, line0: int) -> Array:
    points, ids = table
    cp = _codepoints(piece)
    pos = np.searchsorted(points, cp)
    pos_ok = np.minimum(pos, len(points) - 1)
    bad = np.flatnonzero(points[pos_ok] != cp)
    if bad.size:
        at = int(bad[0])
        line = line0 + piece.count("\n", 0, at) + 1
        raise DataError(f"{where}:{line}: character {piece[at]!r} is not in the model's vocabulary")
    return ids[pos_ok]
