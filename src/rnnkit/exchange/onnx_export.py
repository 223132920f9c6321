"""An rnnkit network as an ONNX graph, built with the ``onnx`` package's helpers.

The recurrent layers become ONNX's own RNN, LSTM and GRU operators (DESIGN §4): W
[D, g d, n_in], R [D, g d, d] and B [D, 2 g d] in ONNX's gate order (LSTM i, o, f, c;
GRU z, r, h with ``linear_before_reset`` = 1 for rnnkit's reset_after GRU), ``layout``
0 (time-major, which ONNX Runtime requires of recurrent nodes) with a transpose on
each side, and ``sequence_lens`` from the ``lengths`` input, so a padded batch gives
the same numbers as each sequence alone. Batch and time are dynamic axes.

Inputs and outputs of the graph:

===============  ===================  ===============================================
name             shape                meaning
===============  ===================  ===============================================
``ids``          int64 (B, T)         token ids (``vocab`` in the metadata), or
                 int64 (B, T, 1 + L)  with character features: each word's id, then
                                      its character ids, 0 after the last, or
``frames``       float32 (B, T, F)    raw features (standardised inside the graph)
``lengths``      int64 (B,)           real steps of each sequence, at least 1
``probabilities``  (B, k) / (B, T, k)  softmax, or sigmoid (k = 1) for two classes
``values``       (B, k) / (B, T, k)   the regressor's outputs, in the targets' units
``emissions``    (B, T, K)            a CRF tagger's scores; with ``transitions``
                                      (K, K), ``start`` and ``end`` (K,) for Viterbi
                                      (-inf where the tagging scheme forbids)
===============  ===================  ===============================================

Per-step outputs are zero at padded steps, as rnnkit's ``predict`` gives them. The
metadata (``metadata_props``) holds ``rnnkit`` (JSON, see
:meth:`~rnnkit.exchange.portable.Portable.metadata`): the vocabulary, the labels, the
tokenizer settings, the feature names and scalings.

ONNX Runtime writes zeros in ``Y`` at padded steps; rnnkit does too, so no step
differs. Keras instead carries the previous output there (see
:mod:`rnnkit.exchange.keras_files`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from rnnkit.errors import ConfigError
from rnnkit.exchange.onnx_graph import Graph, char_features, dense, last_states, rnn_node
from rnnkit.exchange.onnx_seq2seq import decoder_graph, encoder_graph
from rnnkit.exchange.portable import (
    Portable,
    directory_metadata,
    portable,
    require,
)
from rnnkit.io import load_model_dir, read_config
from rnnkit.layers import (
    CRF,
    Bidirectional,
    CharCNN,
    Dense,
    Dropout,
    Embedding,
    GlobalAveragePooling1D,
    GlobalMaxPooling1D,
    Layer,
    OneHot,
    WordCharEmbedding,
)
from rnnkit.layers.recurrent import RecurrentLayer
from rnnkit.models import load_model

__all__ = ["OPSET", "export_onnx", "onnx_model"]

Array = np.ndarray

#: the operator set the graphs use (ReduceMax's axes still an attribute); every tensor
#: is float32, a float64 model's weights included
OPSET = 17


class _Flow:
    """The tensor between two layers: (B, T, n) or (B, n), batch-major."""

    def __init__(self, name: str, time: bool) -> None:
        self.name, self.time = name, time


def onnx_model(model: Portable) -> Any:
    """The ``onnx.ModelProto`` of a portable network (checked with ``onnx.checker``)."""
    onnx = require("onnx")
    require("onnx.numpy_helper")
    g = Graph(onnx)
    TensorProto = onnx.TensorProto
    first = "frames" if model.inputs == "frames" else "ids"
    if first == "frames":
        F = int(model.network.input_dim or 0)
        x_info = onnx.helper.make_tensor_value_info(first, TensorProto.FLOAT, ["batch", "time", F])
    elif isinstance(model.network.layers[0], WordCharEmbedding):  # word id, then characters
        dims = ["batch", "time", "chars"]
        x_info = onnx.helper.make_tensor_value_info(first, TensorProto.INT64, dims)
    else:
        x_info = onnx.helper.make_tensor_value_info(first, TensorProto.INT64, ["batch", "time"])
    lengths_info = onnx.helper.make_tensor_value_info("lengths", TensorProto.INT64, ["batch"])
    lens32 = g.op("Cast", ["lengths"], to=TensorProto.INT32)
    mask = _step_mask(g, first)  # (B, T) float, 1 at real steps
    x = first
    if model.input_scaling is not None:
        mean, std = model.input_scaling
        x = g.op(
            "Div",
            [
                g.op("Sub", [x, g.const("mean", mean.astype(np.float32))]),
                g.const("std", std.astype(np.float32)),
            ],
        )
    flow = _Flow(x, time=True)
    for layer in model.network.layers:
        if isinstance(layer, CRF):
            break  # the emissions leave the graph; Viterbi is the user's
        flow = _layer(g, layer, flow, lens32, mask)
    out = flow.name
    if model.output_scaling is not None:
        mean, std = model.output_scaling
        out = g.op(
            "Add",
            [
                g.op("Mul", [out, g.const("std", std.astype(np.float32))]),
                g.const("mean", mean.astype(np.float32)),
            ],
        )
    if flow.time:  # pad steps output zero, as rnnkit's predict gives them
        out = g.op("Mul", [out, g.op("Unsqueeze", [mask, g.const("axes", np.array([2]))])])
    outputs = _outputs(g, model, out)
    graph = onnx.helper.make_graph(
        g.nodes, "rnnkit", [x_info, lengths_info], outputs, initializer=g.initializers
    )
    proto = onnx.helper.make_model(
        graph,
        opset_imports=[onnx.helper.make_opsetid("", OPSET)],
        producer_name="rnnkit",
        doc_string=f"rnnkit {model.task} model: inputs {first}, lengths",
    )
    proto.ir_version = 8  # read by every ONNX Runtime since 1.10
    onnx.helper.set_model_props(proto, {"rnnkit": json.dumps(model.metadata(), ensure_ascii=False)})
    onnx.checker.check_model(proto, full_check=True)
    return proto


def export_onnx(directory: str | os.PathLike[str], out: str | os.PathLike[str]) -> list[Path]:
    """Write the model directory's network as an ONNX file; returns its path.

    A seq2seq model becomes two files beside `out`, ``<stem>.encoder.onnx`` and
    ``<stem>.decoder.onnx`` (:mod:`rnnkit.exchange.onnx_seq2seq`); both paths return.
    """
    out = Path(out)
    if read_config(directory)["task"] == "seq2seq":
        onnx = require("onnx")
        require("onnx.numpy_helper")
        model, files = load_model(directory), load_model_dir(directory)
        meta = {**directory_metadata(files), "sos": model.vocab_["<sos>"],
                "eos": model.vocab_["<eos>"]}  # fmt: skip
        pairs = [
            (out.with_name(f"{out.stem}.encoder.onnx"), encoder_graph(onnx, model.model_, meta)),
            (out.with_name(f"{out.stem}.decoder.onnx"), decoder_graph(onnx, model.model_, meta)),
        ]
    else:
        pairs = [(out, onnx_model(portable(directory, "ONNX")))]
    for path, proto in pairs:
        path.write_bytes(proto.SerializeToString())
    return [path for path, _ in pairs]


def _outputs(g: Graph, model: Portable, out: str) -> list[Any]:
    """Name the final tensor; a CRF's transitions leave beside its emissions."""
    helper, FLOAT = g.onnx.helper, g.onnx.TensorProto.FLOAT
    dense = [l for l in model.network.layers if isinstance(l, Dense)][-1]
    k = dense.units
    shape: list[Any] = ["batch", "time", k] if model.per_step else ["batch", k]
    crf = model.crf
    if crf is not None:
        name = "emissions"
    elif model.output_scaling is not None or dense.activation == "linear":
        name = "values"
    else:
        name = "probabilities"
    g.nodes.append(helper.make_node("Identity", [out], [name]))
    infos = [helper.make_tensor_value_info(name, FLOAT, shape)]
    scores = model.crf_scores()
    if scores is not None:  # as rnnkit's Viterbi reads them: -inf where the scheme forbids
        for value, onnx_name in zip(scores, ("transitions", "start", "end"), strict=True):
            value = value.astype(np.float32)
            g.nodes.append(helper.make_node("Identity", [g.const(onnx_name, value)], [onnx_name]))
            infos.append(helper.make_tensor_value_info(onnx_name, FLOAT, list(value.shape)))
    return infos


