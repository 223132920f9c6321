"""Fuzz: real-valued sequences (frames CSV and npz) from near-valid files.

tests/data/test_frames.py already feeds raw bytes after a valid header to both
readers; here the frames CSV gets odd headers and odd cells (numbers too long, NaN,
NUL, quotes, line ends, invalid UTF-8) and the npz reader gets real zip archives whose
members are arrays of any shape and dtype, raw bytes, lying headers and pickles.
"""

from __future__ import annotations

import io
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given

from hostile import Draw, check_error, drawn, fuzz, n_lines
from rnnkit.data.frames import FrameSet, read_frames, read_npz
from rnnkit.errors import DataError, RnnkitError

#: cells of a frames CSV: numbers good and bad, ids, labels, separators, line ends
CELLS = (
    b"0",
    b"1",
    b"2",
    b"-1",
    b"0.5",
    b"1e3",
    b"1e999",
    b"nan",
    b"-inf",
    b"1_0",
    b" 2 ",
    b"\xd9\xa1",  # ARABIC-INDIC DIGIT ONE: int() reads it
    b"9" * 5000,
    b"a",
    b"yes",
    b"",
    b",",
    b",,",
    b'"',
    b'"1,2"',
    b"\n",
    b"\r\n",
    b"\r",
    b"\x00",
    b"\x85",
    b"\xff",
    b"\xef\xbb\xbf",
)
HEADERS = (
    b"series_id,t,label,x1,x2\n",
    b"seq_id,label,t,x\n",
    b"series_id,seq_id,t,label,x\n",
    b"series_id,t,label\n",
    b"t,label,x\n",
    b"series_id,t,t,label,x\n",
    b'"series_id","t","label","x"\r\n',
    b"\xef\xbb\xbfseries_id , t , label , x\n",
)


def check_frames(frames: FrameSet) -> None:
    assert len(frames.sequences) == len(frames.labels) == len(frames.ids) >= 1
    width = len(frames.features)
    assert width >= 1
    for x, label in zip(frames.sequences, frames.labels, strict=True):
        assert x.dtype == np.float64 and x.ndim == 2 and len(x) >= 1 and x.shape[1] == width
        assert np.isfinite(x).all()
        if isinstance(label, list):
            assert len(label) == len(x)


@fuzz(1000)
@given(drawn(lambda d: d.pick(HEADERS) + d.rest(CELLS), 50))
def test_near_valid_frames(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes(data)
    try:
        frames = read_frames(path)
    except RnnkitError as exc:
        check_error(exc, str(path), n_lines(data))
    else:
        check_frames(frames)


# -- npz ---------------------------------------------------------------------------------


def npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=True)
    return buffer.getvalue()


