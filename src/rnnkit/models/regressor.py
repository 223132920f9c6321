"""FrameRegressor: real-valued targets from real-valued sequences, with the mean squared error.

The output layer is linear, y = V h + c (Keras ``Dense(k)``, PyTorch ``nn.Linear``), and
the loss the squared error summed over the k outputs, reduced as the other losses of
the notes: averaged over sequences for one target per sequence, and for one target
per frame summed over each sequence's real frames, then averaged over sequences.

Targets come in one of two forms:

- per sequence (many-to-one): an (N,) or (N, k) array;
- per frame (many-to-many): a list of N arrays, the i-th (T_i,) or (T_i, k).

``forecast=h`` makes the sequences their own targets, next-value forecasting: from
x_1 .. x_t the model predicts x_{t+h} at every step t, so each training sequence
gives its first T_i - h frames as inputs and its last T_i - h as targets. Evaluation
then also reports persistence, x_{t+h} predicted as x_t, the baseline any forecaster
has to beat.

Targets are standardised like the inputs (fitted on the training targets) and the
predictions come back in the targets' own units; every reported error is in them too.

>>> import numpy as np
>>> t = np.linspace(0, 12, 60)
>>> waves = [np.sin(t[i : i + 25] + 0.1 * i)[:, None] for i in range(0, 30, 2)]
>>> reg = FrameRegressor(forecast=1, hidden=16, epochs=60, lr=0.01, seed=0, verbose=0)
>>> report = reg.fit(waves).evaluate(waves)
>>> report.mse < 0.2 * report.baseline_mse   # far better than "tomorrow = today"
True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from rnnkit.data.frames import check_sequences
from rnnkit.data.scaling import Standardizer
from rnnkit.errors import ConfigError, DataError, ModelFileError
from rnnkit.io import ModelFiles
from rnnkit.layers import Dense
from rnnkit.metrics.regression import RegressionReport
from rnnkit.models.frames import FEATURES_FILE, FRAME_DEFAULTS, FrameModel
from rnnkit.models.outputs import check_pooling, pooled_head
from rnnkit.models.persist import sequential_from_files
from rnnkit.training import SequenceDataset

__all__ = ["REGRESSOR_DEFAULTS", "FrameRegressor"]

Array = np.ndarray

#: a FrameRegressor's settings: the frame models' and these
REGRESSOR_DEFAULTS: dict[str, Any] = {
    **FRAME_DEFAULTS,
    "pooling": "last",  # per-sequence targets: read h_T, or the "mean" or "max" of the states
    "forecast": None,  # h: predict the frame h steps ahead from the frames so far
    "reduction": "sequence_mean",  # per-frame targets: summed over frames, mean over sequences
}


class FrameRegressor(FrameModel):
    """Predict real values from (T_i, F) sequences (see the module docstring).

    Learned attributes beside the frame models': ``outputs_`` (the target names),
    ``target_scaler_``, ``per_step_`` and ``vector_`` (whether targets were vectors).
    """

    task = "regress"
    DEFAULTS = REGRESSOR_DEFAULTS

    def _check_settings(self) -> None:
        super()._check_settings()
        check_pooling(self.settings["pooling"])
        h = self.settings["forecast"]
        if h is not None and (isinstance(h, bool) or not isinstance(h, int) or h < 1):
            raise ConfigError(f"forecast={h!r}: give the number of steps ahead, 1 or more")

    # -- targets -------------------------------------------------------------------
    def _pairs(
        self, sequences: Sequence[Any], targets: Any, n_features: int | None = None
    ) -> tuple[list[Array], Any, bool]:
        """Inputs, targets and whether they are per step; forecasting makes the targets."""
        h = self.settings["forecast"]
        xs = check_sequences(sequences, n_features)
        if h is None:
            if targets is None:
                raise DataError("no targets: give one per sequence or per frame (or forecast=h)")
            if len(targets) != len(xs):
                raise DataError(f"{len(xs)} sequences but {len(targets)} targets")
            return xs, *_as_targets(targets, xs)
        if targets is not None:
            raise DataError(f"forecast={h} takes its targets from the sequences; give none")
        short = [i for i, x in enumerate(xs) if len(x) <= h]
        if short:
            i = short[0]
            raise DataError(
                f"sequence {i + 1} has {len(xs[i])} steps; forecasting {h} ahead needs at "
                f"least {h + 1}"
            )
        return [x[:-h] for x in xs], [x[h:] for x in xs], True

    def _scaled_targets(self, t: Any) -> Any:
        """Targets in standard units: per frame a list, per sequence one (N[, k]) array."""
        if self.per_step_:
            return self.target_scaler_.transform(t)
        return self.target_scaler_.transform([t])[0]

    # -- learning ------------------------------------------------------------------
    def fit(
        self,
        sequences: Sequence[Any],
        targets: Any = None,
        valid: tuple[Sequence[Any], Any] | None = None,
        features: Sequence[str] | None = None,
        outputs: Sequence[str] | None = None,
    ) -> FrameRegressor:
        """Fit the scalings and the network.

        Parameters
        ----------
        sequences : list of (T_i, F) arrays (or (T_i,) for one feature)
        targets : (N,) or (N, k) per sequence, or a list of (T_i,) or (T_i, k) per frame;
            None with ``forecast``
        valid : (sequences, targets), optional; (sequences, None) with ``forecast``
        features, outputs : names of the F features and the k targets, optional
        """
        s = self.settings
        x_raw, t_raw, self.per_step_ = self._pairs(sequences, targets)
        x_raw, cut = self._cut(x_raw, t_raw if self.per_step_ else None)
        t_raw = cut if self.per_step_ else t_raw
        x = self._learn_inputs(x_raw, features)
        flat = t_raw if self.per_step_ else [t_raw]
        self.vector_ = s["forecast"] is not None or np.ndim(flat[0]) == 2
        self.target_scaler_ = Standardizer.fit(flat)
        k = self.target_scaler_.n_features
        if s["forecast"] is not None:
            outputs = self.features_
        self.outputs_ = [f"y{j + 1}" for j in range(k)] if outputs is None else list(outputs)
        if len(self.outputs_) != k:
            raise DataError(f"{len(self.outputs_)} output names for {k} targets")
        if self.per_step_:
            self.model_ = self._per_step_network(Dense(k))
        else:
            head = pooled_head(s["pooling"], s["dropout"], Dense(k))
            self.model_ = self._stack(head, return_sequences=s["pooling"] != "last")
        self.model_.compile(s["optimizer"], "mse", lr=s["lr"], clip_norm=s["clip_norm"])
        self.model_.reduction = s["reduction"]
        valid_data = None
        if valid is not None:
            vx, vt, _ = self._checked_pairs(*valid)
            valid_data = (self._scaled(vx), self._scaled_targets(vt))
        self._train(x, self._scaled_targets(t_raw), valid_data)
        return self

    def training_data(self, sequences: Sequence[Any], targets: Any = None) -> SequenceDataset:
        """Sequences and targets scaled as the network trains on them (targets None
        with ``forecast``): the batches of :func:`rnnkit.viz.measure_gradients`."""
        x, t, _ = self._checked_pairs(sequences, targets)
        return SequenceDataset(self._scaled(x), self._scaled_targets(t), per_step=self.per_step_)

    def _checked_pairs(self, sequences: Sequence[Any], targets: Any) -> tuple[list, Any, bool]:
        """Inputs and targets shaped as in training (DataError if they are not)."""
        xs, t, per_step = self._pairs(sequences, targets, len(self.features_))
        if per_step != self.per_step_:
            kind = "per frame" if self.per_step_ else "per sequence"
            raise DataError(f"the model was trained on targets {kind}; these are not")
        k = self.target_scaler_.n_features
        widths = {y.shape[1] if y.ndim == 2 else 1 for y in (t if per_step else [t])}
        if widths != {k}:
            raise DataError(f"targets of {widths.pop()} values; the model predicts {k}")
        return xs, t, per_step

    # -- inference -----------------------------------------------------------------
    def predict(self, sequences: Sequence[Any]) -> Any:
        """Predictions in the targets' units: (N,) or (N, k) per sequence, or per frame a
        list of (T_i,) or (T_i, k) arrays (with ``forecast``, step t's guess of x_{t+h})."""
        x = self._inputs(sequences)
        out = self.model_.predict(x)
        if self.per_step_:
            preds = [self.target_scaler_.inverse(out[i, : len(s)]) for i, s in enumerate(x)]
            return preds if self.vector_ else [p[:, 0] for p in preds]
        pred = self.target_scaler_.inverse(out)
        return pred if self.vector_ else pred[:, 0]

    def evaluate(self, sequences: Sequence[Any], targets: Any = None) -> RegressionReport:
        """MSE, RMSE, MAE and R² in the targets' units (with ``forecast``, also persistence)."""
        self._require_fitted()
        xs, t, _ = self._checked_pairs(sequences, targets)
        pred = self.predict(xs)
        k = self.target_scaler_.n_features
        y_true, y_pred = _rows(t, self.per_step_, k), _rows(pred, self.per_step_, k)
        baseline = None
        if self.settings["forecast"] is not None:  # persistence: x_{t+h} = x_t
            baseline = np.concatenate(xs)
        return RegressionReport.from_predictions(y_true, y_pred, self.outputs_, baseline)

    # -- files ---------------------------------------------------------------------
    def _vocab_record(self) -> dict[str, Any] | None:
        return None

    def _extra_files(self) -> dict[str, dict[str, Any]]:
        files = super()._extra_files()
        files[FEATURES_FILE]["targets"] = {
            "names": self.outputs_,
            "scaling": self.target_scaler_.to_dict(),
            "per_step": self.per_step_,
            "vector": self.vector_,
        }
        return files

    @classmethod
    def from_files(cls, files: ModelFiles) -> FrameRegressor:
        where = str(files.path / FEATURES_FILE)
        model = cls._from_settings(files)
        model._read_features(files)
        record = files.extra[FEATURES_FILE].get("targets")
        if not isinstance(record, dict):
            raise ModelFileError(f"{where}: no 'targets' record")
        model.target_scaler_ = Standardizer.from_dict(record.get("scaling"), where)
        names = record.get("names")
        k = model.target_scaler_.n_features
        if not isinstance(names, list) or len(names) != k:
            raise ModelFileError(f"{where}: 'targets' must name its {k} outputs")
        flags = [record.get(key) for key in ("per_step", "vector")]
        if not all(isinstance(f, bool) for f in flags):
            raise ModelFileError(f"{where}: 'per_step' and 'vector' must be true or false")
        model.outputs_ = [str(n) for n in names]
        model.per_step_, model.vector_ = bool(flags[0]), bool(flags[1])
        model.model_ = sequential_from_files(files)
        out = model.model_.output_layer
        if not isinstance(out, Dense) or out.units != k or out.activation != "linear":
            raise ModelFileError(
                f"{files.path / 'config.json'}: the output layer is not {k} linear"
            )
        if model.model_.output_spec.time != model.per_step_:
            raise ModelFileError(f"{where}: 'per_step' does not match the network's output")
        return model

    outputs_: list[str]
    target_scaler_: Standardizer
    per_step_: bool
    vector_: bool


def _as_targets(targets: Any, xs: list[Array]) -> tuple[Any, bool]:
    """Targets as float64, per sequence ((N,) or (N, k)) or per frame (list); checked."""
    if isinstance(targets, np.ndarray) and targets.dtype != object:
        t = targets.astype(np.float64)
        if t.ndim not in (1, 2):
            raise DataError(f"targets per sequence must be (N,) or (N, k), got {t.shape}")
        _check_finite(t.reshape(len(t), -1), "target of sequence")
        return t, False
    items = list(targets)
    if all(np.ndim(y) == 0 for y in items):
        return _as_targets(np.array(items, dtype=np.float64), xs)
    out = []
    for i, (y, x) in enumerate(zip(items, xs, strict=True)):
        a = np.asarray(y, dtype=np.float64)
        if a.ndim not in (1, 2) or len(a) != len(x):
            raise DataError(
                f"sequence {i + 1}: {len(x)} frames but targets of shape {a.shape}; "
                "give (T_i,) or (T_i, k) per frame"
            )
        _check_finite(a.reshape(len(a), -1), f"sequence {i + 1}, target at step")
        out.append(a)
    if len({a.shape[1:] for a in out}) > 1:
        raise DataError("every sequence needs the same number of targets per frame")
    return out, True


def _rows(values: Any, per_step: bool, k: int) -> Array:
    """Targets or predictions as one (n, k) array: every frame's, or every sequence's."""
    if per_step:
        return np.concatenate([np.reshape(v, (-1, k)) for v in values])
    return np.reshape(np.asarray(values, dtype=np.float64), (-1, k))


def _check_finite(t: Array, where: str) -> None:
    bad = np.argwhere(~np.isfinite(t))
    if bad.size:
        row, col = (int(v) for v in bad[0])
        raise DataError(f"{where} {row + 1}: value {col + 1} is {t[row, col]}")