def _step_mask(g: Graph, first: str) -> str:
    """(B, T) float32: 1 where t < lengths[b], else 0."""
    T = g.op("Gather", [g.op("Shape", [first]), g.const("one", np.array(1))])
    steps = g.op("Range", [g.const("zero", np.array(0)), T, g.const("step", np.array(1))])
    lens = g.op("Unsqueeze", ["lengths", g.const("axes", np.array([1]))])  # (B, 1)
    real = g.op("Less", [g.op("Unsqueeze", [steps, g.const("axes", np.array([0]))]), lens])
    return g.op("Cast", [real], to=g.onnx.TensorProto.FLOAT)


def _layer(g: Graph, layer: Layer, flow: _Flow, lens32: str, mask: str) -> _Flow:
    """The nodes of one layer; the tensor it hands to the next."""
    if isinstance(layer, Dropout):
        return flow  # the identity at inference
    if isinstance(layer, Embedding):
        E = g.const("E", layer.params["E"].astype(np.float32))
        return _Flow(g.op("Gather", [E, flow.name], axis=0), time=True)
    if isinstance(layer, OneHot):
        depth = g.const("depth", np.array(layer.depth))
        values = g.const("values", np.array([0.0, 1.0], dtype=np.float32))
        return _Flow(g.op("OneHot", [flow.name, depth, values], axis=-1), time=True)
    if isinstance(layer, WordCharEmbedding):
        return _Flow(_word_chars(g, layer, flow.name), time=True)
    if isinstance(layer, RecurrentLayer | Bidirectional):
        return _recurrent(g, layer, flow, lens32)
    if isinstance(layer, GlobalAveragePooling1D):
        total = g.op("ReduceSum", [flow.name, g.const("axes", np.array([1]))], keepdims=0)
        count = g.op("ReduceSum", [mask, g.const("axes", np.array([1]))], keepdims=1)  # (B, 1)
        return _Flow(g.op("Div", [total, count]), time=False)
    if isinstance(layer, GlobalMaxPooling1D):
        real = g.op(
            "Cast",
            [g.op("Unsqueeze", [mask, g.const("axes", np.array([2]))])],
            to=g.onnx.TensorProto.BOOL,
        )
        lowest = g.const("lowest", np.array(-np.inf, dtype=np.float32))
        masked = g.op("Where", [real, flow.name, lowest])  # pads never win
        return _Flow(g.op("ReduceMax", [masked], axes=[1], keepdims=0), time=False)
    if isinstance(layer, Dense):
        return _Flow(dense(g, layer, flow.name), time=flow.time)
    raise ConfigError(f"cannot export to ONNX: layer {type(layer).__name__} has no counterpart")


