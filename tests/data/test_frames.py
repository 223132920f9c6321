"""The real-valued sequence readers: long CSV frames and npz arrays, and their bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hostile import check_error, n_lines
from rnnkit.data.formats import frame_format, read_frame_file
from rnnkit.data.frames import check_sequences, read_frames, read_npz
from rnnkit.data.label_files import read_label_files
from rnnkit.errors import ConfigError, DataError, RnnkitError

VOWELS = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "japanese_vowels"
HEADER = "series_id,label,t,x1,x2\n"


def test_frames_per_sequence_and_per_step_labels(write) -> None:
    per_seq = read_frames(write("a.csv", HEADER + "s,1,1,3,4\ns,1,0,1,2\nq,2,0,5,6\n"))
    assert per_seq.ids == ["s", "q"] and per_seq.labels == ["1", "2"] and not per_seq.per_step
    np.testing.assert_array_equal(per_seq.sequences[0], [[1, 2], [3, 4]])  # ordered by t
    per_step = read_frames(write("b.csv", "seq_id,t,label,f\nu,0,sil,0.1\nu,1,a,0.2\n"))
    assert per_step.per_step and per_step.labels == [["sil", "a"]]
    assert per_step.features == ["f"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (HEADER + "s,1,0,1\n", r"f.csv:2: 4 fields, the header has 5"),
        (HEADER + "s,1,0,1,x\n", r"f.csv:2: x2: 'x' is not a number"),
        (HEADER + "s,1,0,1,2\ns,1,1,nan,2\n", r"sequence 's', step t=1: feature 1 is nan"),
        (HEADER + "s,1,0,1,inf\n", r"sequence 's', step t=0: feature 2 is inf"),
        (HEADER + "s,1,0,1,2\ns,1,0,3,4\n", r"f.csv:3: sequence 's' has step t=0 twice"),
        (HEADER + "s,1,0.5,1,2\n", r"f.csv:2: t: '0.5' is not an integer step"),
        ("id,label,t,x1\n", r"f.csv:1: the header has no sequence id column"),
        ("series_id,label,x1\n", r"f.csv:1: the header has no 't' column"),
        ("series_id,label,t\n", r"f.csv:1: no feature columns"),
        (HEADER, r"f.csv: no rows after the header"),
        ("", r"f.csv: empty file"),
    ],
)
def test_bad_frames_name_the_place(write, text: str, message: str) -> None:
    with pytest.raises(DataError, match=message):
        read_frames(write("f.csv", text))


def test_npz_round_trip_and_refusals(tmp_path: Path) -> None:
    X = np.arange(24, dtype=np.float32).reshape(2, 4, 3)
    path = tmp_path / "d.npz"
    np.savez(path, X=X, lengths=np.array([4, 2]), y=np.array(["up", "down"]))
    data = read_npz(path)
    assert data.labels == ["up", "down"] and [len(s) for s in data.sequences] == [4, 2]
    np.testing.assert_array_equal(data.sequences[1], X[1, :2])
    X[1, 3, 0] = np.nan  # a pad step: ignored
    np.savez(path, X=X, lengths=np.array([4, 2]), y=np.zeros((2, 4), int))
    assert read_npz(path).labels == [["0"] * 4, ["0"] * 2]

    def refused(message: str, **arrays) -> None:
        np.savez(path, **arrays)
        with pytest.raises(DataError, match=message):
            read_npz(path)

    X[0, 1, 2] = np.inf
    refused(r"sequence 0, step t=1: feature 3 is inf", X=X, lengths=np.array([4, 2]), y=np.zeros(2))
    ok = np.zeros((2, 4, 3))
    refused(r"sequence 1 has length 0", X=ok, lengths=np.array([4, 0]), y=np.zeros(2))
    refused(r"no array 'lengths'", X=ok, y=np.zeros(2))
    refused(r"y must be", X=ok, lengths=np.array([1, 1]), y=np.zeros(3))
    objects = np.empty(2, dtype=object)
    refused(r"not a readable npz file", X=ok, lengths=np.array([1, 1]), y=objects)
    with pytest.raises(DataError, match="no such file"):
        read_npz(tmp_path / "missing.npz")


def test_the_shared_japanese_vowels() -> None:
    if not (VOWELS / "JapaneseVowels_TRAIN.csv").exists():
        pytest.skip(f"Japanese Vowels data not found at {VOWELS}")
    train = read_frames(VOWELS / "JapaneseVowels_TRAIN.csv")
    test = read_frames(VOWELS / "JapaneseVowels_TEST.csv")
    assert (len(train), len(test)) == (270, 370)
    assert sorted(set(train.labels)) == [str(k) for k in range(1, 10)]
    assert len(train.features) == 12
    assert {len(s) for s in train.sequences + test.sequences} <= set(range(7, 30))


NAMES = VOWELS.parent / "names_by_language"


def test_label_files(tmp_path: Path) -> None:
    (tmp_path / "Greek.txt").write_text("Pappas\n\nDimas\n", encoding="utf-8")
    (tmp_path / "Czech.txt").write_text("Novák\n", encoding="utf-8")
    (tmp_path / "notes.md").write_text("not a label file\n")
    table = read_label_files(tmp_path)
    assert table.texts == ["Novák", "Pappas", "Dimas"]
    assert table.labels == ["Czech", "Greek", "Greek"]
    assert table.where(2) == f"{tmp_path / 'Greek.txt'}:3"
    (tmp_path / "Irish.txt").write_text("\n  \n")
    with pytest.raises(DataError, match=r"Irish.txt: an empty file"):
        read_label_files(tmp_path)
    with pytest.raises(DataError, match="no such directory"):
        read_label_files(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match=r"a directory without <Label>.txt files"):
        read_label_files(tmp_path / "empty")


def test_the_shared_names_by_language() -> None:
    if not NAMES.is_dir():
        pytest.skip(f"names data not found at {NAMES}")
    table = read_label_files(NAMES)
    assert len(set(table.labels)) == 18
    assert len(table) == 18024


def test_check_sequences() -> None:
    xs = check_sequences([np.array([1.0, 2.0]), [[3.0], [4.0], [5.0]]])
    assert [x.shape for x in xs] == [(2, 1), (3, 1)] and xs[0].dtype == np.float64
    for bad, message in [
        ([np.zeros((2, 2)), np.zeros((0, 2))], r"sequence 2 has no steps"),
        ([np.zeros((2, 2)), np.zeros((2, 3))], r"sequence 2 has 3 features, expected 2"),
        ([np.zeros((2, 2, 2))], r"sequence 1: expected \(T, F\) frames"),
        ([np.array([[1.0, -np.inf]])], r"sequence 1, step t=0: feature 2 is -inf"),
        ([["a", "b"]], r"sequence 1: not an array of numbers"),
        (np.zeros(3), r"a list of \(T, F\) arrays"),
        ([], r"no sequences"),
    ]:
        with pytest.raises(DataError, match=message):
            check_sequences(bad)
    with pytest.raises(DataError, match="expected 4"):
        check_sequences([np.zeros((2, 3))], n_features=4)


def test_subset_and_alignment(write) -> None:
    frames = read_frames(write("a.csv", "seq_id,t,label,b,a\nu,0,x,1,2\nv,0,y,3,4\nw,0,x,5,6\n"))
    part = frames.subset([2, 0])
    assert part.ids == ["w", "u"] and part.labels == ["x", "x"]
    assert part.where(0).endswith("a.csv: sequence 'w'")
    swapped = frames.aligned(["a", "b"])
    np.testing.assert_array_equal(swapped.sequences[1], [[4, 3]])
    assert swapped.features == ["a", "b"]
    generic = frames.aligned(["x1", "x2"])  # an npz-trained model: by position
    np.testing.assert_array_equal(generic.sequences[1], [[3, 4]])
    with pytest.raises(DataError, match=r"no feature column 'c'; the model reads a, c"):
        frames.aligned(["a", "c"])


def test_frame_format_is_inferred_from_name_and_header(write, tmp_path: Path) -> None:
    assert frame_format(write("a.csv", "\ufeffseries_id,t,label,x\n")) == "frames"
    assert frame_format(write("b.csv", "text,label\ngood,pos\n")) is None
    assert frame_format(tmp_path / "c.npz") == "npz"
    assert frame_format(write("d.txt", "series_id,t,label,x\n")) is None
    assert frame_format(write("e.txt", "anything"), "frames") == "frames"
    assert frame_format(tmp_path / "c.npz", "table") is None
    with pytest.raises(DataError, match="name the format with --format"):
        read_frame_file(write("b.csv", "text,label\ngood,pos\n"))
    with pytest.raises(ConfigError, match="--format table"):
        read_frame_file(tmp_path / "c.npz", "table")


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.binary(max_size=300) | st.text(alphabet='st_id,label\n"0123.e-x\x00 ', max_size=200))
def test_any_bytes_give_frames_or_a_data_error(tmp_path: Path, contents) -> None:
    path = tmp_path / "f.csv"
    header = b"series_id,t,label,x\n"
    path.write_bytes(header + (contents if isinstance(contents, bytes) else contents.encode()))
    npz = tmp_path / "f.npz"
    npz.write_bytes(path.read_bytes())
    with pytest.raises(DataError, match=r"f\.npz: not a readable npz file \(File is not a zip"):
        read_npz(npz)
    try:
        frames = read_frames(path)
    except RnnkitError as exc:
        check_error(exc, str(path), n_lines(path.read_bytes()))
        return
    assert all(np.isfinite(x).all() and len(x) for x in frames.sequences)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.binary(max_size=200))
def test_any_bytes_in_a_label_file_give_texts_or_a_data_error(tmp_path: Path, contents) -> None:
    (tmp_path / "Czech.txt").write_bytes(contents)
    try:
        table = read_label_files(tmp_path)
    except RnnkitError as exc:
        check_error(exc, str(tmp_path))
        return
    assert table.texts and all(t.strip() for t in table.texts)
    assert set(table.labels) == {"Czech"}
