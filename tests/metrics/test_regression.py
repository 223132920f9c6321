"""RegressionReport against scikit-learn's definitions of the same figures."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rnnkit.errors import ShapeError
from rnnkit.metrics import RegressionReport


@pytest.mark.parametrize("k", [1, 3])
def test_figures_match_scikit_learn(k: int) -> None:
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(k)
    t = rng.normal(size=(50, k)) * [10.0, 1.0, 0.1][:k]
    y = t + rng.normal(scale=0.3, size=t.shape)
    r = RegressionReport.from_predictions(t, y)
    assert r.mse == pytest.approx(metrics.mean_squared_error(t, y), rel=1e-12)
    assert r.mae == pytest.approx(metrics.mean_absolute_error(t, y), rel=1e-12)
    assert r.r2 == pytest.approx(metrics.r2_score(t, y), rel=1e-12)  # uniform average
    assert r.rmse == pytest.approx(math.sqrt(r.mse))
    assert r.n == 50 and r.outputs == [f"y{i + 1}" for i in range(k)]
    np.testing.assert_allclose(r.per_output_mse, ((y - t) ** 2).mean(axis=0), rtol=1e-12)


def test_baseline_skill_and_json() -> None:
    t = np.array([1.0, 2.0, 3.0, 4.0])
    r = RegressionReport.from_predictions(t, t + 0.1, ["temp"], baseline=t - 1.0)
    assert r.baseline_mse == pytest.approx(1.0)
    assert r.skill == pytest.approx(1 - 0.01)
    d = r.to_dict()
    assert d["per_output_mse"] == {"temp": pytest.approx(0.01)} and d["skill"] == r.skill
    assert "baseline mse 1  skill 0.9900" in r.format()


def test_constant_targets_have_no_r2() -> None:
    r = RegressionReport.from_predictions(np.ones(4), np.zeros(4))
    assert math.isnan(r.r2) and r.to_dict()["r2"] is None and "r2 -" in r.format()


def test_shapes_must_agree() -> None:
    with pytest.raises(ShapeError, match="need equal"):
        RegressionReport.from_predictions(np.zeros((3, 2)), np.zeros((3, 1)))
    with pytest.raises(ShapeError, match=r"targets \(0,\) and predictions \(0,\)"):
        RegressionReport.from_predictions(np.zeros(0), np.zeros(0))
