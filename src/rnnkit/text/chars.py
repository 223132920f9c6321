"""Words as characters: the character vocabulary and the (B, T, L) ids a character
encoder reads.

A tagger's batch holds B sentences of up to T words; to read each word's characters,
every word becomes a row of up to L character ids, ``<pad>`` (0) after its last
character and in the slots of the words a sentence does not have.

>>> sentences = [["The", "cat"], ["Sat"]]
>>> chars = char_vocabulary(sentences)
>>> chars.tokens
['<pad>', '<unk>', 'a', 't', 'T', 'h', 'e', 'c', 'S']
>>> ids, lengths = encode_chars(sentences, chars)
>>> ids.shape, lengths.tolist()                     # (B, T, L)
((2, 2, 3), [[3, 3], [3, 0]])
>>> ids[1].tolist()                                 # "Sat" and a padded word slot
[[8, 2, 3], [0, 0, 0]]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from rnnkit.errors import ConfigError, DataError
from rnnkit.text.vocab import PAD, UNK, Vocabulary

__all__ = ["CHAR_SPECIALS", "char_vocabulary", "encode_chars"]

#: the specials of a character vocabulary: ``<pad>`` = 0, ``<unk>`` = 1
CHAR_SPECIALS: tuple[str, ...] = (PAD, UNK)


def char_vocabulary(
    sentences: Sequence[Sequence[str]], *, min_freq: int = 1, max_size: int | None = None
) -> Vocabulary:
    """The characters of the words of `sentences`, most frequent first.

    Parameters
    ----------
    sentences : sequence of sequences of str
        Tokenised sentences (the training set's).
    min_freq, max_size : as in :meth:`Vocabulary.build`; a rare character left out
        maps to ``<unk>``.

    Returns
    -------
    Vocabulary with specials ``<pad>`` (0) and ``<unk>`` (1), then one token per
    character. Characters are case-sensitive: capitals are features of their own.
    """
    words = (list(word) for sentence in sentences for word in sentence)
    return Vocabulary.build(words, min_freq=min_freq, max_size=max_size, specials=CHAR_SPECIALS)


def encode_chars(
    sentences: Sequence[Sequence[str]], vocab: Vocabulary, max_chars: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Character ids of every word of a batch of sentences.

    Parameters
    ----------
    sentences : sequence of B sequences of str
        Tokenised sentences, T the longest.
    vocab : Vocabulary
        A character vocabulary whose ``<pad>`` is 0 (:func:`char_vocabulary`); unknown
        characters map to its ``<unk>``.
    max_chars : int, optional
        Cap on the characters kept of a word. A longer word keeps its first
        ceil(max_chars / 2) and last floor(max_chars / 2) characters.

    Returns
    -------
    ids : (B, T, L) int64 array, L the longest (capped) word; 0 after each word's
        characters and in word slots past a sentence's end
    lengths : (B, T) int64 array, characters of each word (0 in padded slots, and for
        an empty token)

    Notes
    -----
    NOTE: a long word is cut in the middle, not at the end: its prefix and suffix
    ("un-", "-ing", "-ly") say the most about its tag, and they are what the final
    states of a bidirectional character encoder read last.

    >>> chars = char_vocabulary([["abcdefg"]])
    >>> chars.decode(encode_chars([["abcdefg"]], chars, max_chars=5)[0][0, 0])
    ['a', 'b', 'c', 'f', 'g']
    """
    if vocab.pad_id != 0:
        raise ConfigError("encode_chars: the character vocabulary needs <pad> at id 0")
    if max_chars is not None and (
        isinstance(max_chars, bool) or not isinstance(max_chars, int) or max_chars < 1
    ):
        raise ConfigError(f"max_chars: expected an integer >= 1 or None, got {max_chars!r}")
    if isinstance(sentences, str) or any(isinstance(s, str) for s in sentences):
        raise DataError("encode_chars: expected a list of tokenised sentences, not a str")
    words = [[_cut(word, max_chars) for word in sentence] for sentence in sentences]
    B = len(words)
    T = max((len(s) for s in words), default=0)
    L = max((len(w) for s in words for w in s), default=0)
    ids = np.zeros((B, T, L), dtype=np.int64)
    lengths = np.zeros((B, T), dtype=np.int64)
    for b, sentence in enumerate(words):
        for t, word in enumerate(sentence):
            ids[b, t, : len(word)] = vocab.encode(list(word))
            lengths[b, t] = len(word)
    return ids, lengths


def _cut(word: str, max_chars: int | None) -> str:
    """`word`, or its first ceil(m / 2) and last floor(m / 2) characters if longer than m."""
    if not isinstance(word, str):
        raise DataError(f"encode_chars: a token is {type(word).__name__} {word!r}, not str")
    if max_chars is None or len(word) <= max_chars:
        return word
    head = (max_chars + 1) // 2
    return word[:head] + word[len(word) - (max_chars - head) :]
