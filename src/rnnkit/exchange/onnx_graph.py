"""ONNX's recurrent nodes from rnnkit's layers, and the graph they are added to.

DESIGN §4: ONNX's RNN, LSTM and GRU operators take W [D, g d, n_in], R [D, g d, d] and
B [D, 2 g d] = [Wb, Rb] with the gate blocks in ONNX's order (LSTM i, o, f, c; GRU z,
r, h, ``linear_before_reset`` = 1 for rnnkit's reset_after GRU, whose second bias row
is Rb), read time-major inputs (``layout`` 0, the one ONNX Runtime runs), and stop
each sequence at its ``sequence_lens``. :func:`rnn_node` adds one such node for a
recurrent layer, both directions at once for a Bidirectional one.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rnnkit.core.cells import Cell
from rnnkit.errors import ConfigError
from rnnkit.layers import Bidirectional, Dense
from rnnkit.layers.recurrent import RecurrentLayer

__all__ = [
    "ONNX_ACTIVATIONS",
    "Graph",
    "activations",
    "dense",
    "last_states",
    "onnx_weights",
    "rnn_node",
]

Array = np.ndarray

#: ONNX's names of rnnkit's activations
ONNX_ACTIVATIONS = {"tanh": "Tanh", "relu": "Relu", "sigmoid": "Sigmoid"}


def onnx_weights(cell: Cell, directions: list[dict[str, Array]]) -> tuple[Array, Array, Array]:
    """W [D, g d, n_in], R [D, g d, d], B [D, 2 g d] from each direction's U, W, b.

    >>> from rnnkit.core.cells import get_cell
    >>> d = 2
    >>> U = np.arange(4 * 4 * d, dtype=float).reshape(4, 4 * d)   # i, f, c, o blocks
    >>> W_, R_, B_ = onnx_weights(get_cell("lstm"),
    ...     [{"U": U, "W": np.zeros((d, 4 * d)), "b": np.arange(4 * d, dtype=float)}])
    >>> W_.shape, R_.shape, B_.shape
    ((1, 8, 4), (1, 8, 2), (1, 16))
    >>> B_[0, :8].tolist()      # ONNX's order i, o, f, c; then the recurrent bias, zeros
    [0.0, 1.0, 6.0, 7.0, 2.0, 3.0, 4.0, 5.0]
    """
    order = cell.permutation(cell.onnx_gates)

    def blocks(a: Array) -> Array:  # (..., g d) with the gate blocks in ONNX's order
        parts = np.split(a, cell.n_gates, axis=-1)
        return np.concatenate([parts[k] for k in order], axis=-1)

    Ws, Rs, Bs = [], [], []
    for p in directions:
        b = np.asarray(p["b"])
        b_x, b_h = (b[0], b[1]) if b.ndim == 2 else (b, np.zeros_like(b))
        Ws.append(blocks(p["U"]).T)  # (g d, n_in)
        Rs.append(blocks(p["W"]).T)  # (g d, d)
        Bs.append(np.concatenate([blocks(b_x), blocks(b_h)]))  # (2 g d,)
    return tuple(np.stack(a).astype(np.float32) for a in (Ws, Rs, Bs))  # type: ignore[return-value]


class Graph:
    """Nodes and initialisers under construction, with fresh tensor names.

    `onnx` is the imported ``onnx`` package (an optional dependency, imported by the
    caller), whose ``helper`` and ``numpy_helper`` make the nodes and tensors.
    """

    def __init__(self, onnx: Any) -> None:
        self.onnx = onnx
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self.count = 0

    def fresh(self, stem: str) -> str:
        """A tensor name no other tensor of the graph has."""
        self.count += 1
        return f"{stem}_{self.count}"

    def const(self, stem: str, value: Array) -> str:
        """Add `value` as an initialiser (its own dtype); its name."""
        name = self.fresh(stem)
        self.initializers.append(self.onnx.numpy_helper.from_array(np.asarray(value), name))
        return name

    def op(self, op_type: str, inputs: list[str], n_out: int = 1, **attrs: Any) -> Any:
        """Add a node; its output name (a list of them when n_out > 1)."""
        outs = [self.fresh(op_type.lower()) for _ in range(n_out)]
        self.nodes.append(self.onnx.helper.make_node(op_type, inputs, outs, **attrs))
        return outs[0] if n_out == 1 else outs


def dense(g: Graph, layer: Dense, x: str) -> str:
    """x V + c and the layer's activation (softmax over the last axis)."""
    V = g.const("V", layer.params["V"].astype(np.float32))
    c = g.const("c", layer.params["c"].astype(np.float32))
    a = g.op("Add", [g.op("MatMul", [x, V]), c])
    if layer.activation == "softmax":
        return g.op("Softmax", [a], axis=-1)
    if layer.activation == "linear":
        return a
    if layer.activation in ONNX_ACTIVATIONS:
        return g.op(ONNX_ACTIVATIONS[layer.activation], [a])
    raise ConfigError(f"cannot export to ONNX: {layer.name} has activation={layer.activation!r}")


def last_states(g: Graph, Y_h: str) -> str:
    """Y_h (D, B, d), each direction's state after its last real step -> (B, D d)."""
    y = g.op("Transpose", [Y_h], perm=[1, 0, 2])  # (B, D, d)
    return g.op("Reshape", [y, g.const("shape", np.array([0, -1]))])


def rnn_node(
    g: Graph,
    layer: RecurrentLayer | Bidirectional,
    x_tm: str,
    lens32: str,
    initial: list[str] | None = None,
) -> list[str]:
    """One ONNX RNN / LSTM / GRU node on time-major (T, B, n), both directions at once
    when bidirectional; its outputs Y (T, D, B, d), Y_h (D, B, d) and the LSTM's Y_c.

    `lens32` is the int32 (B,) ``sequence_lens`` ("" when every sequence is T long);
    `initial` the initial states (D, B, d), h (and the LSTM's c), zeros when None.
    """
    both = isinstance(layer, Bidirectional)
    rnns: list[Any] = list(layer.sublayers) if both else [layer]  # forward, backward
    rnn: RecurrentLayer = rnns[0]
    cell, d, D = rnn.cell, rnn.units, len(rnns)
    W, R, B = onnx_weights(cell, [r.params for r in rnns])
    attrs: dict[str, Any] = {
        "hidden_size": d,
        "direction": "bidirectional" if both else "forward",
        "activations": activations(rnn) * D,
    }
    if cell.name == "gru":
        attrs["linear_before_reset"] = int(rnn.params["b"].ndim == 2)  # reset_after
    inputs = [x_tm, g.const("W", W), g.const("R", R), g.const("B", B), lens32, *(initial or [])]
    n_out = 3 if cell.name == "lstm" else 2
    return list(g.op(str(cell.onnx), inputs, n_out=n_out, **attrs))


def activations(rnn: RecurrentLayer) -> list[str]:
    """ONNX's activation list for one direction: the gates' sigmoid first."""
    f = ONNX_ACTIVATIONS[rnn.activation]
    return {"rnn": [f], "lstm": ["Sigmoid", f, f], "gru": ["Sigmoid", f]}[rnn.cell.name]
