"""GradNormLog: the per-step gradient norms the training loop streams to grad_norms.csv.

The figures are checked against the trainer itself: a thin wrapper copies every
step's gradients as the model leaves them, before the loop clips them, and the log's
global norm must be :func:`rnnkit.core.clipping.global_norm` of those copies, its
parameter columns their own norms.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest

from rnnkit import Dense, Embedding, Sequential, SimpleRNN
from rnnkit.core.clipping import global_norm
from rnnkit.errors import ConfigError, DataError
from rnnkit.training import Batch, FitConfig, GradNormLog, SequenceDataset, StepResult, fit
from rnnkit.training.grad_log import FIXED_COLUMNS, param_norms, read_grad_norms
from rnnkit.training.optimizers import SGD


class Recorder:
    """A Trainable that trains `net` and keeps a copy of each step's raw gradients."""

    def __init__(self, net: Sequential) -> None:
        self.net = net
        self.steps: list[list[tuple[str, np.ndarray, np.ndarray | None]]] = []

    def train_batch(self, batch: Batch) -> StepResult:
        result = self.net.train_batch(batch)
        self.steps.append([(k, g.copy(), r) for k, _, g, r in self.net.param_slots()])
        return result

    def __getattr__(self, name: str):
        return getattr(self.net, name)


def _network(seed: int = 0) -> Sequential:
    net = Sequential([Embedding(12, 4), SimpleRNN(5), Dense(3, "softmax")], seed=seed)
    net.compile("sgd", "sparse_categorical_crossentropy", lr=0.5)
    return net


def _data(n: int = 24) -> SequenceDataset:
    rng = np.random.default_rng(0)
    x = [rng.integers(1, 12, size=int(rng.integers(2, 7))) for _ in range(n)]
    return SequenceDataset(x, rng.integers(0, 3, size=n))


def _train(tmp_path: Path, **options) -> tuple[Recorder, list[dict[str, str]], list[str]]:
    model = Recorder(_network())
    log = GradNormLog(tmp_path / "grad_norms.csv")
    config = FitConfig(epochs=2, batch_size=8, verbose=0, grad_log=log, **options)
    fit(model, _data(), SGD(lr=0.5), config, np.random.default_rng(1))
    with (tmp_path / "grad_norms.csv").open(newline="") as f:
        reader = csv.DictReader(f)
        return model, list(reader), list(reader.fieldnames or [])


def test_rows_hold_the_global_norm_the_trainer_clips_and_each_parameters(tmp_path) -> None:
    model, rows, header = _train(tmp_path, clip_norm=0.05)
    keys = [k for k, _, _, _ in model.net.param_slots()]
    assert header == [*FIXED_COLUMNS, *keys]
    assert keys == ["embedding.E", "simple_rnn.U", "simple_rnn.W", "simple_rnn.b",
                    "dense.V", "dense.c"]  # fmt: skip
    assert len(rows) == len(model.steps) == 6  # 24 sequences in batches of 8, two epochs
    for row, grads in zip(rows, model.steps, strict=True):
        expected = global_norm([g for _, g, _ in grads], [r for _, _, r in grads])
        assert float(row["global_norm"]) == expected  # the same float, read back exactly
        for key, g, r in grads:
            v = g if r is None else g[r]
            assert float(row[key]) == pytest.approx(np.sqrt(np.vdot(v, v)), rel=1e-12)
        assert row["clipped"] == ("1" if expected > 0.05 else "0")
    assert [(r["step"], r["epoch"], r["batch"]) for r in rows] == [
        ("1", "1", "1"), ("2", "1", "2"), ("3", "1", "3"),
        ("4", "2", "1"), ("5", "2", "2"), ("6", "2", "3"),
    ]  # fmt: skip
    assert any(r["clipped"] == "1" for r in rows)


def test_no_step_is_clipped_under_a_high_threshold(tmp_path) -> None:
    _, rows, _ = _train(tmp_path, clip_norm=1e6)
    assert {r["clipped"] for r in rows} == {"0"}


