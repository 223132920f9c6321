"""Vocabulary: the bijection between tokens and integer ids.

Special tokens come first (``<pad>`` = 0, ``<unk>`` = 1, ``<sos>`` = 2, ``<eos>`` = 3 by
default), then the corpus tokens, most frequent first. The lecture's vocabulary,
``Vocabulary(["movie", "was", "good", "bad", "not"], specials=())``, has no specials.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from rnnkit.errors import ConfigError, VocabularyError
from rnnkit.io.atomic import atomic_write_json, read_json

__all__ = ["DEFAULT_SPECIALS", "EOS", "PAD", "SOS", "UNK", "Vocabulary"]

PAD, UNK, SOS, EOS = "<pad>", "<unk>", "<sos>", "<eos>"
DEFAULT_SPECIALS: tuple[str, ...] = (PAD, UNK, SOS, EOS)


class Vocabulary:
    """An immutable, ordered token <-> id mapping.

    Parameters
    ----------
    tokens : iterable of str, default ()
        The ordinary tokens, in id order; they take the ids after the specials.
    specials : sequence of str, default ("<pad>", "<unk>", "<sos>", "<eos>")
        Reserved tokens, taking ids ``0 .. len(specials) - 1``. May be empty.

    Raises
    ------
    VocabularyError
        When a token is not a string, holds a lone surrogate (no file could hold it),
        or appears twice (specials included).

    Notes
    -----
    Keras calls this a ``StringLookup`` / ``TextVectorization`` vocabulary, torchtext a
    ``Vocab``. A token missing from the vocabulary maps to ``<unk>`` when the
    vocabulary has one, and is an error otherwise.

    Examples
    --------
    >>> v = Vocabulary.build([["movie", "was", "good"], ["movie", "was", "bad"]])
    >>> v.tokens
    ['<pad>', '<unk>', '<sos>', '<eos>', 'movie', 'was', 'good', 'bad']
    >>> v.encode(["movie", "was", "great"], add_eos=True)
    array([4, 5, 1, 3])
    >>> v.decode([2, 4, 5, 6, 3, 0])
    ['movie', 'was', 'good']
    """

    def __init__(
        self, tokens: Iterable[str] = (), *, specials: Sequence[str] = DEFAULT_SPECIALS
    ) -> None:
        if isinstance(tokens, str) or isinstance(specials, str):
            raise VocabularyError("tokens and specials must be sequences of strings, not a str")
        self._specials = tuple(_iterate(specials, "specials", "a sequence of strings"))
        self._tokens = self._specials + tuple(_iterate(tokens, "tokens", "strings"))
        self._ids: dict[str, int] = {}
        for i, token in enumerate(self._tokens):
            if not isinstance(token, str):
                raise VocabularyError(f"token {i} is {type(token).__name__} {token!r}, not str")
            if not (token.isascii() or _is_text(token)):
                # NOTE: refused here, not when saving: no file can hold a lone surrogate
                raise VocabularyError(f"token {i} {token!r} holds a lone surrogate, not text")
            if token in self._ids:
                first = self._ids[token]
                raise VocabularyError(f"token {token!r} appears twice (ids {first} and {i})")
            self._ids[token] = i

    @classmethod
    def build(
        cls,
        token_lists: Iterable[Iterable[str]],
        *,
        min_freq: int = 1,
        max_size: int | None = None,
        specials: Sequence[str] = DEFAULT_SPECIALS,
    ) -> Vocabulary:
        """Build a vocabulary from tokenised texts.

        Parameters
        ----------
        token_lists : iterable of iterable of str
            One list of tokens per text.
        min_freq : int, default 1
            Keep tokens seen at least this many times.
        max_size : int, optional
            Keep at most this many ordinary tokens (the specials are not counted).
        specials : sequence of str, default DEFAULT_SPECIALS
            Reserved tokens; occurrences of them in the texts are not counted.

        Returns
        -------
        Vocabulary
            Tokens ordered by frequency, descending; ties by first occurrence, so the
            result depends only on the texts and their order.

        Examples
        --------
        >>> Vocabulary.build([["b", "a"], ["a", "c", "b", "d"]], min_freq=2).tokens[4:]
        ['b', 'a']
        >>> Vocabulary.build([["b", "a"], ["a", "c"]], max_size=1, specials=()).tokens
        ['a']
        """
        _check_count("min_freq", min_freq, 1)
        if max_size is not None:
            _check_count("max_size", max_size, 0)
        counts: Counter[str] = Counter()
        for i, tokens in enumerate(_iterate(token_lists, "token_lists", "lists of tokens")):
            if isinstance(tokens, (str, bytes, bytearray, Mapping)):
                kind = "a str" if isinstance(tokens, str) else type(tokens).__name__
                raise VocabularyError(f"token_lists: expected lists of tokens, got {kind}")
            try:
                counts.update(tokens)
            except TypeError:  # not iterable, or a token that cannot be hashed
                if not isinstance(tokens, Iterable):
                    raise VocabularyError(
                        f"token_lists: text {i} is {type(tokens).__name__} {tokens!r}, "
                        "not a list of tokens"
                    ) from None
                raise VocabularyError(
                    f"token_lists: text {i} holds a token that is not a str"
                ) from None
        reserved = set(specials)
        # Counter keeps first-occurrence order and sorted() is stable: ties stay in it.
        ranked = sorted(counts.items(), key=lambda item: -item[1])
        kept = [tok for tok, n in ranked if n >= min_freq and tok not in reserved]
        return cls(kept[:max_size], specials=specials)

    def __len__(self) -> int:
        return len(self._tokens)

    def __contains__(self, token: object) -> bool:
        return isinstance(token, str) and token in self._ids

    def __getitem__(self, token: str) -> int:
        """Id of ``token``; the ``<unk>`` id for an unknown token if there is one."""
        if not isinstance(token, str):
            raise VocabularyError(f"token must be a str, got {type(token).__name__} {token!r}")
        if token in self._ids:
            return self._ids[token]
        if self.unk_id is not None:
            return self.unk_id
        raise VocabularyError(f"token {token!r} is not in the vocabulary, which has no {UNK}")

    def token(self, id: int) -> str:
        """Token of an id (``int`` or NumPy integer in ``0 .. len(self) - 1``)."""
        if isinstance(id, (bool, np.bool_)) or not isinstance(id, (int, np.integer)):
            raise VocabularyError(f"id must be an integer, got {type(id).__name__} {id!r}")
        if not 0 <= id < len(self._tokens):
            raise VocabularyError(f"id {id} out of range for a vocabulary of {len(self)} tokens")
        return self._tokens[int(id)]

    @property
    def tokens(self) -> list[str]:
        """All tokens in id order, specials first (a new list)."""
        return list(self._tokens)

    @property
    def specials(self) -> tuple[str, ...]:
        """The reserved tokens, which hold ids ``0 .. len(specials) - 1``."""
        return self._specials

    def _special_id(self, token: str) -> int | None:
        return self._ids[token] if token in self._specials else None

    @property
    def pad_id(self) -> int | None:
        """Id of ``<pad>``, or None when it is not one of the specials."""
        return self._special_id(PAD)

    @property
    def unk_id(self) -> int | None:
        """Id of ``<unk>``, or None when it is not one of the specials."""
        return self._special_id(UNK)

    @property
    def sos_id(self) -> int | None:
        """Id of ``<sos>`` (start of sequence), or None when absent."""
        return self._special_id(SOS)

    @property
    def eos_id(self) -> int | None:
        """Id of ``<eos>`` (end of sequence), or None when absent."""
        return self._special_id(EOS)

    def encode(
        self, tokens: Iterable[str], add_sos: bool = False, add_eos: bool = False
    ) -> np.ndarray:
        """Map tokens to ids.

        Parameters
        ----------
        tokens : iterable of str
            A tokenised text, length T.
        add_sos, add_eos : bool, default False
            Put ``<sos>`` before / ``<eos>`` after the text (decoder inputs and targets).

        Returns
        -------
        ndarray of int64, shape (T + add_sos + add_eos,)
        """
        if isinstance(tokens, str):
            raise VocabularyError("encode: expected a list of tokens, got a str; tokenize it first")
        ids = [self[token] for token in _iterate(tokens, "encode", "a list of tokens")]
        if add_sos:
            ids.insert(0, self._required(SOS))
        if add_eos:
            ids.append(self._required(EOS))
        return np.array(ids, dtype=np.int64)

    def _required(self, special: str) -> int:
        if special not in self._specials:
            raise VocabularyError(f"the vocabulary has no {special} (specials: {self._specials})")
        return self._ids[special]

    def decode(self, ids: Iterable[int] | np.ndarray, strip_specials: bool = True) -> list[str]:
        """Map ids back to tokens.

        Parameters
        ----------
        ids : array_like of int, shape (T,)
        strip_specials : bool, default True
            Drop the special tokens, except ``<unk>``, which stands for a real word.

        Returns
        -------
        list of str
        """
        try:
            array = np.asarray(ids)
        except (ValueError, TypeError):  # ragged lists
            raise VocabularyError("decode: expected a 1-D array of ids, got ragged lists") from None
        if array.ndim != 1:
            raise VocabularyError(f"decode: expected a 1-D array of ids, got shape {array.shape}")
        tokens = [self.token(i) for i in array.tolist()]
        if strip_specials:
            drop = set(self._specials) - {UNK}
            tokens = [tok for tok in tokens if tok not in drop]
        return tokens

    def to_dict(self) -> dict[str, list[str]]:
        """JSON-able form: ``{"tokens": all tokens in id order, "specials": [...]}``."""
        return {"tokens": list(self._tokens), "specials": list(self._specials)}

    @classmethod
    def from_dict(cls, data: Any) -> Vocabulary:
        """Inverse of :meth:`to_dict`, validating every field.

        Raises
        ------
        VocabularyError
            On a missing or unexpected key, a non-string or duplicate token, or
            specials that are not the first tokens.

        Examples
        --------
        >>> Vocabulary.from_dict({"tokens": ["<pad>", "a"], "specials": ["<pad>"]})["a"]
        1
        """
        if not isinstance(data, dict):
            raise VocabularyError(f"expected a JSON object, got {type(data).__name__}")
        if set(data) != {"tokens", "specials"}:
            raise VocabularyError(
                f"expected the keys 'specials' and 'tokens', got {sorted(map(str, data))}"
            )
        tokens, specials = data["tokens"], data["specials"]
        for key, value in (("tokens", tokens), ("specials", specials)):
            if not isinstance(value, list):
                raise VocabularyError(f"'{key}' must be a list, got {type(value).__name__}")
        if tokens[: len(specials)] != specials:
            raise VocabularyError(f"'tokens' must start with the specials {specials}")
        return cls(tokens[len(specials) :], specials=specials)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write :meth:`to_dict` as JSON, atomically (a crash leaves any old file whole)."""
        atomic_write_json(path, self.to_dict())

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Vocabulary:
        """Read a vocabulary written by :meth:`save`.

        Raises
        ------
        VocabularyError
            Naming the path, when the file is missing, unreadable, not JSON or not a
            valid vocabulary.
        """
        data = read_json(path, error=VocabularyError)
        try:
            return cls.from_dict(data)
        except VocabularyError as e:
            raise VocabularyError(f"{path}: {e}") from None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Vocabulary):
            return NotImplemented
        return self._tokens == other._tokens and self._specials == other._specials

    def __hash__(self) -> int:
        return hash((self._tokens, self._specials))

    def __repr__(self) -> str:
        return f"Vocabulary({len(self)} tokens, specials={self._specials})"


def _iterate(values: Any, where: str, expected: str) -> Iterator[Any]:
    """An iterator over `values`; VocabularyError naming `where` when it is not iterable."""
    try:
        return iter(values)
    except TypeError:
        raise VocabularyError(
            f"{where}: expected {expected}, got {type(values).__name__}"
        ) from None


def _is_text(token: str) -> bool:
    """Whether `token` has a UTF-8 form (no lone surrogate)."""
    try:
        token.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _check_count(name: str, value: object, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"{name}: expected an integer >= {minimum}, got {value!r}")
