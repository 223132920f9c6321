"""Hostile inputs for the fuzz tests of rnnkit's readers, and the one check they share.

Every reader must take any bytes (or any string) and either return something sound or
raise an :class:`~rnnkit.errors.RnnkitError` whose message is one line starting with
the file (or argument) at fault and, where it names a line, a line the file has.

Inputs mix raw bytes with *near-valid* ones: files assembled from the pieces parsers
trip over (delimiters, quotes, ``\\r``, NEL, NUL, a byte-order mark, invalid UTF-8,
numbers too long for ``int``, a field over the csv module's limit).

Every input is built from one byte string that Hypothesis draws (:func:`drawn`): each
choice reads the next byte (:class:`Draw`). One draw is the cheapest thing Hypothesis
makes (a few small draws per example cost it twice as much, in bookkeeping), it
shrinks well, and the reader's own work per example is far smaller still.

>>> d = Draw(b"\\x01\\x02ab")
>>> d.pick("xyz"), d.pick([10, 20]), d.rest((b"0", b"1"))
('y', 10, b'10')
>>> n_lines(b"a\\r\\nb\\rc\\n")
4
>>> from rnnkit.errors import DataError
>>> check_error(DataError("f.csv:2: empty text"), "f.csv", n_lines(b"a\\nb"))
>>> check_error(DataError("f.csv:9: empty text"), "f.csv", 2)
Traceback (most recent call last):
...
AssertionError: line 9 of a 2-line file: 'f.csv:9: empty text'...
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from rnnkit.errors import RnnkitError

__all__ = [
    "ALPHABET",
    "ENCODINGS",
    "HUGE_FIELD",
    "PIECES",
    "TEXT_PIECES",
    "Draw",
    "check_error",
    "drawn",
    "fuzz",
    "hostile_bytes",
    "hostile_text",
    "json_value",
    "n_lines",
]

T = TypeVar("T")

#: pieces of text files that parsers trip over, as bytes (several are not UTF-8)
PIECES: tuple[bytes, ...] = (
    b"a",
    b"Bc",
    b"0",
    b"1",
    b"2",
    b"-1",
    b"1.5",
    b"1e999",
    b"nan",
    b"_",
    b"#",
    b"-",
    b".",
    b" ",
    b"\t",
    b",",
    b'"',
    b"'",
    b"\n",
    b"\r",
    b"\r\n",
    b"\n\n",
    b"\x00",
    b"\x0b",
    b"\x0c",
    b"\x1c",
    b"\x85",  # NEL in latin-1, a stray continuation byte in UTF-8
    "\x85\u2028".encode(),  # the Unicode line breaks str.splitlines also breaks at
    b"\xef\xbb\xbf",  # a byte-order mark
    b"\xff",
    b"\xc3",  # a truncated two-byte sequence
    b"\xed\xa0\x80",  # an encoded surrogate: not UTF-8
    b"\xc0\x80",  # an overlong NUL: not UTF-8
    "é😀".encode(),
    b"<unk>",
    b"<eos>",
    b"9" * 5000,  # over int()'s 4300-digit limit
)

#: the pieces as text (decoded as latin-1, so every byte is a character), short ones only
TEXT_PIECES: tuple[str, ...] = tuple(p.decode("latin-1") for p in PIECES if len(p) < 100)

#: a field one character over the csv module's default field_size_limit
HUGE_FIELD = b"x" * 131073

#: text encodings a user may give, good and bad (codecs that are not text encodings,
#: codecs that raise a bare UnicodeError, a name with a NUL)
ENCODINGS = (
    "utf-8",
    "latin-1",
    "utf-16",
    "utf-8-sig",
    "cp1252",
    "ascii",
    "utf-7",
    "idna",
    "punycode",
    "undefined",
    "rot13",
    "hex",
    "no-such-codec",
    "utf\x00-8",
    "",
)


#: characters for strings held in memory: ASCII with its control characters, then line
#: breaks str.splitlines knows, lone surrogates, a BOM, letters whose case changes their
#: length, combining marks, digits of other scripts, emoji, and latin-1 up to 256 in all
ALPHABET: tuple[str, ...] = tuple(
    [chr(i) for i in range(128)]
    + list("\x85\xa0\u2028\u2029\ud800\udbff\udc00\udfff\ufeff\u0130\xdf\ufb01\u0301\u0663")
    + list("\u3000\u200b\U0001f600\U0010ffff\uffff\ufffd\u1680\u180e")
    + [chr(i) for i in range(0xA1, 0xA1 + 106)]
)
assert len(ALPHABET) == 256


def fuzz(n: int) -> Any:
    """Hypothesis settings of a fuzz test: `n` examples, no deadline, a shared tmp dir."""
    return settings(
        max_examples=n,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


class Draw:
    """Choices read one byte at a time from a byte string (0 once it is used up)."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.at = 0

    def byte(self) -> int:
        value = self.data[self.at] if self.at < len(self.data) else 0
        self.at += 1
        return value

    def pick(self, options: Sequence[T]) -> T:
        """One of `options`."""
        return options[self.byte() % len(options)]

    def one_in(self, n: int) -> bool:
        """True about one time in `n`."""
        return self.byte() % n == n - 1

    def raw(self, n: int) -> bytes:
        """The next `n` bytes as they are (fewer at the end)."""
        part = self.data[self.at : self.at + n]
        self.at += n
        return part

    def join(self, table: Sequence[Any], n: int) -> Any:
        """Up to `n` entries of `table` (str or bytes), joined."""
        return table[0][:0].join(self.pick(table) for _ in range(min(n, self.left())))

    def rest(self, table: Sequence[Any]) -> Any:
        """Every byte left, each one an entry of `table`, joined."""
        return self.join(table, self.left())

    def left(self) -> int:
        return max(len(self.data) - self.at, 0)


