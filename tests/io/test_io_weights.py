"""save_weights / load_weights round-trip exactly and refuse every malformed file by name."""

from __future__ import annotations

import os
import pickle
import struct

import numpy as np
import pytest
import safetensors.numpy

from rnnkit.errors import ConfigError, ModelFileError, ShapeError
from rnnkit.io import expect_shapes, load_weights, read_weights_metadata, save_weights


def _bits(array: np.ndarray) -> bytes:
    return array.dtype.str.encode() + str(array.shape).encode() + array.tobytes()


def test_round_trip_is_bit_exact(weights_path, arrays):
    loaded = load_weights(weights_path)
    assert sorted(loaded) == sorted(arrays)
    for name, array in arrays.items():
        assert _bits(loaded[name]) == _bits(array), name  # NaN, -0.0, subnormals included


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.int64])
@pytest.mark.parametrize("shape", [(), (0,), (0, 3), (7,), (2, 3, 4)])
def test_round_trip_dtypes_and_shapes(tmp_path, dtype, shape):
    array = np.arange(int(np.prod(shape)), dtype=dtype).reshape(shape) - 3
    save_weights(tmp_path / "w.safetensors", {"x": array})
    loaded = load_weights(tmp_path / "w.safetensors")["x"]
    assert loaded.dtype == dtype
    assert loaded.shape == shape
    assert _bits(loaded) == _bits(array)


def test_non_contiguous_and_big_endian_arrays_are_saved_by_value(tmp_path):
    base = np.arange(24, dtype=np.float64).reshape(4, 6)
    arrays = {"t": base.T, "s": base[::2, 1::3], "be": base.astype(">f4")}
    save_weights(tmp_path / "w.safetensors", arrays)
    loaded = load_weights(tmp_path / "w.safetensors")
    for name, array in arrays.items():
        np.testing.assert_array_equal(loaded[name], array)
        assert loaded[name].flags.c_contiguous


def test_loaded_arrays_are_writable_and_independent(weights_path):
    loaded = load_weights(weights_path)
    loaded["rnn.U"][0, 0] = 42.0
    loaded["rnn.W"] += 1.0
    assert load_weights(weights_path)["rnn.U"][0, 0] != 42.0


def test_metadata_round_trip(tmp_path, weights_path):
    assert read_weights_metadata(weights_path) == {}
    path = tmp_path / "m.safetensors"
    save_weights(path, {"x": np.zeros(1)}, metadata={"step": "120", "note": "é"})
    assert read_weights_metadata(path) == {"step": "120", "note": "é"}


@pytest.mark.parametrize("dtype", [np.float16, np.bool_, np.complex64, np.uint8, object])
def test_save_refuses_other_dtypes_and_writes_nothing(tmp_path, dtype):
    path = tmp_path / "w.safetensors"
    with pytest.raises(ShapeError) as info:
        save_weights(path, {"ok": np.zeros(2), "emb.E": np.zeros(2, dtype=dtype)})
    assert str(info.value).startswith(f"{path}: tensor 'emb.E' has dtype ")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["", "__metadata__", 3])
def test_save_refuses_bad_names(tmp_path, name):
    with pytest.raises(ConfigError, match="cannot name a tensor"):
        save_weights(tmp_path / "w.safetensors", {name: np.zeros(1)})


def test_save_refuses_non_text_metadata(tmp_path):
    with pytest.raises(ConfigError, match="metadata 'step': 3 is not a str to str entry"):
        save_weights(tmp_path / "w.safetensors", {"x": np.zeros(1)}, {"step": 3})


@pytest.mark.parametrize("target", ["serialiser", "replace"])
def test_failed_save_keeps_old_file(weights_path, monkeypatch, temp_files, target):
    before = weights_path.read_bytes()

    def fail(*args, **kwargs):
        raise OSError("simulated crash")

    if target == "serialiser":
        monkeypatch.setattr(safetensors.numpy, "save", fail)
    else:
        monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="simulated crash"):
        save_weights(weights_path, {"rnn.U": np.zeros((5, 3), np.float32)})
    monkeypatch.undo()
    assert weights_path.read_bytes() == before
    assert temp_files(weights_path.parent) == []


def test_load_missing(tmp_path):
    path = tmp_path / "weights.safetensors"
    with pytest.raises(ModelFileError) as info:
        load_weights(path)
    assert str(info.value) == f"{path}: missing"


def test_load_directory(tmp_path):
    with pytest.raises(ModelFileError, match="is a directory, expected a safetensors file"):
        load_weights(tmp_path)


def test_load_truncated_to_half(tmp_path):
    path = tmp_path / "weights.safetensors"
    save_weights(path, {"rnn.U": np.ones((100, 50))})
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    header_end = 8 + int.from_bytes(data[:8], "little")
    with pytest.raises(ModelFileError) as info:
        load_weights(path)
    assert str(info.value) == (
        f"{path}: truncated (tensors need 40000 bytes of data, "
        f"the file has {len(data) // 2 - header_end})"
    )


def test_load_truncated_inside_the_header(weights_path):
    data = weights_path.read_bytes()
    weights_path.write_bytes(data[:40])
    with pytest.raises(ModelFileError) as info:
        load_weights(weights_path)
    size = int.from_bytes(data[:8], "little")
    assert str(info.value) == (
        f"{weights_path}: truncated or not a safetensors file "
        f"(header length {size} but only 32 bytes follow)"
    )


