"""A new cell is a core function, a layer and one registry entry: every consumer follows.

The cell defined here, "ff", is the tanh RNN without its recurrence,

    h_t = f(U x_t + b)

(each step sees its own input only). Its layer keeps the recurrent protocol's three
parameters U (n_in, d), W (d, d) and b (d,), with W built as zeros and never read, so
its gradient stays zero and training leaves it at zero. That keeps everything that
reads U, W, b unchanged (the layer base class, the weight files, the interop layout),
and makes the layer exactly PyTorch's ``nn.RNN`` with ``weight_hh = 0``: its
description may honestly name ``torch="RNN"``, which a test below checks number for
number. Keras and ONNX have no such layer (``keras=None``, ``onnx=None``).

Specified: with the cell registered (and only then), the layer gradient-checks and
trains; ``cell_layer`` finds it; ``recurrent_layers`` builds it by name; the trace
follows it with its own trace step and agrees with the forward pass; the gradient
diagnosis names it and records its (purely local) state gradients; interop round
trips its U, W, b (and refuses a variant with no PyTorch module); the command line
offers it; the benchmark counts its FLOPs, builds it, and runs it with no PyTorch
column when PyTorch has no layer for it.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest

from reference import check_gradients
from rnnkit.bench import (
    BenchOptions,
    find_config,
    format_table,
    run_bench,
    runner,
    step_flops,
    worker,
)
from rnnkit.bench.configs import framework_layer
from rnnkit.bench.rnnkit_side import build_model, make_batch, train_step_fn
from rnnkit.bench.torch_side import build_torch
from rnnkit.cli.main import UsageError, build_parser
from rnnkit.cli.report_params import layer_rows
from rnnkit.core.activations import activate, get_activation
from rnnkit.core.cells import Cell, cell_names, registered_cell
from rnnkit.core.rnn import record_state_gradient
from rnnkit.errors import ConfigError
from rnnkit.io.interop import from_torch, to_torch
from rnnkit.layers import Dense, Embedding, GlobalAveragePooling1D, Spec, cell_layer
from rnnkit.layers.projection import project_inputs
from rnnkit.layers.recurrent import RecurrentLayer
from rnnkit.models import SequenceClassifier, Sequential, load_model
from rnnkit.models.encoder import recurrent_layers
from rnnkit.training import SequenceDataset
from rnnkit.viz.gradients import measure_gradients
from rnnkit.viz.trace import trace

Array = np.ndarray
B, T, N_IN, D = 3, 5, 4, 3
MASK = np.arange(T)[None, :] < np.array([5, 2, 4])[:, None]  # (B, T), False at pads


# -- the core functions: the recurrence over time-major buffers, and its BPTT ------------
def ff_scan(H: Array, mask: Array | None, activation: str) -> Array:
    """In place: H[0] = h_0 and H[1:] = U x_t + b on entry, H[t] = h_t on return; a pad
    step carries the previous state."""
    f, _ = get_activation(activation)
    for t in range(H.shape[0] - 1):
        f(H[t + 1], out=H[t + 1])  # h_t = f(U x_t + b)
        if mask is not None:
            np.copyto(H[t + 1], H[t], where=~mask[t, :, None])
    return H


def ff_backward(
    dH: Array | None,
    dh_last: Array | None,
    H: Array,
    mask: Array | None,
    activation: str,
    dh_out: Array | None = None,
) -> tuple[Array, Array]:
    """dL/d(U x_t + b) (T, B, d) and dL/dh_0 (B, d); `dh_out` records every dL/dh_t."""
    _, f_grad = get_activation(activation)
    dA = f_grad(H[1:], out=np.empty_like(H[1:]))  # f'(a_t), from h_t
    dh = np.zeros_like(H[0]) if dh_last is None else np.array(dh_last)
    for t in range(H.shape[0] - 2, -1, -1):
        if dH is not None:
            dh += dH[t]  # the output of step t adds its own gradient
        if dh_out is not None:
            record_state_gradient(dh_out, t, dh, mask)
        real = np.ones(dh.shape[0], bool) if mask is None else mask[t]
        dA[t] *= dh * real[:, None]  # backprop through f, at real steps
        dh *= ~real[:, None]  # h_{t-1} reaches h_t only through a pad (a copy)
    return dA, dh


def ff_trace_step(add, layer, p, ux, state, t, s):
    """h_t = f(U x_t + b); the state is (h,): h_s is not read."""
    f = layer.activation
    b = add("b", "b", p["b"])
    a = add("a", f"a_{t} = U x_{t} + b", ux + b)
    return (add("h", f"h_{t} = {f}(U x_{t} + b)", activate(f, a)),)


FF = Cell(
    name="ff",
    gates=("h",),
    states=("h",),
    keras=None,
    torch="RNN",  # exact while W = 0, as the layer keeps it
    torch_gates=("h",),
    onnx=None,
    onnx_gates=("h",),
    forward=ff_scan,
    backward=ff_backward,
    trace_step=ff_trace_step,
)


# -- the layer: its description and the two functions it supplies -------------------------
class NoRecurrence(RecurrentLayer):
    """h_t = f(U x_t + b): the recurrent protocol with W = 0 (see the module docstring)."""

    kind = "no_recurrence"
    cell = FF

    def _build(self, spec: Spec, rng: np.random.Generator) -> Spec:
        out = self._weights(spec, rng, np.zeros(self.units))
        self.params["W"][...] = 0.0  # never read: kept at zero, PyTorch's nn.RNN agrees
        return out

    def _scan(self, x, ids, mask_t, states):
        B, T = x.shape[0], x.shape[1]
        H = np.empty((T + 1, B, self.units), dtype=self.dtype)
        project_inputs(self, x, ids, H[1:])  # U x_t
        H[1:] += self.params["b"]
        H[0] = states[0]
        ff_scan(H, mask_t, self.activation)
        return H, (H[T],), None

    def _bptt(self, dH, d_final, H, saved, mask_t, dh_out=None):
        dA, dh0 = ff_backward(dH, d_final[0], H, mask_t, self.activation, dh_out)
        self.grads["b"] += dA.sum(axis=(0, 1))  # dW stays zero: W is not read
        return dA, [dh0]


#: the same cell as if PyTorch had no layer for it, and its layer
FF_LOCAL = dataclasses.replace(FF, name="ff_local", torch=None)


class LocalNoRecurrence(NoRecurrence):
    cell = FF_LOCAL


@pytest.fixture
def ff() -> Iterator[Cell]:
    """The cell registered for one test."""
    with registered_cell(FF) as cell:
        yield cell


def _built(seed: int = 0, **options: Any) -> NoRecurrence:
    layer = NoRecurrence(D, dtype="float64", **options)
    rng = np.random.default_rng(seed)
    layer.build(Spec("features", N_IN), rng)
    layer.params["b"][...] = rng.normal(scale=0.5, size=D)
    return layer


# -- the layer -------------------------------------------------------------------------
def test_the_layer_takes_its_sizes_from_the_description():
    assert (NoRecurrence.gates, NoRecurrence.n_states) == (1, 1)
    layer = _built()
    assert [w.shape for w in layer.get_weights()] == [(N_IN, D), (D, D), (D,)]
    assert layer.count_params() == FF.count_params(N_IN, D)


@pytest.mark.parametrize("masked", [False, True], ids=["full", "padded"])
@pytest.mark.parametrize("return_sequences", [False, True], ids=["last", "sequences"])
def test_gradients_match_central_differences(ff, return_sequences: bool, masked: bool):
    layer = _built(return_sequences=return_sequences)
    rng = np.random.default_rng(1)
    x, h0 = rng.normal(size=(B, T, N_IN)), rng.normal(size=(B, D))
    mask = MASK if masked else None
    y, cache = layer.forward(x, mask=mask, initial_state=h0)
    R = rng.normal(size=y.shape)

    def loss() -> float:
        return float((R * layer.forward(x, mask=mask, initial_state=h0)[0]).sum())

    layer.zero_grad()
    dx, dh0 = layer.backward(R, cache)
    params = {**layer.params, "x": x, "h0": h0}
    check_gradients(loss, params, {**layer.grads, "x": dx, "h0": dh0})
    assert not layer.grads["W"].any()


def test_the_states_are_the_cell_equation():
    layer = _built(return_sequences=True)
    x = np.random.default_rng(2).normal(size=(B, T, N_IN))
    U, _, b = layer.get_weights()
    np.testing.assert_allclose(layer(x), np.tanh(x @ U + b), rtol=1e-14, atol=0)


def test_it_trains_and_w_stays_zero(ff):
    rng = np.random.default_rng(3)
    x = rng.integers(0, 6, size=(64, 4))
    y = (x == 5).any(axis=1).astype(int)  # does the word 5 occur: no memory needed
    rnn = NoRecurrence(8, return_sequences=True)
    model = Sequential(
        [Embedding(6, 4), rnn, GlobalAveragePooling1D(), Dense(1, "sigmoid")], seed=0
    )
    model.compile("adam", "binary_crossentropy", lr=0.05)
    history = model.fit(x, y, epochs=15, batch_size=16, verbose=0)
    assert history.epochs[-1]["loss"] < 0.5 * history.epochs[0]["loss"]
    assert not rnn.params["W"].any()


# -- every consumer, by the cell's name ------------------------------------------------------
def test_the_cell_exists_only_while_registered():
    assert "ff" not in cell_names()
    with pytest.raises(ConfigError, match="cell='ff' is not one of"):
        cell_layer("ff")
    with registered_cell(FF):
        assert cell_layer("ff") is NoRecurrence
    assert "ff" not in cell_names()


def test_task_models_build_it_by_name(ff):
    (rnn,) = recurrent_layers("ff", 5)
    assert type(rnn) is NoRecurrence and rnn.units == 5
    stacked = recurrent_layers("ff", 5, layers=2, bidirectional=True, return_sequences=True)
    assert [type(l.forward_layer) for l in stacked] == [NoRecurrence, NoRecurrence]


def test_a_task_model_of_it_trains_saves_and_loads(ff, tmp_path):
    texts = ["good film", "bad film", "good plot", "bad plot", "a good cast", "a bad cast"] * 4
    labels = ["pos" if "good" in t else "neg" for t in texts]
    model = SequenceClassifier(cell="ff", hidden=4, embed_dim=4, epochs=2, min_freq=1, verbose=0)
    model.fit(texts, labels)
    model.save(tmp_path / "m")
    loaded = load_model(tmp_path / "m")
    assert NoRecurrence in [type(layer) for layer in loaded.model_.layers]
    np.testing.assert_array_equal(loaded.predict_proba(texts), model.predict_proba(texts))


def test_the_trace_follows_it_and_agrees_with_the_forward_pass(ff):
    model = Sequential(
        [Embedding(7, 4), NoRecurrence(3, return_sequences=True), Dense(2, "softmax")],
        seed=0,
        dtype="float64",
    )
    rng = np.random.default_rng(4)
    model.set_weights([rng.normal(0.0, 0.5, w.shape) for w in model.get_weights()])
    ids = np.array([1, 6, 2, 2, 0])
    t = trace(model, ids)
    section = t.section("no_recurrence")
    assert section.equations == ["h_t = tanh(U x_t + b)"]
    states = model.layers[1](model.layers[0](ids[None]))[0]  # (T, d)
    np.testing.assert_allclose(section.stack("h"), states, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(t.output, model(ids[None])[0], rtol=1e-12, atol=1e-15)


def test_the_gradient_diagnosis_names_it_and_sees_no_flow_through_time(ff):
    rng = np.random.default_rng(6)
    net = Sequential([NoRecurrence(4), Dense(1, "sigmoid")], input_dim=3, seed=0, dtype="float64")
    net = net.compile("sgd", "binary_crossentropy")
    data = SequenceDataset(list(rng.normal(size=(8, 6, 3))), rng.integers(0, 2, 8))
    diag = measure_gradients(net, [data.batch(np.arange(8))])
    assert diag.cell == "ff"
    (norms,) = diag.state_norms.values()  # h_T alone feeds the loss, and no h_t feeds h_T
    assert norms[0] > 0 and not norms[1:].any()


def test_interop_round_trips_its_weights_and_pytorch_agrees(ff, torch):
    layer = _built(return_sequences=True)
    sd = to_torch("ff", layer.params)
    back = from_torch("ff", sd)
    for k, v in layer.params.items():
        np.testing.assert_array_equal(back[k], v)
    rnn = torch.nn.RNN(N_IN, D, batch_first=True, dtype=torch.float64)
    rnn.load_state_dict({k: torch.from_numpy(v) for k, v in sd.items()})
    x = np.random.default_rng(5).normal(size=(B, T, N_IN))
    with torch.no_grad():
        theirs = rnn(torch.from_numpy(x))[0].numpy()
    np.testing.assert_allclose(layer(x), theirs, rtol=1e-12, atol=1e-14)


def test_a_cell_without_a_pytorch_module_is_refused_by_interop():
    params = _built().params
    with registered_cell(FF_LOCAL):
        with pytest.raises(ConfigError, match="cell='ff_local' has no PyTorch equivalent"):
            to_torch("ff_local", params)
        with pytest.raises(ConfigError, match="cell='ff_local' has no PyTorch equivalent"):
            from_torch("ff_local", to_torch("rnn", params))


def test_the_command_line_offers_it():
    train = ["train", "--task", "classify", "--data", "d.csv", "--out", "o", "--cell", "ff"]
    with registered_cell(FF):
        parser = build_parser()
        assert parser.parse_args(train).cell == "ff"
        assert parser.parse_args(["bench", "--cell", "ff", "rnn"]).cell == ["ff", "rnn"]
    with pytest.raises(UsageError, match="invalid choice: 'ff'"):
        build_parser().parse_args(train)  # a parser built without the cell


def test_the_benchmark_counts_and_builds_it(ff):
    cfg = find_config("tiny")
    assert step_flops(cfg, "ff") == step_flops(cfg, "rnn")  # one block of U and W
    assert "ff" in BenchOptions().cells
    assert framework_layer("ff", "rnnkit") == "ff" and framework_layer("ff", "keras") is None
    model = build_model(cfg, "ff")
    assert type(model.layers[1]) is NoRecurrence
    assert np.isfinite(train_step_fn(model, make_batch(cfg))())


def test_the_benchmark_runs_it_without_a_pytorch_column(monkeypatch, torch):
    monkeypatch.setattr(runner, "Worker", _InProcessWorker)
    monkeypatch.setattr(runner, "COOL_DOWN", 0.0)
    with registered_cell(FF_LOCAL):
        cfg = find_config("tiny")
        with pytest.raises(ConfigError, match="'ff_local' is not available in PyTorch"):
            build_torch(build_model(cfg, "ff_local"), cfg, "ff_local")
        opts = BenchOptions.quick(configs=("tiny",), cells=("ff_local",), repeats=1)
        opts.memory, opts.threads = False, runner.available_cores()
        result = run_bench(opts)
    (row,) = result["results"]
    assert row["not_available"] == ["torch"] and row["rnnkit_tokens_per_s"] > 0
    assert "torch_tokens_per_s" not in row and result["summary"] == {}
    table = format_table(result)
    assert "ff_local: not available in torch" in table
    assert table.splitlines()[1].split()[:2] == ["ff_local", "tiny"]
    assert "n/a" in table.splitlines()[1]


class _InProcessWorker:
    """A benchmark worker in this process, where the test's cell is registered (a worker
    process would not know it); it refuses to set up a cell its framework lacks."""

    def __init__(self, framework: str, threads: int, onednn: bool = True) -> None:
        self.framework = framework
        self.fn: Callable[[], Any] | None = None

    def ask(self, **command: Any) -> dict[str, Any]:
        if "setup" in command:
            self.fn, reply = worker._setup(self.framework, command["setup"])
            return reply
        if "run" in command:
            assert self.fn is not None
            t0 = time.perf_counter()
            for _ in range(command["run"]):
                self.fn()
            return {"seconds": time.perf_counter() - t0}
        assert "sgemm" in command, command
        return {"gflops": 1.0}

    def close(self) -> None:
        pass


def test_the_report_names_its_parameters(ff):
    model = Sequential([Embedding(6, 4), NoRecurrence(3), Dense(1, "sigmoid")], seed=0)
    rows = layer_rows(model)[1].params
    assert [(r.lecture, r.keras, r.pytorch) for r in rows] == [
        ("U", "", "weight_ih_l0 = U.T"),  # Keras has no such layer: no Keras name
        ("W", "", "weight_hh_l0 = W.T"),
        ("b", "", "bias_ih_l0 + bias_hh_l0 = b"),
    ]
