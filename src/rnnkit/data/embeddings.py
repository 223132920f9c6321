"""Pretrained word embeddings: the vectors of a vocabulary's words, read from a file.

:func:`read_embeddings` streams a GloVe, word2vec (text or binary) or fastText ``.vec``
file, gzip-compressed or not, and keeps only the vectors of the words asked for (a
model's vocabulary), so memory stays that of the vocabulary whatever the file's size.
A word not in the file as written takes the vector of its lower-cased form when the
file has that (GloVe's vectors are all lower-case). When a word occurs twice in the
file, its first vector wins. The result says which words were found, and how.

:func:`embedding_matrix` lays the vectors out in vocabulary order, as the starting
value of an :class:`~rnnkit.layers.Embedding` (``Embedding.from_pretrained``).

>>> import tempfile, pathlib
>>> import numpy as np
>>> from rnnkit.text import Vocabulary
>>> vocab = Vocabulary(["The", "cat", "zebu"])
>>> with tempfile.TemporaryDirectory() as d:
...     path = pathlib.Path(d) / "vectors.txt"
...     _ = path.write_text("the 0.5 1.0\\ncat 0.0 2.0\\ndog 1.0 1.0\\n")
...     vectors = read_embeddings(path, vocab)
>>> print(vectors.summary().split(" in ")[0])
2 of 3 vocabulary words found (1 as written, 1 lower-cased)
>>> vectors.by_lowercase, vectors.missing
(['The'], ['zebu'])
>>> E = embedding_matrix(vocab, vectors, np.random.default_rng(0))
>>> E.shape, E.dtype, E[vocab["The"]].tolist(), E[vocab.pad_id].tolist()
((7, 2), dtype('float32'), [0.5, 1.0], [0.0, 0.0])
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rnnkit.data.embedding_files import EMBEDDING_FORMATS, detect_format, iter_vectors
from rnnkit.data.text_files import check_encoding
from rnnkit.errors import ConfigError
from rnnkit.text import Vocabulary

__all__ = ["PretrainedVectors", "embedding_matrix", "file_words", "read_embeddings"]

PathLike = str | os.PathLike[str]


@dataclass(frozen=True)
class PretrainedVectors:
    """The vectors an embedding file holds for the words asked for.

    Attributes
    ----------
    words : list of str
        The words asked for, in order (a vocabulary's tokens, specials included).
    vectors : ndarray, shape (len(words), dim), float32
        Row i is the vector of ``words[i]``; zeros where ``found[i]`` is False.
    found : ndarray, shape (len(words),), bool
        Whether the file gave ``words[i]`` a vector (as written or lower-cased).
    by_lowercase : list of str
        The words found only through their lower-cased form.
    path, format : str
        The file, as given, and the format it was read as.
    dim : int
        d, the length of every vector.
    file_words : int
        The words the file holds (duplicates included).
    duplicates : int
        Later occurrences of a word asked for: ignored, its first vector wins.
    ignored : tuple of str
        Words left out of the coverage count (a vocabulary's specials).
    """

    words: list[str]
    vectors: np.ndarray
    found: np.ndarray
    by_lowercase: list[str]
    path: str
    format: str
    dim: int
    file_words: int
    duplicates: int = 0
    ignored: tuple[str, ...] = field(default=())

    @property
    def missing(self) -> list[str]:
        """The words asked for that the file has no vector for (``ignored`` left out)."""
        skip = set(self.ignored)
        return [w for w, f in zip(self.words, self.found, strict=True) if not f and w not in skip]

    def lookup(self) -> dict[str, np.ndarray]:
        """Word -> vector (d,), for the words found."""
        return {w: self.vectors[i] for i, w in enumerate(self.words) if self.found[i]}

    def summary(self, first: int | None = None) -> str:
        """One line: ``41,203 of 45,118 vocabulary words found (...) in FILE (...)``.

        With `first`, only the first `first` words asked for are counted (a vocabulary's
        training words, before the words taken from the file itself).
        """
        skip = set(self.ignored)
        words = self.words if first is None else self.words[:first]
        counted = [i for i, w in enumerate(words) if w not in skip]
        n_found = int(self.found[counted].sum())
        lower = sum(w not in skip and w in words for w in self.by_lowercase)
        dup = f", {self.duplicates:,} repeats ignored" if self.duplicates else ""
        return (
            f"{n_found:,} of {len(counted):,} vocabulary words found ({n_found - lower:,} as "
            f"written, {lower:,} lower-cased) in {self.path} ({self.format}, "
            f"{self.file_words:,} words of {self.dim} dimensions{dup})"
        )


def read_embeddings(
    path: PathLike,
    words: Vocabulary | Iterable[str],
    *,
    format: str = "auto",
    encoding: str = "utf-8",
    lowercase_fallback: bool = True,
) -> PretrainedVectors:
    """Read the vectors of `words` from a pretrained embedding file.

    Parameters
    ----------
    path : str or path-like
        A GloVe, word2vec (text or binary) or fastText ``.vec`` file, gzip or not.
    words : Vocabulary or iterable of str
        The words whose vectors are kept; a Vocabulary's specials are looked up too
        (some files have ``<unk>``) but left out of the coverage count.
    format : {"auto", "glove", "word2vec", "fasttext", "word2vec-binary"}
        "auto" tells them apart by the first lines (:func:`detect_format`).
    encoding : str, default "utf-8"
        How the words are encoded; a leading byte-order mark is dropped.
    lowercase_fallback : bool, default True
        A word not in the file as written takes the vector of its lower-cased form.

    Returns
    -------
    PretrainedVectors
        ``vectors`` (len(words), d) float32 in the order of `words`.

    Raises
    ------
    DataError
        One line naming the file and the line (or byte offset) at fault; see
        :func:`~rnnkit.data.embedding_files.iter_vectors`.
    ConfigError
        An unknown format or encoding.
    """
    source = str(path)
    check_encoding(encoding)
    if format != "auto" and format not in EMBEDDING_FORMATS:
        names = ", ".join(("auto", *EMBEDDING_FORMATS))
        raise ConfigError(f"format={format!r} is not one of {names}")
    asked = list(words.tokens if isinstance(words, Vocabulary) else words)
    ignored = tuple(words.specials) if isinstance(words, Vocabulary) else ()
    fmt = detect_format(Path(path), source) if format == "auto" else format
    wanted = set(asked) | ({w.lower() for w in asked} if lowercase_fallback else set())
    kept: dict[str, np.ndarray] = {}
    file_words = duplicates = dim = 0
    for record in iter_vectors(Path(path), source, fmt, encoding, wanted):
        file_words, dim = file_words + 1, record.dim
        if record.vector is None or record.word not in wanted:
            continue  # NOTE: no set of every word read: memory stays the vocabulary's
        if record.word in kept:
            duplicates += 1  # the first occurrence wins
        else:
            kept[record.word] = record.vector
    vectors, found, by_lowercase = _in_order(asked, kept, dim, lowercase_fallback)
    return PretrainedVectors(
        asked, vectors, found, by_lowercase, source, fmt, dim, file_words, duplicates, ignored
    )


def file_words(
    path: PathLike, n: int, *, format: str = "auto", encoding: str = "utf-8"
) -> list[str]:
    """The first `n` words of a pretrained embedding file, in file order.

    GloVe, word2vec and fastText files list their words most frequent first, so these
    are the words a text is most likely to hold. Their values are not parsed (the
    file is checked as :func:`read_embeddings` checks it, up to the n-th word).
    """
    source = str(path)
    check_encoding(encoding)
    fmt = detect_format(Path(path), source) if format == "auto" else format
    words: list[str] = []
    if n < 1:
        return words
    with closing(iter_vectors(Path(path), source, fmt, encoding, keep=frozenset())) as records:
        for record in records:  # NOTE: closing: the file is shut without reading the rest
            words.append(record.word)
            if len(words) == n:
                break
    return words


def _in_order(
    asked: list[str], kept: dict[str, np.ndarray], dim: int, lowercase_fallback: bool
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The vectors of `asked` (n, d) in order, as written first, else lower-cased; which
    were found (n,); the words found lower-cased."""
    vectors = np.zeros((len(asked), dim), dtype=np.float32)  # (n, d)
    found = np.zeros(len(asked), dtype=bool)
    by_lowercase = []
    for i, word in enumerate(asked):
        vector = kept.get(word)
        if vector is None and lowercase_fallback:
            vector = kept.get(word.lower())
            if vector is not None:
                by_lowercase.append(word)
        if vector is not None:
            vectors[i], found[i] = vector, True
    return vectors, found, by_lowercase


def embedding_matrix(
    vocab: Vocabulary,
    pretrained: PretrainedVectors,
    rng: np.random.Generator,
    *,
    scale: float = 0.05,
    dtype: str = "float32",
) -> np.ndarray:
    """The (N, d) starting value of an Embedding's ``E``, row i for vocabulary id i.

    Words the file gave a vector take it; the others are drawn from U(-scale, scale),
    as :class:`~rnnkit.layers.Embedding` draws its rows (Keras's default, 0.05); the
    ``<pad>`` row is zeros (padded steps are masked, so it never matters to a loss, and
    zeros make that visible).

    Parameters
    ----------
    vocab : Vocabulary
        N tokens; the order of the rows.
    pretrained : PretrainedVectors
        From :func:`read_embeddings` (for these words or any others).
    rng : numpy.random.Generator
        Draws the rows of the words not found (one (N, d) draw, whatever was found).

    Returns
    -------
    ndarray, shape (N, d)
    """
    E = rng.uniform(-scale, scale, size=(len(vocab), pretrained.dim))  # (N, d)
    rows = {w: i for i, w in enumerate(pretrained.words) if pretrained.found[i]}
    for token_id, token in enumerate(vocab.tokens):
        row = rows.get(token)
        if row is not None:
            E[token_id] = pretrained.vectors[row]
    if vocab.pad_id is not None:
        E[vocab.pad_id] = 0.0
    return E.astype(dtype)