def _recurrent(g: Graph, layer: RecurrentLayer | Bidirectional, flow: _Flow, lens32: str) -> _Flow:
    """A recurrent layer on (B, T, n): layout 0 inside, batch-major outside."""
    x_tm = g.op("Transpose", [flow.name], perm=[1, 0, 2])  # (T, B, n): layout 0
    Y, Y_h, *_ = rnn_node(g, layer, x_tm, lens32)
    if layer.return_sequences:  # Y (T, D, B, d) -> (B, T, D d): the directions concatenated
        y = g.op("Transpose", [Y], perm=[2, 0, 1, 3])
        return _Flow(g.op("Reshape", [y, g.const("shape", np.array([0, 0, -1]))]), time=True)
    return _Flow(last_states(g, Y_h), time=False)


def _word_chars(g: Graph, layer: WordCharEmbedding, x: str) -> str:
    """(B, T, 1 + L) ids -> [word embedding, character features] (B, T, e + w).

    Every word's characters are one row of a (B T)-row batch, read at once by
    :func:`~rnnkit.exchange.onnx_graph.char_features` (one bidirectional node, or a
    convolution and a masked max); w is 2 u, or the CNN's filters.
    """
    INT64 = g.onnx.TensorProto.INT64
    E = g.const("E", layer.words.params["E"].astype(np.float32))
    words = g.op("Gather", [x, g.const("zero", np.array(0))], axis=2)  # (B, T)
    e = g.op("Gather", [E, words], axis=0)  # (B, T, e)
    big = np.iinfo(np.int64).max
    chars = g.op(
        "Slice",
        [
            x,
            g.const("start", np.array([1])),
            g.const("end", np.array([big])),
            g.const("axes", np.array([2])),
        ],
    )
    L = g.op(
        "Slice",
        [g.op("Shape", [chars]), g.const("start", np.array([2])), g.const("end", np.array([3]))],
    )
    rows = g.op("Reshape", [chars, g.op("Concat", [g.const("all", np.array([-1])), L], axis=0)])
    n = g.op(
        "ReduceSum",
        [
            g.op("Cast", [g.op("Greater", [rows, g.const("pad", np.array(0))])], to=INT64),
            g.const("axes", np.array([1])),
        ],
        keepdims=0,
    )
    h = char_features(g, layer.chars, rows, n)  # (N, w)
    BT = g.op(
        "Slice",
        [g.op("Shape", [x]), g.const("start", np.array([0])), g.const("end", np.array([2]))],
    )
    w = layer.chars.filters if isinstance(layer.chars, CharCNN) else 2 * layer.chars.units
    width = g.const("width", np.array([w]))
    c = g.op("Reshape", [h, g.op("Concat", [BT, width], axis=0)])  # (B, T, w)
    return g.op("Concat", [e, c], axis=-1)
