"""Pretrained word vectors as the starting value of a task model's input embedding.

Two settings, shared by every task model with word inputs: ``embeddings``, the path
of a GloVe, word2vec or fastText file (:func:`rnnkit.data.read_embeddings`), and
``freeze_embeddings``, whether ``E`` then stays as the file gave it. Once the
vocabulary is built, :func:`pretrained_matrix` reads the vectors of its words and lays
them out as ``E`` (the words not in the file are drawn at random, the ``<pad>`` row is
zeros). The embedding size is the file's: a different ``embed_dim`` given explicitly is
refused. ``E`` is saved with the other weights, so a saved model loads without the file.

The random rows come from a generator of their own, seeded from the model's seed, so
the other layers start exactly as they would without the file.

>>> import tempfile, pathlib
>>> from rnnkit.text import Vocabulary
>>> vocab = Vocabulary(["the", "cat"])
>>> settings = {"embeddings": None, "freeze_embeddings": False, "embed_dim": 100, "seed": 0}
>>> with tempfile.TemporaryDirectory() as d:
...     path = pathlib.Path(d) / "vectors.txt"
...     _ = path.write_text("the 0.5 1.0\\ncat 0.0 2.0\\n")
...     settings["embeddings"] = str(path)
...     E = pretrained_matrix(settings, vocab, given=set())
>>> E.shape, settings["embed_dim"], E[vocab["cat"]].tolist()
((6, 2), 2, [0.0, 2.0])
"""

from __future__ import annotations

import os
from collections.abc import Collection
from typing import Any

import numpy as np

from rnnkit.data import embedding_matrix, file_words, read_embeddings
from rnnkit.errors import ConfigError
from rnnkit.text import Vocabulary

__all__ = [
    "EMBEDDING_DEFAULTS",
    "check_embedding_settings",
    "pretrained_matrix",
    "with_file_words",
]

#: the two settings, with their defaults, as every task model with word inputs has them
EMBEDDING_DEFAULTS: dict[str, Any] = {
    "embeddings": None,  # a file of pretrained word vectors that E starts from (a path)
    "freeze_embeddings": False,  # keep E as the file gave it (needs embeddings)
}

#: what the generator of the words not in the file mixes into the model's seed, so its
#: draws differ from the layers' (which use the seed alone)
_STREAM = 0x656D62


def check_embedding_settings(settings: dict[str, Any], level: str = "word") -> None:
    """ConfigError, one line, for pretrained vectors the settings cannot use.

    `level` is how the inputs split into tokens: word vectors need words.
    """
    path = settings.get("embeddings")
    freeze = settings.get("freeze_embeddings", False)
    if not isinstance(freeze, bool):
        raise ConfigError(f"freeze_embeddings={freeze!r}: must be True or False")
    if path is None:
        if freeze:
            raise ConfigError("freeze_embeddings=True needs embeddings, a file of word vectors")
        return
    if not isinstance(path, str | os.PathLike):
        raise ConfigError(f"embeddings={path!r}: give the path of a word-vector file, or None")
    if level != "word":
        raise ConfigError(
            f"embeddings={str(path)!r}: word vectors need word tokens, not level={level!r}"
        )
    if settings.get("one_hot"):
        raise ConfigError(
            f"embeddings={str(path)!r} with one_hot=True: one-hot inputs have no embedding "
            "to start from the vectors"
        )


def pretrained_matrix(
    settings: dict[str, Any],
    vocab: Vocabulary,
    *,
    given: Collection[str],
    level: str = "word",
    joined: int = 0,
) -> np.ndarray | None:
    """The (N, d) starting value of ``E`` for `vocab`, or None without ``embeddings``.

    Sets ``settings["embed_dim"]`` to the file's d when ``embed_dim`` is not among the
    settings `given`; prints the coverage line when ``settings["verbose"]``. `joined`:
    how many words at the end of `vocab` came from the file (:func:`with_file_words`);
    the coverage line counts the others, and says how many joined.

    Raises
    ------
    ConfigError
        Settings the vectors do not fit (see :func:`check_embedding_settings`), or an
        ``embed_dim`` given that is not the file's.
    DataError
        A missing or malformed file (one line naming it and the line at fault).
    """
    check_embedding_settings(settings, level)
    path = settings.get("embeddings")
    if path is None:
        return None
    settings["embeddings"] = path = os.fspath(path)  # a str, as config.json records it
    vectors = read_embeddings(path, vocab)
    if "embed_dim" in given and settings["embed_dim"] != vectors.dim:
        raise ConfigError(
            f"embed_dim={settings['embed_dim']} but {path} holds vectors of {vectors.dim} "
            "dimensions: leave embed_dim out, or give the file's"
        )
    settings["embed_dim"] = vectors.dim
    if settings.get("verbose"):
        line = vectors.summary(first=len(vocab) - joined)
        if joined:
            line += f"; {joined:,} more of its words joined the vocabulary"
        print(line, flush=True)
    seed = settings.get("seed")
    rng = np.random.default_rng(None if seed is None else [int(seed), _STREAM])
    return embedding_matrix(vocab, vectors, rng, dtype=settings.get("dtype", "float32"))


def with_file_words(
    vocab: Vocabulary, path: str | os.PathLike[str], n: int, lower: bool
) -> Vocabulary:
    """`vocab`, then the first `n` words of the vector file at `path` it lacks.

    A word seen in training has its row in ``E``; a word seen only in the vector file
    would map to ``<unk>`` and lose its vector. With the file's most frequent words in
    the vocabulary too, a word met first at test time ("tsunami") keeps its pretrained
    vector, and what the network learnt of similar words applies to it. `lower`: the
    model lowercases its words, so only the file's lowercase words are taken (a
    lowercased "Paris" would find no vector of its own in the file).
    """
    known = set(vocab.tokens)
    extra = []
    for word in file_words(path, n):
        if lower and word != word.lower():
            continue
        if word not in known:
            known.add(word)
            extra.append(word)
    if not extra:
        return vocab
    words = [t for t in vocab.tokens if t not in vocab.specials]
    return Vocabulary([*words, *extra], specials=vocab.specials)
