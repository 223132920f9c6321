"""The cell registry, rnnkit.core.cells: one description per cell, each name once.

Specified here: the three cells and their order; every other framework's gate order is
a reordering of rnnkit's, and :meth:`Cell.permutation` reorders blocks accordingly;
the parameter count of a description is its layer's, for several shapes and both
GRU biases; an unknown name, a second registration and a gate order that is not a
permutation are refused with a ConfigError; a cell registered for a ``with`` block is
gone after it, even when the block fails.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from rnnkit.core.cells import CELLS, Cell, cell_names, get_cell, register_cell, registered_cell
from rnnkit.errors import ConfigError
from rnnkit.layers import GRU, LSTM, SimpleRNN, Spec, cell_layer


def test_the_three_cells_in_registration_order():
    assert cell_names() == ("rnn", "lstm", "gru")
    assert [get_cell(name).name for name in cell_names()] == list(cell_names())
    assert list(CELLS) == list(cell_names())


@pytest.mark.parametrize("name", cell_names())
def test_other_orders_are_permutations_of_rnnkits(name: str):
    cell = get_cell(name)
    blocks = np.arange(cell.n_gates)  # block k of rnnkit's order holds the number k
    for order in (cell.torch_gates, cell.onnx_gates):
        assert sorted(order) == sorted(cell.gates)
        moved = blocks[list(cell.permutation(order))]  # the blocks in `order`
        assert [cell.gates[k] for k in moved] == list(order)
    assert cell.permutation(cell.gates) == tuple(range(cell.n_gates))


def test_pytorch_and_onnx_orders_of_the_gated_cells():
    """The GRU's first two blocks swap in PyTorch; the LSTM's last three move in ONNX."""
    assert get_cell("gru").permutation(get_cell("gru").torch_gates) == (1, 0, 2)
    assert get_cell("lstm").permutation(get_cell("lstm").torch_gates) == (0, 1, 2, 3)
    assert get_cell("lstm").permutation(get_cell("lstm").onnx_gates) == (0, 3, 1, 2)


@pytest.mark.parametrize(("n_in", "units"), [(1, 1), (5, 3), (7, 16)])
@pytest.mark.parametrize(
    ("layer", "bias_rows"),
    [
        (SimpleRNN, 1),
        (LSTM, 1),
        (lambda d: GRU(d, reset_after=True), 2),
        (lambda d: GRU(d, reset_after=False), 1),
    ],
    ids=["rnn", "lstm", "gru-reset-after", "gru-reset-before"],
)
def test_count_params_is_the_layers(layer, bias_rows: int, n_in: int, units: int):
    built = layer(units)
    built.build(Spec("features", n_in), np.random.default_rng(0))
    assert built.cell.count_params(n_in, units, bias_rows=bias_rows) == built.count_params()


@pytest.mark.parametrize("name", cell_names())
def test_a_layer_takes_its_sizes_from_its_description(name: str):
    layer = cell_layer(name)
    assert layer.cell is get_cell(name)
    assert layer.gates == get_cell(name).n_gates
    assert layer.n_states == len(get_cell(name).states)


def test_step_flops_counts_both_products_of_every_gate():
    # one step of one sequence: x_t U (n_in x g d) and h_{t-1} W (d x g d), 2 FLOPs each
    assert get_cell("lstm").step_flops(5, 3) == 2 * 4 * 3 * (5 + 3)
    assert get_cell("rnn").step_flops(5, 3) == 2 * 3 * (5 + 3)


@pytest.mark.parametrize("name", ["elman", "", None, "RNN"])
def test_an_unknown_cell_is_refused_with_the_known_names(name):
    with pytest.raises(ConfigError, match=r"is not one of rnn, lstm, gru$"):
        get_cell(name)


def test_a_name_is_registered_once():
    with pytest.raises(ConfigError, match="cell 'gru' is already registered"):
        register_cell(get_cell("gru"))
    assert cell_names() == ("rnn", "lstm", "gru")


def test_a_gate_order_must_be_a_permutation():
    with pytest.raises(ConfigError, match=r"cell 'gru': \('r', 'z'\) is not an order of"):
        dataclasses.replace(get_cell("gru"), torch_gates=("r", "z"))


def test_registered_cell_lasts_for_its_block_only():
    new = dataclasses.replace(get_cell("rnn"), name="elman")
    with registered_cell(new) as cell:
        assert cell is new and get_cell("elman") is new
        assert cell_names() == ("rnn", "lstm", "gru", "elman")
    assert "elman" not in CELLS
    with pytest.raises(RuntimeError, match="inside"), registered_cell(new):
        raise RuntimeError("inside")
    assert cell_names() == ("rnn", "lstm", "gru")


def test_a_registered_cell_without_a_layer_class_is_named():
    with (
        registered_cell(dataclasses.replace(get_cell("rnn"), name="elman")),
        pytest.raises(ConfigError, match="cell='elman' has no layer class"),
    ):
        cell_layer("elman")
    with pytest.raises(ConfigError, match="cell='elman' is not one of rnn, lstm, gru"):
        cell_layer("elman")


def test_cell_is_a_frozen_description():
    with pytest.raises(dataclasses.FrozenInstanceError):
        get_cell("rnn").name = "elman"  # type: ignore[misc]
    assert isinstance(get_cell("rnn"), Cell)
