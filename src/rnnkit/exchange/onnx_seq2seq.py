"""A seq2seq model as two ONNX graphs: the encoder, and one step of the decoder.

Decoding feeds each output back in (greedy or beam search), so it is a loop around
the decoder, not one pass: the loop stays the user's, and each graph is one pass.

``<stem>.encoder.onnx``

===================  ==================  ==========================================
name                 shape               meaning
===================  ==================  ==========================================
``source``           int64 (B, S)        source token ids (``source`` vocabulary)
``source_lengths``   int64 (B,)          real tokens of each source, at least 1
``encoder_outputs``  float32 (B, S, m)   e_1 .. e_S, zero at pads
``state_<l>_h``      float32 (B, d)      decoder layer l's initial h (the context)
``state_<l>_c``      float32 (B, d)      and its c, for an LSTM decoder
===================  ==================  ==========================================

``<stem>.decoder.onnx``: inputs ``tokens`` int64 (B,), the previous tokens
(``<sos>`` first), ``encoder_outputs``, ``source_lengths`` and the states; outputs
``log_probs`` (B, V) = log p(y_t | y_<t, x), the states after the step under the same
names prefixed ``next_``, and ``attention`` (B, S) (without attention: none). The
greedy decoder takes the argmax, feeds it back as ``tokens`` and the ``next_`` states
as the states, and stops at ``<eos>``; both files carry the vocabularies in their
``rnnkit`` metadata.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from rnnkit.exchange.onnx_graph import Graph, dense, rnn_node
from rnnkit.layers import Bidirectional, Dropout, Embedding
from rnnkit.layers.attention import Attention
from rnnkit.layers.recurrent import RecurrentLayer
from rnnkit.models.encoder_decoder import EncoderDecoder

__all__ = ["decoder_graph", "encoder_graph", "state_names"]


def state_names(net: EncoderDecoder) -> list[str]:
    """The names of the decoder's states, layer by layer: h (and c)."""
    kinds = ("h", "c")[: net.n_dec_states]
    return [f"state_{l}_{k}" for l in range(len(net.dec_rnns)) for k in kinds]


def encoder_graph(onnx: Any, net: EncoderDecoder, metadata: dict[str, Any]) -> Any:
    """The encoder and the context (bridge) as an ``onnx.ModelProto``."""
    g = Graph(onnx)
    lens32 = g.op("Cast", ["source_lengths"], to=onnx.TensorProto.INT32)
    h = "source"
    finals: list[str] = []
    for layer in net.encoder:
        if isinstance(layer, Embedding):
            E = g.const("E", layer.params["E"].astype(np.float32))
            h = g.op("Transpose", [g.op("Gather", [E, h], axis=0)], perm=[1, 0, 2])  # (S, B, e)
        elif isinstance(layer, RecurrentLayer | Bidirectional):
            Y, Y_h, *Y_c = rnn_node(g, layer, h, lens32)
            y = g.op("Transpose", [Y], perm=[0, 2, 1, 3])  # (S, B, D, d)
            h = g.op("Reshape", [y, g.const("shape", np.array([0, 0, -1]))])  # (S, B, D d)
            finals = _final_states(g, Y_h, Y_c, 2 if isinstance(layer, Bidirectional) else 1)
        elif not isinstance(layer, Dropout):
            raise TypeError(f"unexpected encoder layer {type(layer).__name__}")
    outputs = {"encoder_outputs": g.op("Transpose", [h], perm=[1, 0, 2])}  # (B, S, m)
    outputs.update(zip(state_names(net), _context(g, net, finals), strict=True))
    for name, tensor in outputs.items():
        g.nodes.append(onnx.helper.make_node("Identity", [tensor], [name]))
    m = int(net.encoder[-1].output_spec.size)  # type: ignore[union-attr]
    d = net.dec_rnns[0].units
    infos = [_info(onnx, "encoder_outputs", ["batch", "source_time", m])]
    infos += [_info(onnx, name, ["batch", d]) for name in state_names(net)]
    inputs = [
        onnx.helper.make_tensor_value_info(
            "source", onnx.TensorProto.INT64, ["batch", "source_time"]
        ),
        onnx.helper.make_tensor_value_info("source_lengths", onnx.TensorProto.INT64, ["batch"]),
    ]
    return _model(onnx, g, inputs, infos, "rnnkit seq2seq encoder", metadata)


