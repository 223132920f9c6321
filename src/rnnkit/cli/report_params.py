"""The report's layer table: every parameter under its lecture, Keras and PyTorch names.

The names are the ones the layers' own docstrings give (DESIGN §4):

=========  ===========  ==================  ===========================================
layer      lecture      Keras               PyTorch
=========  ===========  ==================  ===========================================
Embedding  E (N, d)     ``embeddings``      ``nn.Embedding`` ``weight``
SimpleRNN  U (n_in, d)  ``kernel``          ``weight_ih_l0`` = U.T
LSTM, GRU  W (d, d)     ``recurrent_kernel`` ``weight_hh_l0`` = W.T
           b (d,)       ``bias``            ``bias_ih_l0 + bias_hh_l0`` = b (GRU: its
                                            two rows, one each)
Dense      V (d, k)     ``kernel``          ``nn.Linear`` ``weight`` = V.T
           c (k,)       ``bias``            ``nn.Linear`` ``bias`` = c
=========  ===========  ==================  ===========================================

The k-th recurrent layer of a stack is ``_l<k>`` in PyTorch; a bidirectional layer's
backward copy adds ``_reverse`` (Keras keeps it in ``backward_layer``). An encoder-
decoder counts its encoder's and its decoder's layers apart, as two PyTorch modules.

>>> from rnnkit import Dense, OneHot, Sequential, SimpleRNN
>>> net = Sequential([OneHot(5), SimpleRNN(3), Dense(1, "sigmoid")], seed=0)
>>> [(p.lecture, p.keras, p.pytorch, p.count) for p in layer_rows(net)[1].params]
[('U', 'kernel', 'weight_ih_l0 = U.T', 15), ('W', 'recurrent_kernel', 'weight_hh_l0 = W.T', 9),
 ('b', 'bias', 'bias_ih_l0 + bias_hh_l0 = b', 3)]
"""

from __future__ import annotations

from typing import Any

from rnnkit.layers import Bidirectional, Dense, Embedding, Layer
from rnnkit.layers.recurrent import RecurrentLayer
from rnnkit.viz.report import LayerRow, ParamRow

__all__ = ["layer_rows"]

#: a recurrent layer's parameters: (lecture, Keras, PyTorch with {l} the layer suffix)
RECURRENT = {
    "U": ("U", "kernel", "weight_ih{l} = U.T"),
    "W": ("W", "recurrent_kernel", "weight_hh{l} = W.T"),
    "b": ("b", "bias", "bias_ih{l} + bias_hh{l} = b"),
}
#: a (2, g d) bias (a cell with a recurrent bias: the reset_after GRU): one row for each
#: of PyTorch's biases
TWO_BIASES = "bias_ih{l} = b[0], bias_hh{l} = b[1]"
#: the output layer's and the embedding's parameters
DENSE = {"V": ("V", "kernel", "nn.Linear weight = V.T"), "c": ("c", "bias", "nn.Linear bias = c")}
EMBEDDING = {"E": ("E", "embeddings", "nn.Embedding weight")}


def _names(layer: Layer, key: str, value: Any, suffix: str) -> tuple[str, str, str]:
    """(lecture, Keras, PyTorch) names of parameter `key` of a plain (unwrapped) layer."""
    if isinstance(layer, RecurrentLayer) and key in RECURRENT:
        lecture, keras, torch = RECURRENT[key]
        cell = layer.cell
        keras = keras if cell.keras is not None else ""  # Keras has no layer for this cell
        if cell.torch is None:
            torch = ""  # PyTorch has no module for this cell
        elif cell.recurrent_bias and key == "b":
            # NOTE: a GRU with its reset gate before the product (one bias row) has no
            # PyTorch twin
            torch = TWO_BIASES if value.ndim == 2 else ""
        elif cell.torch_gates != cell.gates:
            torch += f" (gates reordered {', '.join(cell.torch_gates)})"
        return lecture, keras, torch.format(l=suffix)
    if isinstance(layer, Dense) and key in DENSE:
        return DENSE[key]
    if isinstance(layer, Embedding) and key in EMBEDDING:
        return EMBEDDING[key]
    return "", "", ""


def _param_row(layer: Layer, key: str, value: Any, index: int) -> ParamRow:
    inner = getattr(layer, "layer", layer)  # TimeDistributed applies its Dense at every step
    direction, base = "", key
    if isinstance(layer, Bidirectional):
        direction, base = key.split("_", 1)
        inner = layer.forward_layer
    suffix = f"_l{index}" + ("_reverse" if direction == "backward" else "")
    lecture, keras, torch = _names(inner, base, value, suffix)
    if direction:
        lecture = f"{lecture} ({direction})" if lecture else ""
        keras = f"{direction}_layer {keras}" if keras else ""
    return ParamRow(key, lecture, keras, torch, tuple(value.shape), int(value.size))


def _recurrent_index(network: Any) -> dict[int, int]:
    """id(layer) -> k, its place among the recurrent layers of its stack (PyTorch's l_k)."""
    groups = [getattr(network, g, None) for g in ("encoder", "decoder")]
    stacks = [g for g in groups if isinstance(g, list)] or [network.layers]
    index: dict[int, int] = {}
    for stack in stacks:
        recurrent = [l for l in stack if isinstance(l, (RecurrentLayer, Bidirectional))]
        index.update({id(l): k for k, l in enumerate(recurrent)})
    return index


def layer_rows(network: Any) -> list[LayerRow]:
    """Every layer of a Sequential or an EncoderDecoder, with its parameters named."""
    index = _recurrent_index(network)
    return [
        LayerRow(
            layer.name,
            type(layer).__name__,
            [_param_row(layer, k, v, index.get(id(layer), 0)) for k, v in layer.params.items()],
        )
        for layer in network.layers
    ]
