"""Feature standardisation for real-valued sequences: x' = (x - mean) / std per feature.

Speech, sensor and video features come on very different scales (a log-energy near
20 beside cepstra near 0.1); a tanh cell fed unscaled inputs starts saturated. The
mean and standard deviation of every feature are fitted on the **training** frames
(every real step of every sequence) and then applied, unchanged, to validation, test
and prediction inputs, so no figure of the held-out data leaks into training. A
feature that never varies in training is only centred (its std counts as 1).

>>> import numpy as np
>>> scaler = Standardizer.fit([np.array([[1.0, 5.0], [3.0, 5.0]]), np.array([[2.0, 5.0]])])
>>> scaler.mean.tolist(), scaler.std.round(4).tolist()
([2.0, 5.0], [0.8165, 1.0])
>>> scaler.transform([np.array([[3.0, 6.0]])])[0].round(4).tolist()
[[1.2247, 1.0]]
>>> Standardizer.from_dict(scaler.to_dict(), "features.json") == scaler
True
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from rnnkit.errors import DataError, ModelFileError, ShapeError

__all__ = ["Standardizer"]

Array = np.ndarray


@dataclass(frozen=True, eq=False)
class Standardizer:
    """Per-feature mean and standard deviation, each an (F,) float64 array."""

    mean: Array
    std: Array

    @classmethod
    def fit(cls, sequences: Sequence[Array]) -> Standardizer:
        """Fit on (T_i, F) arrays (or (T_i,) for one feature), pooling every step.

        Two passes (the mean, then the squared deviations from it), in float64, with
        no copy of the whole dataset.
        """
        if not sequences:
            raise DataError("no sequences to fit the feature scaling on")
        rows = [np.asarray(s, dtype=np.float64).reshape(len(s), -1) for s in sequences]
        n = sum(len(r) for r in rows)
        mean = sum(r.sum(axis=0) for r in rows) / n
        var = sum(((r - mean) ** 2).sum(axis=0) for r in rows) / n
        std = np.sqrt(var)
        std[std < 1e-12 * np.maximum(np.abs(mean), 1.0)] = 1.0  # a constant feature
        return cls(np.asarray(mean), std)

    @property
    def n_features(self) -> int:
        return len(self.mean)

    def transform(self, sequences: Sequence[Array], dtype: Any = np.float64) -> list[Array]:
        """Every sequence scaled, as a new array of `dtype`, in its own shape."""
        out = []
        for i, s in enumerate(sequences):
            x = np.asarray(s)
            width = x.shape[-1] if x.ndim == 2 else 1
            if width != self.n_features:
                raise ShapeError(
                    f"sequence {i + 1} has {width} features, the scaling was fitted on "
                    f"{self.n_features}"
                )
            scaled = (x.reshape(len(x), -1) - self.mean) / self.std
            out.append(scaled.reshape(x.shape).astype(dtype, copy=False))
        return out

    def inverse(self, y: Array) -> Array:
        """Back to the original units: y * std + mean over the last axis."""
        return np.asarray(y, dtype=np.float64) * self.std + self.mean

    def to_dict(self) -> dict[str, list[float]]:
        """JSON-ready lists; floats print exactly, so loading gives the same arrays."""
        return {"mean": self.mean.tolist(), "std": self.std.tolist()}

    @classmethod
    def from_dict(cls, record: Any, where: str) -> Standardizer:
        """Rebuild from :meth:`to_dict`; ModelFileError naming `where` if malformed."""
        if not isinstance(record, dict):
            raise ModelFileError(f"{where}: the scaling must be an object with mean and std")
        values = []
        for key in ("mean", "std"):
            v = record.get(key)
            if not isinstance(v, list) or not v:
                raise ModelFileError(f"{where}: {key!r} must be a non-empty list of numbers")
            if not all(
                isinstance(a, int | float) and not isinstance(a, bool) and math.isfinite(a)
                for a in v
            ):
                raise ModelFileError(f"{where}: {key!r} holds a value that is not a finite number")
            values.append(np.array(v, dtype=np.float64))
        mean, std = values
        if mean.shape != std.shape:
            raise ModelFileError(f"{where}: {len(mean)} means but {len(std)} stds")
        if (std <= 0).any():
            raise ModelFileError(f"{where}: every std must be positive")
        return cls(mean, std)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Standardizer)
            and np.array_equal(self.mean, other.mean)
            and np.array_equal(self.std, other.std)
        )

    __hash__ = None  # type: ignore[assignment]