def drawn(build: Callable[[Draw], T], max_size: int = 120) -> st.SearchStrategy[T]:
    """Inputs `build` makes from one drawn byte string of at most `max_size` bytes.

    The string is drawn at its full size and its first byte says how much of the rest
    is used: every length is then as likely as any other, where Hypothesis on its own
    makes byte strings of five or so. Shrinking still ends at the shortest input.
    """

    def build_from(data: bytes) -> T:
        used = data[0] * (max_size + 1) // 256
        return build(Draw(data[1 : 1 + used]))

    return st.binary(min_size=max_size + 1, max_size=max_size + 1).map(build_from)


def hostile_bytes(d: Draw, huge: bool = False) -> bytes:
    """Raw bytes, or near-valid bytes joined from :data:`PIECES`; with `huge`, one time
    in 20 followed by a field over the csv module's limit."""
    data = d.rest(PIECES) if d.byte() % 2 else d.raw(d.left())
    return data + HUGE_FIELD if huge and d.one_in(20) else data


def hostile_text(d: Draw) -> str:
    """Any string a caller can hold, lone surrogates included."""
    if d.byte() % 2:
        return d.rest(ALPHABET)
    return d.rest((*TEXT_PIECES, "\ud800", "\udfff"))


#: strings for JSON-like values: specials, the empty string, odd characters
JSON_STRINGS = ("<pad>", "<unk>", "<sos>", "<eos>", "a", "b", "", " ", "\x00", "é", "\n")


def json_value(d: Draw, depth: int = 0) -> Any:
    """A JSON-like value: None, bools, numbers (huge, NaN, infinite), strings, lists and
    dicts, nested at most three deep."""
    kind = d.byte() % (10 if depth < 3 else 7)
    if kind < 7:
        return (
            None,
            d.byte() % 2 == 1,
            d.pick([0, 1, -1, 3, 2**70, -(2**63)]),
            d.pick([0.5, -0.0, float("nan"), float("inf"), 1e308]),
            d.pick(JSON_STRINGS),
            d.join(JSON_STRINGS, 3),
            d.pick(JSON_STRINGS),
        )[kind]
    items = [json_value(d, depth + 1) for _ in range(d.byte() % 4)]
    if kind == 9:
        return {d.pick(("tokens", "specials", "a", "")): v for v in items}
    return items


def n_lines(data: bytes) -> int:
    """Lines of a file as editors count them: ``\\r\\n``, ``\\r`` and ``\\n`` end a line."""
    return len(re.split(rb"\r\n|\r|\n", data))


def check_error(exc: BaseException, where: str, lines: int | None = None) -> None:
    """Assert that `exc` is an RnnkitError of one line, naming `where` and a real line."""
    message = str(exc)
    assert isinstance(exc, RnnkitError), f"{type(exc).__name__}: {message}"
    assert message.startswith(where), f"{message!r} does not start with {where!r}"
    assert "\n" not in message and "\r" not in message, f"not one line: {message!r}"
    found = re.match(re.escape(where) + r":(\d+):", message)
    if lines is not None and found:
        line = int(found.group(1))
        assert 1 <= line <= lines, f"line {line} of a {lines}-line file: {message!r}"
