"""Hypothesis: no byte string under a safetensors name makes load_weights raise anything
but ModelFileError (and never a message of more than one line)."""

from __future__ import annotations

import numpy as np
import safetensors.numpy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rnnkit.errors import ModelFileError
from rnnkit.io import load_weights


def _assert_only_model_file_error(data: bytes, directory) -> None:
    path = directory / "weights.safetensors"
    path.write_bytes(data)
    try:
        loaded = load_weights(path)
    except ModelFileError as exc:
        assert str(path) in str(exc)
        assert "\n" not in str(exc)
    else:
        assert all(isinstance(a, np.ndarray) for a in loaded.values())


_fuzz = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_fuzz
@given(data=st.binary(max_size=512))
def test_fuzz_random_bytes(tmp_path_factory, data):
    _assert_only_model_file_error(data, tmp_path_factory.mktemp("fuzz"))


@_fuzz
@given(cut=st.integers(0, 400), flips=st.lists(st.tuples(st.integers(0, 400), st.integers(1, 255))))
def test_fuzz_damaged_valid_file(tmp_path_factory, cut, flips):
    arrays = {"a": np.arange(6, dtype=np.float32).reshape(2, 3), "b": np.ones(4)}
    data = bytearray(safetensors.numpy.save(arrays, metadata={"k": "v"}))
    for position, mask in flips:
        data[position % len(data)] ^= mask
    _assert_only_model_file_error(
        bytes(data[: len(data) - cut % len(data)]), tmp_path_factory.mktemp("fuzz")
    )


_entry = st.fixed_dictionaries(
    {
        "dtype": st.sampled_from(["F32", "F64", "I32", "I64", "F16", "X"]) | st.integers(),
        "shape": st.lists(st.integers(-2, 4), max_size=3) | st.none(),
        "data_offsets": st.lists(st.integers(-2, 70), min_size=0, max_size=3) | st.text(),
    }
)


@_fuzz
@given(
    header=st.dictionaries(st.text(max_size=4), _entry | st.integers(), max_size=3),
    payload=st.binary(max_size=64),
)
def test_fuzz_well_framed_headers(tmp_path_factory, raw_safetensors, header, payload):
    _assert_only_model_file_error(raw_safetensors(header, payload), tmp_path_factory.mktemp("fuzz"))
