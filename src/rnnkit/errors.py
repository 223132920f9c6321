"""Exceptions raised by rnnkit.

Every error a user can cause is an :class:`RnnkitError`, itself a ``ValueError``, so
``except ValueError`` keeps working. Messages name the file, line or argument at
fault, in one line; the command line prints them as ``error: ...`` with exit code 2.

>>> from rnnkit.errors import DataError, RnnkitError
>>> issubclass(DataError, RnnkitError) and issubclass(DataError, ValueError)
True
>>> str(DataError("reviews.csv:3: empty text"))
'reviews.csv:3: empty text'
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "DataError",
    "ModelFileError",
    "NumericalError",
    "RnnkitError",
    "ShapeError",
    "VocabularyError",
    "one_line",
]


class RnnkitError(ValueError):
    """Base class of every error a user's input can cause."""


class DataError(RnnkitError):
    """A data file or array that cannot be read or used (names file and line)."""


class VocabularyError(RnnkitError):
    """A vocabulary that is malformed, or a token or id it cannot map."""


class ConfigError(RnnkitError):
    """An argument or configuration value out of its range."""


class ModelFileError(RnnkitError):
    """A model directory that is missing a file, corrupt, or of an unknown version."""


class NumericalError(RnnkitError):
    """Training produced a NaN or infinite loss or gradient (names the step)."""


class ShapeError(RnnkitError):
    """An array whose shape or dtype does not fit the layer or model."""


def one_line(exc: BaseException, limit: int = 200) -> str:
    """An exception's message folded onto one line (at most `limit` characters), for
    the one-line errors rnnkit gives when a library it calls fails on a user's file."""
    return " ".join(str(exc).split())[:limit] or type(exc).__name__