def test_value_clipping_that_changes_the_gradients_counts_as_clipped(tmp_path) -> None:
    model, rows, _ = _train(tmp_path, clip_norm=None, clip_value=1e-6)
    assert {r["clipped"] for r in rows} == {"1"}
    first = model.steps[0]  # the logged norm is the one before value clipping
    assert float(rows[0]["global_norm"]) == global_norm([g for _, g, _ in first],
                                                        [r for _, _, r in first])  # fmt: skip


def test_logging_changes_nothing_the_run_learns(tmp_path) -> None:
    weights = []
    for log in (None, GradNormLog(tmp_path / "g.csv")):
        net = _network()
        config = FitConfig(epochs=2, batch_size=8, verbose=0, grad_log=log)
        fit(net, _data(), SGD(lr=0.5), config, np.random.default_rng(1))
        weights.append(net.get_weights())
    for a, b in zip(*weights, strict=True):
        np.testing.assert_array_equal(a, b)


def test_every_row_reaches_the_file_as_soon_as_it_is_written(tmp_path) -> None:
    path = tmp_path / "sub" / "grad_norms.csv"
    log = GradNormLog(path)
    log.write(1, 1, 1, 2.5, False, {"dense.V": 2.0, "dense.c": 1.5})
    # not closed: what a killed run leaves is already on disk
    assert path.read_text().splitlines() == [
        "step,epoch,batch,global_norm,clipped,dense.V,dense.c",
        "1,1,1,2.5,0,2.0,1.5",
    ]
    log.close()


def _log_lines(path: Path, steps: range, extra: str = "") -> None:
    lines = ["step,epoch,batch,global_norm,clipped,w"]
    lines += [f"{s},1,{s},{float(s)},0,{float(s)}" for s in steps]
    path.write_text("\n".join(lines) + "\n" + extra)


def test_a_resumed_run_appends_after_the_step_it_resumes_from(tmp_path) -> None:
    path = tmp_path / "grad_norms.csv"
    _log_lines(path, range(1, 8), extra="8,1,8,8.")  # the kill cut the last row short
    log = GradNormLog(path, append=True)
    log.write(6, 1, 6, 60.0, True, {"w": 60.0})  # the checkpoint was at step 5
    log.close()
    steps = [line.split(",")[0] for line in path.read_text().splitlines()[1:]]
    assert steps == ["1", "2", "3", "4", "5", "6"]
    assert path.read_text().splitlines()[-1] == "6,1,6,60.0,1,60.0"


def test_a_fresh_run_starts_the_file_anew(tmp_path) -> None:
    path = tmp_path / "grad_norms.csv"
    _log_lines(path, range(1, 4))
    log = GradNormLog(path)
    log.write(1, 1, 1, 1.0, False, {"w": 1.0})
    log.close()
    assert len(path.read_text().splitlines()) == 2


def test_appending_to_a_log_of_other_parameters_is_refused(tmp_path) -> None:
    path = tmp_path / "grad_norms.csv"
    _log_lines(path, range(1, 4))
    log = GradNormLog(path, append=True)
    with pytest.raises(ConfigError, match=r"grad_norms\.csv: its columns are not this run's"):
        log.write(2, 1, 2, 1.0, False, {"v": 1.0})


def test_param_norms_reads_a_sparse_gradient_on_its_rows_only() -> None:
    g = np.zeros((4, 2))
    g[1] = [3.0, 4.0]
    g[3] = [100.0, 0.0]  # a stale row outside the touched ones is not read
    norms = param_norms([("e", None, g, np.array([1])), ("d", None, np.ones(4), None)])
    assert norms == {"e": 5.0, "d": 2.0}
    assert math.isclose(
        math.hypot(*norms.values()), global_norm([g, np.ones(4)], [np.array([1]), None])
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a,b\n1,2\n", "not a gradient-norm log"),
        ("step,epoch,batch,global_norm,clipped\n", "no steps logged"),
        ("step,epoch,batch,global_norm,clipped\n1,1,1,x,0\n", "could not convert"),
        ("step,epoch,batch,global_norm,clipped,w\n1,1,1,2.0,0\n", "every row needs 6 values"),
    ],
)
def test_a_malformed_log_names_the_file(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "grad_norms.csv"
    path.write_text(text)
    with pytest.raises(DataError, match=message) as info:
        read_grad_norms(path)
    assert str(path) in str(info.value)
