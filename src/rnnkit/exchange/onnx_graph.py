"""ONNX's recurrent nodes from rnnkit's layers, and the graph they are added to.

DESIGN §4: ONNX's RNN, LSTM and GRU operators take W [D, g d, n_in], R [D, g d, d] and
B [D, 2 g d] = [Wb, Rb] with the gate blocks in ONNX's order (LSTM i, o, f, c; GRU z,
r, h, ``linear_before_reset`` = 1 for rnnkit's reset_after GRU, whose second bias row
is Rb), read time-major inputs (``layout`` 0, the one ONNX Runtime runs), and stop
each sequence at its ``sequence_lens``. :func:`rnn_node` adds one such node for a
recurrent layer, both directions at once for a Bidirectional one.

A tagger's character features (:func:`char_features`) are one such bidirectional node
over every word's characters, or for a :class:`~rnnkit.layers.CharCNN` a ``Conv``
over the characters' embeddings (zeros at pads, ``pads`` of ``window // 2`` each side)
and a ``ReduceMax`` over the real characters only (-inf at pads before the max).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rnnkit.core.cells import Cell
from rnnkit.errors import ConfigError
from rnnkit.layers import Bidirectional, CharCNN, CharEncoder, Dense
from rnnkit.layers.recurrent import RecurrentLayer

__all__ = [
    "ONNX_ACTIVATIONS",
    "Graph",
    "activations",
    "char_features",
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


def char_features(g: Graph, chars: CharEncoder | CharCNN, rows: str, n: str) -> str:
    """Each word's features (N, width) from its character ids `rows` (N, L), 0 after
    the last, and its count of characters `n` (N,) int64; zeros for a word of none.

    The recurrent encoder reads one pad character of a word of none (ONNX Runtime
    refuses a length of 0); the CNN's max over no character is -inf. Both are then set
    to zero, as rnnkit gives them.
    """
    BOOL = g.onnx.TensorProto.BOOL
    char_E = g.const("char_E", chars.embedding.params["E"].astype(np.float32))
    if isinstance(chars, CharCNN):
        h = _conv_max(g, chars, rows, char_E)
    else:
        one = g.const("one", np.array(1))
        read = g.op("Cast", [g.op("Max", [n, one])], to=g.onnx.TensorProto.INT32)
        c_tm = g.op("Gather", [char_E, g.op("Transpose", [rows], perm=[1, 0])], axis=0)  # (L, N, c)
        _, Y_h, *_ = rnn_node(g, chars.rnn, c_tm, read)
        h = last_states(g, Y_h)  # (N, 2 u)
    some = g.op("Cast", [g.op("Greater", [n, g.const("none", np.array(0))])], to=BOOL)
    some = g.op("Unsqueeze", [some, g.const("axes", np.array([1]))])  # (N, 1)
    return g.op("Where", [some, h, g.const("zero", np.array(0.0, dtype=np.float32))])


def _conv_max(g: Graph, cnn: CharCNN, rows: str, char_E: str) -> str:
    """max over the real characters of Conv(window, pads window // 2) (N, F)."""
    is_char = g.op("Greater", [rows, g.const("pad", np.array(0))])  # (N, L) bool
    e = g.op("Gather", [char_E, rows], axis=0)  # (N, L, c)
    ones = g.op("Cast", [is_char], to=g.onnx.TensorProto.FLOAT)
    e = g.op("Mul", [e, g.op("Unsqueeze", [ones, g.const("axes", np.array([2]))])])  # pads 0
    e = g.op("Transpose", [e], perm=[0, 2, 1])  # (N, c, L)
    W = cnn.params["W"].transpose(2, 1, 0).astype(np.float32)  # (k, c, F) -> (F, c, k)
    half = cnn.window // 2
    b = g.const("conv_b", cnn.params["b"].astype(np.float32))
    z = g.op("Conv", [e, g.const("conv_W", W), b], kernel_shape=[cnn.window], pads=[half, half])
    real = g.op("Unsqueeze", [is_char, g.const("axes", np.array([1]))])  # (N, 1, L)
    lowest = g.const("lowest", np.array(-np.inf, dtype=np.float32))
    z = g.op("Where", [real, z, lowest])  # (N, F, L): pads never win
    return g.op("ReduceMax", [z], axes=[2], keepdims=0)
