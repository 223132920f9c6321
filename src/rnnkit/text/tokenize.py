"""Tokenizers: text in, a list of string tokens out.

Two levels, as in the lecture: words (for sentiment, tagging, translation) and
characters (for names, spelling, char-rnn language models).

>>> word_tokenize("The movie isn't well-made, is it?")
['the', 'movie', "isn't", 'well-made', ',', 'is', 'it', '?']
>>> char_tokenize("Hi!")
['H', 'i', '!']
>>> get_tokenizer("word")("movie was good")
['movie', 'was', 'good']
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

from rnnkit.errors import ConfigError, DataError

__all__ = ["LEVELS", "char_tokenize", "get_tokenizer", "word_tokenize"]

LEVELS = ("word", "char")

# A word is a run of letters/digits that may hold single inner apostrophes or hyphens
# ("isn't", "well-made", "rock'n'roll"); anything else that is not a space is
# punctuation, and a run of one repeated mark ("--", "...", "!!") stays one token.
_WORD_OR_MARK = re.compile(r"\w+(?:['’-]\w+)*|([^\w\s])\1*")


def word_tokenize(text: str, lower: bool = True) -> list[str]:
    """Split text into words and punctuation marks.

    Parameters
    ----------
    text : str
        Any text; whitespace (as ``str.split`` understands it) separates tokens.
    lower : bool, default True
        Lower-case the text first.

    Returns
    -------
    list of str
        Words keep inner apostrophes and hyphens (``"isn't"``, ``"well-made"``); every
        other non-space character is a token of its own, except that a run of the same
        mark (``"--"``, ``"..."``) is kept as one token.

    Raises
    ------
    DataError
        When `text` is not a str (bytes must be decoded first).

    Notes
    -----
    Text that is already tokenised with spaces, like the MR sentence-polarity
    snippets, comes back as its own space-separated tokens; marks glued to a word
    there (``"[a]"``, ``"writer/director"``) are split off. Tokenising is idempotent:
    tokenising the tokens joined by spaces gives the same tokens.

    Examples
    --------
    >>> word_tokenize("the 21st century's new \\" conan \\" . ")
    ['the', '21st', "century's", 'new', '"', 'conan', '"', '.']
    >>> word_tokenize("Wait -- what...?!", lower=False)
    ['Wait', '--', 'what', '...', '?', '!']
    """
    _check_text(text)
    if lower:
        text = text.lower()
    return [m.group(0) for m in _WORD_OR_MARK.finditer(text)]


def char_tokenize(text: str, lower: bool = False) -> list[str]:
    """Split text into characters, spaces and newlines included.

    Parameters
    ----------
    text : str
        Any text.
    lower : bool, default False
        Lower-case the text first.

    Returns
    -------
    list of str
        One token per character, so ``"".join(tokens)`` gives the text back.

    Raises
    ------
    DataError
        When `text` is not a str.

    Examples
    --------
    >>> char_tokenize("Ab c")
    ['A', 'b', ' ', 'c']
    >>> char_tokenize("Ab c", lower=True)
    ['a', 'b', ' ', 'c']
    """
    _check_text(text)
    if lower:
        text = text.lower()
    return list(text)


def get_tokenizer(level: str, lower: bool | None = None) -> Callable[[str], list[str]]:
    """Return the tokenizer for a level.

    Parameters
    ----------
    level : {"word", "char"}
        Token level (the CLI's ``--level``).
    lower : bool, optional
        Lower-case before tokenising; by default each level's own default (words are
        lower-cased, characters are not).

    Returns
    -------
    callable
        ``tokenize(text) -> list[str]``.

    Raises
    ------
    ConfigError
        For any other level.

    Examples
    --------
    >>> get_tokenizer("char")("Ok")
    ['O', 'k']
    >>> get_tokenizer("char", lower=True)("Ok")
    ['o', 'k']
    >>> get_tokenizer("sentence")
    Traceback (most recent call last):
    ...
    rnnkit.errors.ConfigError: level: expected 'word' or 'char', got 'sentence'
    """
    tokenizers = {"word": word_tokenize, "char": char_tokenize}
    if not isinstance(level, str) or level not in tokenizers:
        raise ConfigError(f"level: expected 'word' or 'char', got {level!r}")
    tokenize = tokenizers[level]
    if lower is None:
        return tokenize
    return functools.partial(tokenize, lower=lower)


def _check_text(text: object) -> None:
    """DataError unless `text` is a str (bytes would tokenize into numbers, or fail)."""
    if not isinstance(text, str):
        hint = "; decode it first" if isinstance(text, (bytes, bytearray)) else ""
        raise DataError(f"text: expected a str, got {type(text).__name__}{hint}")