def lying_npy(shape: tuple[int, ...], dtype: str, payload: bytes) -> bytes:
    """An .npy whose header declares `shape` and `dtype` over whatever `payload` holds."""
    header = repr({"descr": dtype, "fortran_order": False, "shape": shape}).encode()
    header += b" " * (-(len(header) + 11) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header + payload


DTYPES = ("<f8", "<f4", "<i8", "<u2", "|b1", "<c16", "<U3", "|S2", "<M8[s]")
FILLS = (0, 1, 2, 3, -1, np.nan, np.inf)
#: member names: the three arrays, without their suffix, outside the archive, unknown
NAMES = ("X.npy", "lengths.npy", "y.npy", "X", "y", "../X.npy", "Z.npy")


def array(d: Draw) -> np.ndarray:
    """An array of 0 to 3 dimensions of 0 to 4, of any dtype, filled with one value."""
    shape = tuple(d.byte() % 5 for _ in range(d.byte() % 4))
    with np.errstate(invalid="ignore"):  # NaN cast to an integer type
        return np.full(shape, d.pick(FILLS)).astype(d.pick(DTYPES))


def member(d: Draw) -> bytes:
    """An .npy of any array, a pickle, an .npy whose header lies, or raw bytes."""
    kind = d.byte() % 4
    if kind == 0:
        return npy(array(d))
    if kind == 1:
        return npy(np.array([{"a": 1}], dtype=object))  # a pickle inside
    if kind == 2:
        shape = d.pick([(2**40,), (2**31, 2**31), (3, 4, 2), (-1,), (2,)])
        return lying_npy(shape, d.pick(["<f8", "<i8", "O", "<f8x", "zz"]), d.raw(d.byte() % 64))
    return d.raw(d.byte() % 64)


def zipped(entries: list[tuple[str, bytes]], compress: bool, cut: int) -> bytes:
    buffer = io.BytesIO()
    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(buffer, "w", method) as archive, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a name twice: hostile, and allowed in a zip
        for name, data in entries:
            archive.writestr(name, data)
    data = buffer.getvalue()
    return data[: len(data) - cut] if cut else data


#: a realistic archive, then one of its arrays swapped for a hostile member
valid_arrays = {
    "X.npy": npy(np.arange(24, dtype=np.float64).reshape(2, 4, 3)),
    "lengths.npy": npy(np.array([4, 2])),
    "y.npy": npy(np.array(["a", "b"])),
}


def archive(d: Draw) -> bytes:
    """A zip archive of hostile members, alone or in place of a valid file's arrays,
    stored or deflated, whole or cut short."""
    entries = [(d.pick(NAMES), member(d)) for _ in range(d.byte() % 5)]
    if d.byte() % 2:
        entries = list({**valid_arrays, **dict(entries)}.items())
    return zipped(entries, d.byte() % 2 == 1, d.pick([0, 0, 0, 1, 22, 100]))


@fuzz(700)
@given(drawn(archive, 120))
def test_any_npz_archive(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "f.npz"
    path.write_bytes(data)
    try:
        frames = read_npz(path)
    except RnnkitError as exc:
        check_error(exc, str(path))
    else:
        check_frames(frames)


@fuzz(200)
@given(drawn(lambda d: npy(array(d)) if d.byte() % 2 else b"\x93NUMPY\x01\x00" + d.raw(200), 200))
def test_an_npy_or_damaged_npy_under_an_npz_name(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "f.npz"
    path.write_bytes(data)
    with pytest.raises(RnnkitError) as info:
        read_npz(path)
    check_error(info.value, str(path))


# -- regressions: inputs the fuzz tests found ---------------------------------------------


def test_an_npy_file_named_npz(tmp_path: Path) -> None:
    path = tmp_path / "f.npz"
    path.write_bytes(npy(np.zeros((2, 3, 1))))
    with pytest.raises(DataError) as info:
        read_npz(path)
    assert str(info.value) == f"{path}: an .npy array, not an npz archive of X, lengths and y"


def test_an_archive_member_that_is_not_an_array(tmp_path: Path) -> None:
    path = tmp_path / "f.npz"
    entries = [("X", b"raw"), ("lengths.npy", valid_arrays["lengths.npy"])]
    path.write_bytes(zipped(entries, False, 0))
    with pytest.raises(DataError) as info:
        read_npz(path)
    assert str(info.value) == f"{path}: not a readable npz file (X: no .npy suffix)"


def test_a_pickle_inside(tmp_path: Path) -> None:
    path = tmp_path / "f.npz"
    entries = {**valid_arrays, "y.npy": npy(np.array([{"a": 1}, None], dtype=object))}
    path.write_bytes(zipped(list(entries.items()), False, 0))
    with pytest.raises(DataError, match=r"f\.npz: not a readable npz file \(y: Object arrays"):
        read_npz(path)


def test_a_member_declaring_a_huge_array(tmp_path: Path) -> None:
    path = tmp_path / "f.npz"
    entries = {**valid_arrays, "X.npy": lying_npy((2**40, 2**20), "<f8", b"")}
    path.write_bytes(zipped(list(entries.items()), True, 0))
    with pytest.raises(DataError) as info:
        read_npz(path)
    assert str(info.value) == (
        f"{path}: not a readable npz file (X: the header declares "
        "9,223,372,036,854,775,808 bytes of data, the member holds 0)"
    )


def test_a_damaged_archive(tmp_path: Path) -> None:
    path = tmp_path / "f.npz"
    path.write_bytes(zipped(list(valid_arrays.items()), True, 22))
    with pytest.raises(DataError, match=r"^.*f\.npz: not a readable npz file"):
        read_npz(path)


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ({"X.npy": npy(np.zeros((0, 4, 3))), "lengths.npy": npy(np.zeros(0, int))}, "no sequences"),
        ({"X.npy": npy(np.zeros((2, 4, 0)))}, "no features"),
    ],
)
def test_an_archive_without_sequences_or_features(tmp_path: Path, arrays, message) -> None:
    path = tmp_path / "f.npz"
    entries = {**valid_arrays, "y.npy": npy(np.array(["a", "b"])), **arrays}
    if "lengths.npy" in arrays:
        entries["y.npy"] = npy(np.zeros(0))
    path.write_bytes(zipped(list(entries.items()), False, 0))
    with pytest.raises(DataError, match=message):
        read_npz(path)