def test_load_truncated_inside_the_length(weights_path):
    weights_path.write_bytes(weights_path.read_bytes()[:5])
    with pytest.raises(ModelFileError) as info:
        load_weights(weights_path)
    assert str(info.value) == (
        f"{weights_path}: truncated or not a safetensors file "
        "(5 bytes, too short to hold a header length)"
    )


def test_load_flipped_header_bytes(weights_path):
    data = bytearray(weights_path.read_bytes())
    for i in range(8, 20):
        data[i] ^= 0xFF
    weights_path.write_bytes(bytes(data))
    with pytest.raises(ModelFileError) as info:
        load_weights(weights_path)
    assert str(info.value) == f"{weights_path}: not a valid safetensors file (header is not JSON)"


def test_load_huge_header_length(weights_path):
    data = weights_path.read_bytes()
    weights_path.write_bytes(struct.pack("<Q", 2**63 + 5) + data[8:])
    with pytest.raises(ModelFileError) as info:
        load_weights(weights_path)
    rest = len(data) - 8
    assert str(info.value) == (
        f"{weights_path}: truncated or not a safetensors file "
        f"(header length {2**63 + 5} but only {rest} bytes follow)"
    )


def test_load_header_that_is_not_an_object(tmp_path, raw_safetensors):
    path = tmp_path / "w.safetensors"
    path.write_bytes(raw_safetensors([1, 2]))  # type: ignore[arg-type]
    with pytest.raises(ModelFileError, match=r"\(header is not an object\)$"):
        load_weights(path)


def test_load_inconsistent_offsets(tmp_path, raw_safetensors):
    # 3 float32 need 12 bytes; the header claims 8 and the file has 8.
    header = {"rnn.b": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}
    path = tmp_path / "w.safetensors"
    path.write_bytes(raw_safetensors(header, bytes(8)))
    with pytest.raises(ModelFileError) as info:
        load_weights(path)
    assert str(info.value).startswith(f"{path}: not a valid safetensors file (")
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(("dtype", "size"), [("BF16", 2), ("F16", 2), ("U8", 1), ("BOOL", 1)])
def test_load_refuses_other_dtypes_naming_the_tensor(tmp_path, raw_safetensors, dtype, size):
    header = {
        "rnn.U": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
        "emb.E": {"dtype": dtype, "shape": [2], "data_offsets": [4, 4 + 2 * size]},
    }
    path = tmp_path / "w.safetensors"
    path.write_bytes(raw_safetensors(header, bytes(4 + 2 * size)))
    with pytest.raises(ModelFileError) as info:
        load_weights(path)
    assert str(info.value) == (
        f"{path}: tensor 'emb.E' has dtype {dtype} (rnnkit reads F32, F64, I32, I64)"
    )


def test_load_refuses_float16_written_by_safetensors_itself(tmp_path):
    path = tmp_path / "w.safetensors"
    path.write_bytes(safetensors.numpy.save({"emb.E": np.zeros(2, np.float16)}))
    with pytest.raises(ModelFileError, match=r"tensor 'emb\.E' has dtype F16"):
        load_weights(path)


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_pickle_renamed_is_refused_without_running_it(tmp_path, pickle_bomb, protocol):
    # The payload is live: unpickling it does create its marker.
    proof = tmp_path / "proof"
    pickle.loads(pickle_bomb(proof, protocol))
    assert proof.exists()

    marker = tmp_path / "marker"
    path = tmp_path / "weights.safetensors"
    path.write_bytes(pickle_bomb(marker, protocol))
    with pytest.raises(ModelFileError, match=r"weights\.safetensors: "):
        load_weights(path)
    with pytest.raises(ModelFileError, match=r"weights\.safetensors: "):
        read_weights_metadata(path)
    assert not marker.exists()


def test_corrupt_metadata_is_refused(tmp_path, raw_safetensors):
    path = tmp_path / "w.safetensors"
    path.write_bytes(raw_safetensors({"__metadata__": {"step": 3}}))
    with pytest.raises(ModelFileError, match="metadata is not str to str"):
        read_weights_metadata(path)


def test_expect_shapes_accepts_exact_match(arrays):
    expect_shapes(arrays, {name: a.shape for name, a in arrays.items()}, "w.safetensors")


def test_expect_shapes_reports_every_problem_on_one_line(arrays):
    expected = {name: a.shape for name, a in arrays.items() if name != "dense.c"}
    expected.update({"rnn.U": (5, 4), "rnn.b": (3, 1), "lstm.W": (3, 12), "lstm.U": (5, 12)})
    with pytest.raises(ModelFileError) as info:
        expect_shapes(arrays, expected, "m/weights.safetensors")
    assert str(info.value) == (
        "m/weights.safetensors: missing tensors 'lstm.W', 'lstm.U'; "
        "unexpected tensor 'dense.c'; "
        "tensor 'rnn.U' has shape (5, 3), expected (5, 4); "
        "tensor 'rnn.b' has shape (3,), expected (3, 1)"
    )


def test_expect_shapes_only_missing(arrays):
    expected = {name: a.shape for name, a in arrays.items()}
    expected["rnn.h0"] = (3,)
    with pytest.raises(ModelFileError, match=r"^w: missing tensor 'rnn\.h0'$"):
        expect_shapes(arrays, expected, "w")
