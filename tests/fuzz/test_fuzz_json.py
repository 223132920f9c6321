"""Fuzz: ``read_json`` on any bytes and on near-valid JSON.

It returns plain JSON values, every number finite, or raises the error type it was
given, in one line naming the file.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given

from hostile import check_error, drawn, fuzz, hostile_bytes
from rnnkit.errors import DataError, ModelFileError, RnnkitError, VocabularyError
from rnnkit.io import read_json

JSON_PIECES = (
    b"{",
    b"}",
    b"[",
    b"]",
    b'"',
    b'"a"',
    b":",
    b",",
    b" ",
    b"\n",
    b"1",
    b"-0",
    b"0.5e-3",
    b"9" * 5000,  # over int()'s 4300-digit limit
    b"1e999",  # overflows to infinity
    b"-1e400",
    b"NaN",
    b"Infinity",
    b"true",
    b"null",
    b'"\\u0000"',
    b'"\\ud800"',
    b'"\\ud800\\udc00"',
    b'"\\x"',
    b"\xef\xbb\xbf",
    b"\xff",
    b"\xc3",
    b"\x00",
    b"[" * 3000,
)


def check_value(value: Any) -> None:
    """A plain JSON value: dicts with str keys, lists, str, int, finite float, bool, None."""
    if isinstance(value, dict):
        assert all(isinstance(k, str) for k in value)
        for v in value.values():
            check_value(v)
    elif isinstance(value, list):
        for v in value:
            check_value(v)
    elif isinstance(value, float):
        assert math.isfinite(value)
    else:
        assert value is None or isinstance(value, (str, int, bool))


def read_or_error(path: Path, data: bytes, error: type[RnnkitError]) -> None:
    path.write_bytes(data)
    try:
        value = read_json(path, error=error)
    except RnnkitError as exc:
        assert type(exc) is error
        check_error(exc, str(path))
    else:
        check_value(value)


@fuzz(800)
@given(drawn(lambda d: (d.pick([ModelFileError, DataError, VocabularyError]), hostile_bytes(d))))
def test_any_bytes(tmp_path: Path, case: tuple[type[RnnkitError], bytes]) -> None:
    error, data = case
    read_or_error(tmp_path / "c.json", data, error)


@fuzz(1200)
@given(drawn(lambda d: d.rest(JSON_PIECES), 30))
def test_near_valid_json(tmp_path: Path, data: bytes) -> None:
    read_or_error(tmp_path / "c.json", data, ModelFileError)


# -- regressions: inputs the fuzz tests found ---------------------------------------------


def test_an_integer_too_long_for_int(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text('{"units": ' + "9" * 5000 + "}", encoding="utf-8")
    with pytest.raises(ModelFileError) as info:
        read_json(path)
    assert str(info.value) == f"{path}: invalid JSON: a number of 5000 digits"


@pytest.mark.parametrize("number", ["1e999", "-1e400"])
def test_a_number_that_overflows_to_infinity(tmp_path: Path, number: str) -> None:
    path = tmp_path / "c.json"
    path.write_text(f'{{"lr": {number}}}', encoding="utf-8")
    with pytest.raises(ModelFileError) as info:
        read_json(path)
    assert str(info.value) == f"{path}: invalid JSON: {number} is not a finite number"


def test_a_path_holding_a_nul(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"c\x00\.json: missing$"):
        read_json(f"{tmp_path}/c\0.json", error=DataError)
