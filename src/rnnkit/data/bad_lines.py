"""What a reader does with a line it cannot read: stop (the default), or leave it out.

Real files are dirty: a tweet corpus may hold a token that was whitespace, a table a
row whose text is empty. The readers of line formats (``table``, ``conll``, ``pairs``)
take ``on_bad_lines``, as pandas' ``read_csv`` does:

- ``"error"``: the first bad line is a :class:`~rnnkit.errors.DataError` naming its
  file and line, and the flag that would leave it out;
- ``"warn"`` and ``"skip"``: the line is left out and recorded in the result's
  ``skipped`` (``"line 40: empty token before the tab"``); the command line prints
  each with ``warn``, and one summary line either way (:func:`skipped_summary`).

>>> bad = BadLines("skip", "tweets.conll")
>>> bad.add(40, "empty token before the tab")
>>> skipped_summary("tweets.conll", bad.skipped)
'skipped 1 bad line of tweets.conll (first: line 40: empty token before the tab)'
>>> BadLines("error", "tweets.conll").add(40, "empty token before the tab")
Traceback (most recent call last):
...
rnnkit.errors.DataError: tweets.conll:40: empty token before the tab (--on-bad-lines skip leaves such lines out)
"""  # noqa: E501

from __future__ import annotations

from collections.abc import Sequence

from rnnkit.errors import ConfigError, DataError

__all__ = ["ON_BAD_LINES", "BadLine", "BadLines", "check_on_bad_lines", "skipped_summary"]

#: the choices of ``on_bad_lines`` (``--on-bad-lines``), the strict one first
ON_BAD_LINES = ("error", "warn", "skip")


class BadLine(Exception):
    """Raised by a line's parser with what is wrong with it; the reader hands it to
    :meth:`BadLines.add`, which decides. Never leaves a reader."""


def check_on_bad_lines(on_bad_lines: str | None) -> str:
    """`on_bad_lines`, one of :data:`ON_BAD_LINES` (None, a flag not given: ``"error"``)."""
    if on_bad_lines is None:
        return "error"
    if on_bad_lines not in ON_BAD_LINES:
        raise ConfigError(
            f"on_bad_lines={on_bad_lines!r}: use {', '.join(map(repr, ON_BAD_LINES))}"
        )
    return on_bad_lines


class BadLines:
    """The bad lines of one file, under one policy (see the module docstring)."""

    def __init__(self, on_bad_lines: str | None, source: str) -> None:
        self.policy = check_on_bad_lines(on_bad_lines)
        self.source = source
        self.skipped: list[str] = []

    def add(self, line: int, problem: str) -> None:
        """Line `line` cannot be read because of `problem`: a DataError, or recorded."""
        if self.policy == "error":
            raise DataError(
                f"{self.source}:{line}: {problem} (--on-bad-lines skip leaves such lines out)"
            )
        self.skipped.append(f"line {line}: {problem}")


def skipped_summary(source: str, skipped: Sequence[str]) -> str:
    """The one line that says how many lines of `source` were left out, and the first."""
    n = len(skipped)
    lines = "1 bad line" if n == 1 else f"{n:,} bad lines"
    return f"skipped {lines} of {source} (first: {skipped[0]})"