def decoder_graph(onnx: Any, net: EncoderDecoder, metadata: dict[str, Any]) -> Any:
    """One step of the decoder, attention and output layer as an ``onnx.ModelProto``."""
    g = Graph(onnx)
    names = state_names(net)
    per_layer = net.n_dec_states
    E = g.const("E", net.decoder[0].params["E"].astype(np.float32))
    zero, one = g.const("axes", np.array([0])), g.const("axes", np.array([1]))
    x = g.op("Unsqueeze", [g.op("Gather", [E, "tokens"], axis=0), zero])  # (1, B, e)
    new_states: list[str] = []
    for r, rnn in enumerate(net.dec_rnns):
        mine = names[r * per_layer : (r + 1) * per_layer]
        initial = [g.op("Unsqueeze", [s, zero]) for s in mine]  # (1, B, d) each
        Y, Y_h, *Y_c = rnn_node(g, rnn, x, "", initial)
        x = g.op("Squeeze", [Y, one])  # (1, B, d): the next layer's input
        new_states += [g.op("Squeeze", [s, zero]) for s in (Y_h, *Y_c)]
    h = g.op("Squeeze", [x, zero])  # (B, d)
    outputs: dict[str, str] = {}
    if net.attention is not None:
        h, outputs["attention"] = _attention(g, net.attention, h)
    outputs["log_probs"] = g.op("LogSoftmax", [_logits(g, net, h)], axis=-1)
    outputs.update(zip([f"next_{n}" for n in names], new_states, strict=True))
    for name, tensor in outputs.items():
        g.nodes.append(onnx.helper.make_node("Identity", [tensor], [name]))
    d = net.dec_rnns[0].units
    m = int(net.encoder[-1].output_spec.size)  # type: ignore[union-attr]
    inputs = [
        onnx.helper.make_tensor_value_info("tokens", onnx.TensorProto.INT64, ["batch"]),
        _info(onnx, "encoder_outputs", ["batch", "source_time", m]),
        onnx.helper.make_tensor_value_info("source_lengths", onnx.TensorProto.INT64, ["batch"]),
        *(_info(onnx, n, ["batch", d]) for n in names),
    ]
    shapes: dict[str, list[Any]] = {
        "attention": ["batch", "source_time"],
        "log_probs": ["batch", net.output.units],
    }
    infos = [_info(onnx, n, shapes.get(n, ["batch", d])) for n in outputs]
    return _model(onnx, g, inputs, infos, "rnnkit seq2seq decoder step", metadata)


def _final_states(g: Graph, Y_h: str, Y_c: list[str], D: int) -> list[str]:
    """The encoder's final states in rnnkit's order: each direction's h (and c)."""
    out = []
    for k in range(D):
        at = g.const("index", np.array(k))
        out += [g.op("Gather", [s, at], axis=0) for s in (Y_h, *Y_c)]  # (B, d)
    return out


def _context(g: Graph, net: EncoderDecoder, finals: list[str]) -> list[str]:
    """Every decoder layer's initial states from the encoder's (see models.context)."""
    n = len(net.dec_rnns) * net.n_dec_states
    if net.bridge is None:  # the encoder's final states, as they are, for every layer
        return [g.op("Identity", [s]) for _ in net.dec_rnns for s in finals]
    joined = g.op("Concat", finals, axis=-1) if len(finals) > 1 else finals[0]
    z = dense(g, net.bridge, joined)  # s_0 = tanh([h_S; ...] W_br + b_br)
    return list(g.op("Split", [z], n_out=n, axis=-1, num_outputs=n)) if n > 1 else [z]


def _attention(g: Graph, att: Attention, h: str) -> tuple[str, str]:
    """h~ = tanh([ctx; h] W_c + b_c) (B, units) and the weights alpha (B, S)."""
    p = {k: g.const(k, v.astype(np.float32)) for k, v in att.params.items()}
    one = g.const("axes", np.array([1]))
    enc = "encoder_outputs"  # (B, S, m)
    if att.score == "additive":  # v . tanh(h W_1 + e_s W_2)
        hw = g.op("Unsqueeze", [g.op("MatMul", [h, p["W_1"]]), one])  # (B, 1, a)
        A = g.op("Tanh", [g.op("Add", [hw, g.op("MatMul", [enc, p["W_2"]])])])  # (B, S, a)
        scores = g.op("MatMul", [A, p["v"]])  # (B, S)
    else:  # h . e_s, or h W_a . e_s
        q = h if att.score == "dot" else g.op("MatMul", [h, p["W_a"]])
        keys = g.op("Transpose", [enc], perm=[0, 2, 1])  # (B, m, S)
        scores = g.op("Squeeze", [g.op("MatMul", [g.op("Unsqueeze", [q, one]), keys]), one])
    S = g.op("Gather", [g.op("Shape", [enc]), g.const("one", np.array(1))])
    steps = g.op("Range", [g.const("zero", np.array(0)), S, g.const("step", np.array(1))])
    lengths = g.op("Unsqueeze", ["source_lengths", one])  # (B, 1)
    real = g.op("Less", [g.op("Unsqueeze", [steps, g.const("axes", np.array([0]))]), lengths])
    lowest = g.const("lowest", np.array(-np.inf, dtype=np.float32))
    alpha = g.op("Softmax", [g.op("Where", [real, scores, lowest])], axis=-1)  # (B, S)
    ctx = g.op("Squeeze", [g.op("MatMul", [g.op("Unsqueeze", [alpha, one]), enc]), one])
    joined = g.op("Concat", [ctx, h], axis=-1)  # (B, m + d)
    out = g.op("Tanh", [g.op("Add", [g.op("MatMul", [joined, p["W_c"]]), p["b_c"]])])
    return out, alpha


def _logits(g: Graph, net: EncoderDecoder, h: str) -> str:
    V = g.const("V", net.output.params["V"].astype(np.float32))
    c = g.const("c", net.output.params["c"].astype(np.float32))
    return g.op("Add", [g.op("MatMul", [h, V]), c])


def _info(onnx: Any, name: str, shape: list[Any]) -> Any:
    return onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, shape)


def _model(onnx: Any, g: Graph, inputs: list, outputs: list, doc: str, meta: dict) -> Any:
    graph = onnx.helper.make_graph(g.nodes, "rnnkit", inputs, outputs, initializer=g.initializers)
    proto = onnx.helper.make_model(
        graph,
        opset_imports=[onnx.helper.make_opsetid("", 18)],  # Split's num_outputs
        producer_name="rnnkit",
        doc_string=doc,
    )
    proto.ir_version = 8
    onnx.helper.set_model_props(proto, {"rnnkit": json.dumps(meta, ensure_ascii=False)})
    onnx.checker.check_model(proto, full_check=True)
    return proto
