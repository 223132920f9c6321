"""The forward trace: one sequence through a model, every number labelled with its equation.

:func:`trace` runs a built :class:`~rnnkit.models.Sequential` (or a list of layers, such
as a seq2seq encoder) on one sequence. For each recurrent layer of a stack, each
direction of a Bidirectional layer and each step t it shows the input x_t (one-hot
o_t, embedding e_t = E o_t, or the layer below's output), U x_t, W h_{t-1}, b, the
pre-activation a_t, each LSTM or GRU gate with its equation, the LSTM cell c_t and the
state h_t; then what the output layer reads (h_T, or the mean or maximum of the states)
and y = g(V h + c), at every step when the model outputs per step.

The numbers are recomputed from the weights in float64, step by step in plain NumPy
(:mod:`rnnkit.viz.toy`), and checked against each layer's own forward pass: a
RuntimeError if they differ by more than the model's precision allows (relative
sqrt(eps): 3e-4 in float32). Weights are in Keras layout, U (n_in, d), so the notes'
U x_t is the row product x_t U, row x_t of U for a one-hot x_t. The backward copy of a
Bidirectional layer reads right to left: its steps are listed in reading order,
t = T down to 1, from h_{T+1} = 0. Dropout, the identity at inference, is skipped.

>>> from rnnkit import Dense, OneHot, Sequential, SimpleRNN
>>> from rnnkit.viz.toy import toy_ids, toy_weights
>>> model = Sequential([OneHot(5), SimpleRNN(3), Dense(1, "sigmoid")], seed=0)
>>> model.set_weights(toy_weights())
>>> t = trace(model, toy_ids("movie was good"), tokens=["movie", "was", "good"])
>>> print(t.format(digits=3))
tokens: 'movie' 'was' 'good'
...
    h_3 = tanh(U x_3 + W h_2 + b)  [-0.125 -0.556 -0.557]
...
    y = sigmoid(V h_3 + c)  [ 0.765]
>>> t.section("simple_rnn").stack("h").shape        # h_1 .. h_3
(3, 3)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rnnkit.errors import ConfigError, ShapeError
from rnnkit.layers.recurrent import RecurrentLayer
from rnnkit.viz import toy
from rnnkit.viz.trace_result import Section, Step, Trace

__all__ = ["Section", "Step", "Trace", "trace"]

Array = np.ndarray


# -- the walk through the layers ---------------------------------------------------------
@dataclass
class _Stream:
    """What flows into the next layer: ids (T,), vectors (T, n), or one vector (n,)."""

    values: Array
    kind: str  # "ids", "embedded", "input" (real-valued inputs) or "layer"
    source: str = ""  # the layer that made the values
    symbol: str = "x"  # their name in equations: "h" (h_t), "p", "h_3", ...


@dataclass
class _Walk:
    ids: Array | None
    tokens: list[str] | None
    labels: list[str] | None
    sections: list[Section] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def step(self, pos: int) -> Step:
        token = None if self.tokens is None else self.tokens[pos]
        i = None if self.ids is None else int(self.ids[pos])
        title = f"t = {pos + 1}" + ("" if token is None else f": {token!r}")
        return Step(title + ("" if i is None else f" (id {i})"), pos + 1, token, i)


def trace(
    model: Any,
    inputs: Any,
    *,
    tokens: Sequence[str] | None = None,
    labels: Sequence[str] | None = None,
    notes: Sequence[str] = (),
) -> Trace:
    """Trace the forward pass of one sequence through `model`.

    Parameters
    ----------
    model : Sequential, or a sequence of built layers
        Of OneHot, Embedding, Dropout, the recurrent layers (SimpleRNN, LSTM, GRU: any
        cell's, traced with its ``trace_step``), Bidirectional, the two poolings over
        time, Dense and TimeDistributed(Dense); else ConfigError.
    inputs : (T,) int ids (when the model starts with OneHot or Embedding), or (T, F)
        floats: one sequence (ShapeError if it does not fit).
    tokens, labels : strings, optional
        The T tokens, shown beside their ids; the names of the output classes (of a
        sigmoid, its two labels).
    notes : strings
        Lines shown at the top.

    Raises RuntimeError if the trace differs from the layers' own forward pass.
    """
    layers = list(getattr(model, "layers", model))
    if not layers:
        raise ConfigError("model: there are no layers to trace")
    stream, actual = _start(layers[0], inputs)
    if tokens is not None and len(tokens) != len(stream.values):
        raise ShapeError(f"tokens: {len(tokens)} tokens for {len(stream.values)} steps")
    ids = stream.values if stream.kind == "ids" else None
    if ids is not None and ids.ndim == 2:  # words and their characters: the word ids
        ids = ids[:, 0]
    walk = _Walk(ids, _listed(tokens), _listed(labels), notes=list(notes))
    for layer in layers:
        handler = _handler(layer)
        if handler is None:
            raise ConfigError(f"layer {layer.name} ({type(layer).__name__}) cannot be traced")
        actual = _forward(layer, actual)  # first: the layer checks its own inputs
        stream = handler(walk, layer, stream)
        _check(layer, stream, actual)
    listed = None if ids is None else ids.tolist()
    return Trace(walk.tokens, listed, walk.sections, stream.values, walk.labels, walk.notes)


def _listed(values: Sequence[str] | None) -> list[str] | None:
    return None if values is None else list(values)


def _start(first: Any, inputs: Any) -> tuple[_Stream, Array]:
    """The first stream, and the batch of one that the layers themselves run on."""
    x = np.asarray(inputs)
    if getattr(first, "kind", "") == "word_char_embedding":  # (T, 1 + L) words, characters
        if x.ndim != 2 or x.shape[0] == 0 or x.shape[1] < 2 or x.dtype.kind not in "iu":
            raise ShapeError(
                f"inputs: expected the (T, 1 + L) word and character ids of one sentence, "
                f"got {x.shape}"
            )
        return _Stream(x.astype(np.int64), "ids"), x[None].astype(np.int64)
    if getattr(first, "kind", "") in ("one_hot", "embedding"):  # they check the ids' range
        if x.ndim != 1 or x.size == 0 or x.dtype.kind not in "iu":
            raise ShapeError(f"inputs: expected the (T,) token ids of one sequence, got {x.shape}")
        return _Stream(x.astype(np.int64), "ids"), x[None].astype(np.int64)
    if x.ndim != 2 or x.shape[0] == 0 or x.dtype.kind not in "fiu":
        raise ShapeError(f"inputs: expected the (T, F) vectors of one sequence, got {x.shape}")
    return _Stream(x.astype(np.float64), "input"), x[None].astype(first.dtype)


def _forward(layer: Any, x: Array) -> Array:
    y = layer.forward(x)[0]
    return np.array(y[0] if isinstance(y, tuple) else y)  # a copy: layers reuse buffers


def _check(layer: Any, stream: _Stream, actual: Array) -> None:
    """Refuse a trace that differs from what the layer computed."""
    if stream.kind == "ids":
        return
    got, tol = actual[0].astype(np.float64), float(np.sqrt(np.finfo(actual.dtype).eps))
    same = got.shape == stream.values.shape
    if not same or np.any(np.abs(stream.values - got) > tol * (1.0 + np.abs(got))):
        raise RuntimeError(f"{layer.name}: the trace differs from the layer's forward pass")


def _is_equation(key: str) -> bool:
    """Whether a step's row defines a gate, a candidate or a state, the rows shown atop
    a section: a cell's trace step names those by one letter (h, c, i, f, g, o, z, r,
    n, ...), the pre-activation a, the bias b and the products (Wh, rWh) otherwise."""
    return len(key) == 1 and key not in ("a", "b")


def _run(walk: _Walk, layer: Any, x: _Stream, direction: str | None) -> tuple[Array, int]:
    """Trace one recurrent layer (or direction): its states (T, d) by position, and the
    position it read last."""
    if x.kind != "ids" and x.values.ndim != 2:
        raise ShapeError(f"{layer.name}: a recurrent layer needs a sequence, not one vector")
    cell = layer.cell
    blocks = f" (blocks {', '.join(cell.gates)})" if cell.n_gates > 1 else ""
    T, back = len(x.values), direction == "backward"
    p = {k: np.asarray(v, dtype=np.float64) for k, v in layer.params.items()}
    state = tuple(np.zeros(layer.units) for _ in cell.states)
    section = _section(layer, direction, T, p, state)
    H = np.zeros((T, layer.units))
    order = range(T - 1, -1, -1) if back else range(T)
    for pos in order:
        st, t = walk.step(pos), toy.subscript(pos + 1)
        x_t = int(x.values[pos]) if x.kind == "ids" else x.values[pos]
        named = {"embedded": f" = e_{t} = E o_{t}, row {st.id} of E", "input": ""}
        name = named.get(x.kind, f" = {x.symbol}_{t} of {x.source}")
        ux = toy.input_step(st.add, t, x_t, p["U"], blocks, name)
        state = cell.trace_step(
            st.add, layer, p, ux, state, t, toy.subscript(pos + 2 if back else pos)
        )
        H[pos] = state[0]
        section.steps.append(st)
    walk.sections.append(section)
    return H, order[-1]


def _section(
    layer: Any, direction: str | None, T: int, p: dict[str, Array], zero: tuple[Array, ...]
) -> Section:
    """A recurrent layer's section, with its cell's equations and where it starts."""
    back, kind = direction == "backward", type(layer).__name__
    generic = Step("")  # a step on zeros with symbolic subscripts gives the equations
    zero_input = np.zeros(p["U"].shape[1])
    layer.cell.trace_step(
        generic.add, layer, p, zero_input, zero, "t", "{t+1}" if back else "{t-1}"
    )
    reads = {"forward": ": reads left to right", "backward": ": reads right to left"}
    title = f"{layer.name} ({kind}, {layer.units} units){reads.get(direction or '', '')}"
    section = Section(layer.name, kind, title, direction)
    section.equations = [label for k, label, _ in generic.rows if _is_equation(k)]
    h0 = toy.subscript(T + 1 if back else 0)
    start = ", ".join(f"{state}_{h0} = 0" for state in layer.cell.states)
    section.notes.append(
        f"starts from {start}" + (f"; reads x_{toy.subscript(T)} first" if back else "")
    )
    return section


# -- the layers ----------------------------------------------------------------------------
def _recurrent(walk: _Walk, layer: Any, x: _Stream) -> _Stream:
    H, last = _run(walk, layer, x, None)
    if layer.return_sequences:
        return _Stream(H, "layer", source=layer.name, symbol="h")
    return _Stream(H[last], "layer", source=layer.name, symbol=f"h_{toy.subscript(last + 1)}")


def _bidirectional(walk: _Walk, layer: Any, x: _Stream) -> _Stream:
    """Both directions, then their merge at every position (or of the final states)."""
    mode = layer.merge_mode
    if mode not in toy.MERGES or layer.concat_input:
        raise ConfigError(f"{layer.name}: the trace follows merge modes {', '.join(toy.MERGES)}")
    Hf, last_f = _run(walk, layer.forward_layer, x, "forward")
    Hb, last_b = _run(walk, layer.backward_layer, x, "backward")
    title = f"{layer.name} (Bidirectional, merge_mode={mode!r})"
    section = Section(layer.name, "Bidirectional", title, "merge")
    walk.sections.append(section)
    if not layer.return_sequences:  # forward h_T (after x_T), backward h_1 (after x_1)
        st = Step("the final states")
        fwd, bwd = f"h_{toy.subscript(last_f + 1)}", f"h_{toy.subscript(last_b + 1)}"
        section.steps.append(st)
        h = toy.merge_step(st.add, mode, Hf[last_f], Hb[last_b], "h", fwd, bwd)
        return _Stream(h, "layer", source=layer.name, symbol="h")
    for pos in range(len(Hf)):
        st, h_t = walk.step(pos), f"h_{toy.subscript(pos + 1)}"
        toy.merge_step(st.add, mode, Hf[pos], Hb[pos], h_t, h_t, h_t)
        section.steps.append(st)
    return _Stream(section.stack("h"), "layer", source=layer.name, symbol="h")


def _pooling(walk: _Walk, layer: Any, x: _Stream) -> _Stream:
    """What a many-to-one output reads: the mean or the maximum of the states."""
    st = Step(f"reads {x.symbol}_1 .. {x.symbol}_{toy.subscript(len(x.values))}")
    how = "max" if layer.kind == "global_max_pooling1d" else "mean"
    p = toy.pooling_step(st.add, how, x.values, x.symbol)
    kind = type(layer).__name__
    walk.sections.append(Section(layer.name, kind, f"{layer.name} ({kind})", steps=[st]))
    return _Stream(p, "layer", source=layer.name, symbol="p")


def _dense(walk: _Walk, layer: Any, x: _Stream) -> _Stream:
    """y = g(V h + c), of one vector or at every step."""
    out = layer.layer if layer.kind == "time_distributed" else layer
    if out.kind != "dense" or x.kind == "ids":
        raise ConfigError(f"{layer.name}: the trace follows Dense layers on vectors")
    p = {k: np.asarray(v, dtype=np.float64) for k, v in out.params.items()}
    units = f"{out.units} unit{'s' * (out.units > 1)}, {out.activation}"
    section = Section(
        layer.name, type(layer).__name__, f"{layer.name} ({type(out).__name__}, {units})"
    )
    walk.sections.append(section)
    single = x.values.ndim == 1
    ys = []
    for pos, h in enumerate([x.values] if single else x.values):
        st = Step(f"reads {x.symbol}") if single else walk.step(pos)
        t = "" if single else f"_{toy.subscript(pos + 1)}"
        ys.append(toy.dense_step(st.add, out, p, h, x.symbol + t, t))
        st.notes += toy.output_words(ys[-1], out.activation, walk.labels)
        section.steps.append(st)
    return _Stream(ys[0] if single else np.stack(ys), "layer", source=layer.name, symbol="y")


def _embedding(walk: _Walk, layer: Any, x: _Stream) -> _Stream:
    E = np.asarray(layer.params["E"], dtype=np.float64)
    return _Stream(E[x.values], "embedded", source=layer.name, symbol="e")


def _word_chars(walk: _Walk, layer: Any, x: _Stream) -> _Stream:
    """Each word's embedding row beside its character features; the features are the
    character encoder's own output (its steps run over characters, not over words)."""
    ids = x.values  # (T, 1 + L)
    E = np.asarray(layer.params["E"], dtype=np.float64)
    chars = layer.chars(ids[None, :, 1:])[0].astype(np.float64)  # (T, 2 units)
    reader = getattr(layer.chars, "cell", "convolution")  # a CharCNN has no cell
    walk.notes.append(
        f"{layer.name} (WordCharEmbedding): x_t = [E o_t ; the {chars.shape[1]} features "
        f"its {reader} reads from the word's characters]; the character steps "
        "are not shown"
    )
    return _Stream(np.concatenate([E[ids[:, 0]], chars], axis=1), "embedded", layer.name, "x")


def _dropout(walk: _Walk, layer: Any, x: _Stream) -> _Stream:
    walk.notes.append(f"{layer.name} (Dropout): the identity at inference; skipped")
    return x


_LAYERS: dict[str, Callable[[_Walk, Any, _Stream], _Stream]] = {
    "one_hot": lambda walk, layer, x: x,  # the ids pass as they are
    "embedding": _embedding,
    "word_char_embedding": _word_chars,
    "dropout": _dropout,
    "bidirectional": _bidirectional,
    **dict.fromkeys(("global_average_pooling1d", "global_max_pooling1d"), _pooling),
    **dict.fromkeys(("dense", "time_distributed"), _dense),
}


def _handler(layer: Any) -> Callable[[_Walk, Any, _Stream], _Stream] | None:
    """How to trace `layer`: every recurrent layer by its cell's trace step, the other
    layers by their kind; None for a layer the trace does not follow."""
    if isinstance(layer, RecurrentLayer):
        return _recurrent
    return _LAYERS.get(getattr(layer, "kind", ""))
