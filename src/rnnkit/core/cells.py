"""The recurrent cells, each described once: what every other part needs to know about a cell.

A cell is the maths of one step, h_t = f(U x_t + W h_{t-1} + b) for the lecture's
tanh RNN, with gates for the LSTM and the GRU. The time loop lives in the cell's core
module (:mod:`rnnkit.core.rnn`, :mod:`rnnkit.core.lstm`, :mod:`rnnkit.core.gru`), the
parameters in its layer (:mod:`rnnkit.layers`), its float64 step for the trace in
:mod:`rnnkit.core.cell_steps`. Everything else that depends on the
cell reads its :class:`Cell` here: the layers and the task models (by ``name``), the
trace (its float64 ``trace_step``), PyTorch and Keras interop (the gate orders), the
benchmark (the other frameworks' layer names, the cost of a step) and the command
line (the choices of ``--cell``). Adding a cell is a core module (its scan, its
backward pass and its float64 step), a layer class whose ``cell`` attribute is its
description, and one :func:`register_cell` call.

U is (n_in, g d), W (d, g d) and b (g d,) (two rows, (2, g d), where the cell keeps a
recurrent bias of its own), with the g gate blocks side by side in rnnkit's column
order, which is Keras's:

>>> [(c.name, c.gates) for c in CELLS.values()]
[('rnn', ('h',)), ('lstm', ('i', 'f', 'c', 'o')), ('gru', ('z', 'r', 'h'))]
>>> get_cell("gru").torch_gates, get_cell("lstm").onnx_gates
(('r', 'z', 'h'), ('i', 'o', 'f', 'c'))
>>> get_cell("rnn").count_params(5, 3)     # the lecture's SimpleRNN(3) on 5 inputs
27
>>> get_cell("gru").count_params(5, 3, bias_rows=2), get_cell("lstm").count_params(5, 3)
(90, 108)
>>> get_cell("elman")
Traceback (most recent call last):
...
rnnkit.errors.ConfigError: cell='elman' is not one of rnn, lstm, gru
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from rnnkit.core import cell_steps, gru, lstm, rnn
from rnnkit.errors import ConfigError

__all__ = [
    "CELLS",
    "Cell",
    "cell_names",
    "get_cell",
    "register_cell",
    "registered_cell",
]


@dataclass(frozen=True)
class Cell:
    """One recurrent cell, as every part of rnnkit needs to know it.

    Attributes
    ----------
    name : str
        The name settings, model files and ``--cell`` use ("rnn", "lstm", "gru").
    gates : tuple of str
        The d-wide blocks of U, W and b, in rnnkit's (Keras's) column order.
    states : tuple of str
        What the cell carries from step to step: ("h",), or ("h", "c") for the LSTM.
    keras : str or None
        The Keras layer (``keras.layers.<keras>``), None where Keras has none.
    torch : str or None
        The PyTorch module (``torch.nn.<torch>``), None where PyTorch has none.
    torch_gates : tuple of str
        rnnkit's gate names in the order PyTorch stacks them in ``weight_ih_l0``.
    onnx : str or None
        The ONNX operator (RNN, LSTM, GRU), None where ONNX has none.
    onnx_gates : tuple of str
        rnnkit's gate names in ONNX's order.
    forward, backward : callable
        The core recurrence over time-major buffers and its backpropagation through
        time (the NumPy reference; their signatures are the cell module's own).
    trace_step : callable
        One step in float64, every vector labelled with its equation, for
        ``rnnkit trace``: ``trace_step(add, layer, params, ux, state, t, s)`` returns
        the new state (see :mod:`rnnkit.viz.toy`).
    recurrent_bias : bool
        The cell may keep a second bias row for the recurrent product (the GRU with
        ``reset_after``): b is then (2, g d), PyTorch's ``bias_ih`` and ``bias_hh``.
    """

    name: str
    gates: tuple[str, ...]
    states: tuple[str, ...]
    keras: str | None
    torch: str | None
    torch_gates: tuple[str, ...]
    onnx: str | None
    onnx_gates: tuple[str, ...]
    forward: Callable[..., Any]
    backward: Callable[..., Any]
    trace_step: Callable[..., Any]
    recurrent_bias: bool = False

    def __post_init__(self) -> None:
        for order in (self.torch_gates, self.onnx_gates):
            if sorted(order) != sorted(self.gates):
                raise ConfigError(f"cell {self.name!r}: {order} is not an order of {self.gates}")

    @property
    def n_gates(self) -> int:
        """g, the number of d-wide blocks in U, W and b."""
        return len(self.gates)

    def count_params(self, n_in: int, units: int, bias_rows: int = 1) -> int:
        """Parameters of one layer of `units` on `n_in` inputs: g d (n_in + d + bias_rows)."""
        return self.n_gates * units * (n_in + units + bias_rows)

    def step_flops(self, n_in: int, units: int) -> int:
        """Multiply-adds of the products of one step and one sequence, forward, times 2."""
        return 2 * self.n_gates * units * (n_in + units)

    def permutation(self, order: tuple[str, ...]) -> tuple[int, ...]:
        """Where each block of `order` sits in rnnkit's order: reorder blocks with it."""
        return tuple(self.gates.index(gate) for gate in order)


#: name -> description, in registration order
CELLS: dict[str, Cell] = {}


def register_cell(cell: Cell) -> Cell:
    """Add `cell` to :data:`CELLS` (a name is registered once); returns it."""
    if cell.name in CELLS:
        raise ConfigError(f"cell {cell.name!r} is already registered")
    CELLS[cell.name] = cell
    return cell


def get_cell(name: str) -> Cell:
    """The description of the cell called `name`; a ConfigError names the known ones."""
    try:
        return CELLS[name]
    except (KeyError, TypeError):
        raise ConfigError(f"cell={name!r} is not one of {', '.join(CELLS)}") from None


def cell_names() -> tuple[str, ...]:
    """The registered cells' names, in registration order (the choices of ``--cell``)."""
    return tuple(CELLS)


@contextmanager
def registered_cell(cell: Cell) -> Iterator[Cell]:
    """`cell` registered for the duration of a ``with`` block (tests of a new cell)."""
    register_cell(cell)
    try:
        yield cell
    finally:
        del CELLS[cell.name]


register_cell(
    Cell(
        name="rnn",
        gates=("h",),
        states=("h",),
        keras="SimpleRNN",
        torch="RNN",
        torch_gates=("h",),
        onnx="RNN",
        onnx_gates=("h",),
        forward=rnn.rnn_scan,
        backward=rnn.rnn_backward,
        trace_step=cell_steps.rnn_trace_step,
    )
)
register_cell(
    Cell(
        name="lstm",
        gates=("i", "f", "c", "o"),
        states=("h", "c"),
        keras="LSTM",
        torch="LSTM",
        torch_gates=("i", "f", "c", "o"),  # PyTorch calls the candidate g
        onnx="LSTM",
        onnx_gates=("i", "o", "f", "c"),
        forward=lstm.lstm_scan,
        backward=lstm.lstm_backward,
        trace_step=cell_steps.lstm_trace_step,
    )
)
register_cell(
    Cell(
        name="gru",
        gates=("z", "r", "h"),
        states=("h",),
        keras="GRU",
        torch="GRU",
        torch_gates=("r", "z", "h"),  # PyTorch calls the candidate n
        onnx="GRU",
        onnx_gates=("z", "r", "h"),
        forward=gru.gru_scan,
        backward=gru.gru_backward,
        trace_step=cell_steps.gru_trace_step,
        recurrent_bias=True,
    )
)
