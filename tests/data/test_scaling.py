"""Feature standardisation: fitted on training frames, applied unchanged, saved exactly."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from rnnkit.data.scaling import Standardizer
from rnnkit.errors import DataError, ModelFileError, ShapeError


def test_fit_pools_every_step_of_every_sequence() -> None:
    rng = np.random.default_rng(0)
    xs = [rng.normal(5.0, 3.0, size=(n, 4)) for n in (3, 9, 1, 6)]
    scaler = Standardizer.fit(xs)
    pooled = np.concatenate(xs)
    np.testing.assert_allclose(scaler.mean, pooled.mean(axis=0), rtol=1e-13)
    np.testing.assert_allclose(scaler.std, pooled.std(axis=0), rtol=1e-13)
    scaled = np.concatenate(scaler.transform(xs))
    np.testing.assert_allclose(scaled.mean(axis=0), 0.0, atol=1e-13)
    np.testing.assert_allclose(scaled.std(axis=0), 1.0, rtol=1e-13)
    back = scaler.inverse(scaler.transform(xs)[1])
    np.testing.assert_allclose(back, xs[1], rtol=1e-13)
    assert scaler.transform(xs, np.float32)[0].dtype == np.float32


def test_a_constant_feature_is_only_centred() -> None:
    scaler = Standardizer.fit([np.array([[1.0, 7.0], [3.0, 7.0]])])
    assert scaler.std[1] == 1.0
    np.testing.assert_array_equal(scaler.transform([np.array([[2.0, 9.0]])])[0], [[0.0, 2.0]])


@given(arrays(np.float64, st.tuples(st.integers(1, 20), st.integers(1, 4)),
              elements=st.floats(-1e6, 1e6)))  # fmt: skip
def test_json_round_trip_is_exact(x: np.ndarray) -> None:
    scaler = Standardizer.fit([x])
    again = Standardizer.from_dict(json.loads(json.dumps(scaler.to_dict())), "f.json")
    assert again == scaler
    assert np.isfinite(again.transform([x])[0]).all()


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ([1, 2], "an object with mean and std"),
        ({"mean": [0.0]}, "'std' must be a non-empty list"),
        ({"mean": [0.0], "std": [0.0]}, "every std must be positive"),
        ({"mean": [0.0, 1.0], "std": [1.0]}, "2 means but 1 stds"),
        ({"mean": [True], "std": [1.0]}, "not a finite number"),
        ({"mean": [1e400], "std": [1.0]}, "not a finite number"),
    ],
)
def test_malformed_records_are_model_file_errors(record, message) -> None:
    with pytest.raises(ModelFileError, match=f"f.json: .*{message}"):
        Standardizer.from_dict(record, "f.json")


def test_bad_requests() -> None:
    with pytest.raises(DataError, match="no sequences"):
        Standardizer.fit([])
    scaler = Standardizer.fit([np.zeros((2, 3))])
    with pytest.raises(ShapeError, match="sequence 1 has 2 features, the scaling was fitted on 3"):
        scaler.transform([np.zeros((4, 2))])
