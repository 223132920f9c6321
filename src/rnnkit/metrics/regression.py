"""How close real-valued predictions are: mean squared error, its root, MAE and R².

Over n target vectors of k outputs each (one per sequence, or one per real step):

- ``mse`` = mean of (y - t)² over all n·k values, in the targets' own units squared,
  and ``rmse`` its square root;
- ``mae`` = mean of |y - t|;
- ``r2`` = 1 - SSE / SST per output (SST around that output's mean), averaged over
  the outputs: 1 is perfect, 0 is no better than always predicting the mean;
- ``baseline_mse``, when given, is the error of a reference predictor, for example
  persistence in forecasting (x_{t+1} predicted as x_t); ``skill`` = 1 - mse /
  baseline_mse says how much of it the model removes.

>>> r = RegressionReport.from_predictions([[1.0], [2.0], [3.0]], [[1.5], [2.0], [2.5]])
>>> round(r.mse, 4), round(r.mae, 4), round(r.r2, 4), r.n
(0.1667, 0.3333, 0.75, 3)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from rnnkit.errors import ShapeError

__all__ = ["RegressionReport"]


@dataclass(frozen=True)
class RegressionReport:
    """Errors of n predicted target vectors of k outputs (see the module docstring)."""

    mse: float
    mae: float
    r2: float
    n: int
    outputs: list[str] = field(default_factory=list)
    per_output_mse: list[float] = field(default_factory=list)
    baseline_mse: float | None = None

    @classmethod
    def from_predictions(
        cls,
        y_true: ArrayLike,
        y_pred: ArrayLike,
        outputs: Sequence[str] | None = None,
        baseline: ArrayLike | None = None,
    ) -> RegressionReport:
        """Score (n, k) or (n,) predictions; `baseline` is a reference prediction."""
        t = np.asarray(y_true, dtype=np.float64)
        y = np.asarray(y_pred, dtype=np.float64)
        if t.shape != y.shape or t.ndim not in (1, 2) or not len(t):
            raise ShapeError(f"targets {t.shape} and predictions {y.shape}: need equal (n, k)")
        t, y = t.reshape(len(t), -1), y.reshape(len(y), -1)
        err = y - t
        per_output = (err**2).mean(axis=0)
        sst = ((t - t.mean(axis=0)) ** 2).sum(axis=0)
        sse = (err**2).sum(axis=0)
        r2 = np.where(sst > 0, 1.0 - sse / np.where(sst > 0, sst, 1.0), np.nan)
        names = list(outputs) if outputs is not None else [f"y{k + 1}" for k in range(t.shape[1])]
        base = None
        if baseline is not None:
            b = np.asarray(baseline, dtype=np.float64).reshape(t.shape)
            base = float(((b - t) ** 2).mean())
        return cls(
            mse=float((err**2).mean()),
            mae=float(np.abs(err).mean()),
            r2=float(np.nanmean(r2)) if np.isfinite(r2).any() else math.nan,
            n=len(t),
            outputs=names,
            per_output_mse=[float(v) for v in per_output],
            baseline_mse=base,
        )

    @property
    def rmse(self) -> float:
        return math.sqrt(self.mse)

    @property
    def skill(self) -> float | None:
        """1 - mse / baseline_mse (None without a baseline)."""
        if self.baseline_mse is None:
            return None
        return 1.0 - self.mse / self.baseline_mse if self.baseline_mse > 0 else math.nan

    def to_dict(self) -> dict[str, Any]:
        """The ``evaluate --json`` keys of a regressor."""
        out: dict[str, Any] = {
            "mse": self.mse,
            "rmse": self.rmse,
            "mae": self.mae,
            "r2": None if math.isnan(self.r2) else self.r2,
            "n": self.n,
            "per_output_mse": dict(zip(self.outputs, self.per_output_mse, strict=True)),
        }
        if self.baseline_mse is not None:
            out["baseline_mse"] = self.baseline_mse
            out["skill"] = self.skill
        return out

    def format(self, digits: int = 4) -> str:
        """A few lines for a person."""
        r2 = "-" if math.isnan(self.r2) else f"{self.r2:.{digits}f}"
        lines = [
            f"mse {self.mse:.{digits}g}  rmse {self.rmse:.{digits}g}  mae {self.mae:.{digits}g}"
            f"  r2 {r2}  n {self.n}"
        ]
        if self.baseline_mse is not None:
            lines.append(
                f"baseline mse {self.baseline_mse:.{digits}g}  skill {self.skill:.{digits}f}"
                "  (1 - mse / baseline mse)"
            )
        if len(self.outputs) > 1:
            width = max(len("output"), *(len(o) for o in self.outputs))
            lines.append("")
            lines.append(f"{'output':<{width}}  mse")
            lines += [
                f"{o:<{width}}  {v:.{digits}g}"
                for o, v in zip(self.outputs, self.per_output_mse, strict=True)
            ]
        return "\n".join(lines)
