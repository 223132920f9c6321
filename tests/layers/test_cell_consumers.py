"""Every registered cell is known to every part of rnnkit that depends on cells.

Parametrized over :func:`rnnkit.core.cells.cell_names`, so a cell added to the registry
is checked here without a line of this file changing: it has a layer class whose
``cell`` is its description; the task models build it by name; the trace follows it
with its own trace step, in agreement with its layer; its weights round trip through
PyTorch's names where PyTorch has the cell; the command line offers it; the benchmark
knows its FLOPs, its layer on each side, and builds it; the report names its
parameters; a model file naming its layer class is rebuilt.
"""

from __future__ import annotations

import numpy as np
import pytest

from rnnkit.bench import BenchOptions, find_config, step_flops
from rnnkit.bench.configs import framework_layer
from rnnkit.bench.rnnkit_side import build_model
from rnnkit.cli.main import build_parser
from rnnkit.cli.report_params import layer_rows
from rnnkit.core.cells import cell_names, get_cell
from rnnkit.io.interop import from_torch, to_torch
from rnnkit.layers import Dense, Embedding, Spec, cell_layer
from rnnkit.layers.registry import layer_class
from rnnkit.models import Sequential
from rnnkit.models.encoder import recurrent_layers
from rnnkit.viz.trace import trace
from rnnkit.viz.trace_result import Step

CELLS = cell_names()


@pytest.mark.parametrize("name", CELLS)
def test_it_has_a_layer_class_that_the_task_models_build(name: str):
    layer_class = cell_layer(name)
    assert layer_class.cell is get_cell(name)
    (layer,) = recurrent_layers(name, 4)
    assert type(layer) is layer_class


@pytest.mark.parametrize("name", CELLS)
def test_the_trace_uses_its_trace_step(name: str):
    rnn = cell_layer(name)(3, return_sequences=True)
    model = Sequential([Embedding(6, 4), rnn, Dense(2, "softmax")], seed=0, dtype="float64")
    rng = np.random.default_rng(0)
    model.set_weights([rng.normal(0.0, 0.5, w.shape) for w in model.get_weights()])
    ids = np.array([3, 1, 5, 0])
    section = trace(model, ids).section(rnn.name)
    states = rnn(model.layers[0](ids[None]))[0]
    np.testing.assert_allclose(section.stack("h"), states, rtol=1e-12, atol=1e-15)
    step = Step("")  # the cell's own step gives the rows of every traced step
    p = {k: np.asarray(v, np.float64) for k, v in rnn.params.items()}
    zero = tuple(np.zeros(3) for _ in rnn.cell.states)
    get_cell(name).trace_step(step.add, rnn, p, np.zeros(p["U"].shape[1]), zero, "1", "0")
    assert [k for k, _, _ in section.steps[0].rows][-len(step.rows) :] == [
        k for k, _, _ in step.rows
    ]


@pytest.mark.parametrize("name", [n for n in CELLS if get_cell(n).torch is not None])
def test_its_weights_round_trip_through_pytorch_names(name: str):
    rnn = cell_layer(name)(3)
    rnn.build(Spec("features", 2), np.random.default_rng(0))
    sd = to_torch(name, rnn.params)
    assert {k.split("_l0")[0] for k in sd} == {"weight_ih", "weight_hh", "bias_ih", "bias_hh"}
    back = from_torch(name, sd)  # b = bias_ih + bias_hh, or their two rows
    for k, v in rnn.params.items():
        np.testing.assert_array_equal(back[k], v)


@pytest.mark.parametrize("name", CELLS)
def test_the_command_line_offers_it(name: str):
    parser = build_parser()
    train = ["train", "--task", "seq2seq", "--data", "d", "--out", "o"]
    args = parser.parse_args([*train, "--cell", name, "--decoder-cell", name])
    assert (args.cell, args.decoder_cell) == (name, name)
    assert parser.parse_args(["bench", "--cell", name]).cell == [name]


@pytest.mark.parametrize("name", CELLS)
def test_the_benchmark_knows_it(name: str):
    cell, cfg = get_cell(name), find_config("tiny")
    assert name in BenchOptions().cells
    T, B, d, e = cfg.steps, cfg.batch, cfg.hidden, cfg.embed
    assert step_flops(cfg, name) == 3 * (
        2 * T * B * cell.n_gates * d * (e + d) + 2 * T * B * d * cfg.classes
    )
    assert framework_layer(name, "torch") == cell.torch
    assert framework_layer(name, "keras") == cell.keras
    assert type(build_model(cfg, name).layers[1]) is cell_layer(name)


@pytest.mark.parametrize("name", CELLS)
def test_the_report_names_its_parameters_and_a_model_file_rebuilds_it(name: str):
    cell = get_cell(name)
    rnn = cell_layer(name)(3)
    model = Sequential([Embedding(6, 4), rnn, Dense(1, "sigmoid")], seed=0)
    rows = layer_rows(model)[1].params
    assert [r.lecture for r in rows] == ["U", "W", "b"]
    assert [r.keras for r in rows] == (
        ["kernel", "recurrent_kernel", "bias"] if cell.keras else ["", "", ""]
    )
    assert rows[0].pytorch.startswith("weight_ih_l0") == (cell.torch is not None)
    assert sum(r.count for r in rows) == cell.count_params(4, 3, rnn.params["b"].ndim)
    assert layer_class(type(rnn).__name__) is type(rnn)
