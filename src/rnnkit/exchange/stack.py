"""A task model's network read as the few modules PyTorch and Keras build it from.

Every one-pass task model is the same stack: token ids through an embedding (or
one-hot vectors, or real-valued frames), L recurrent layers of one cell and size,
each optionally bidirectional, then the output layer, reading either every step, the
last real state, or the mean or maximum over the real steps; a CRF tagger ends in the
transition scores. In PyTorch that is ``nn.Embedding``, one ``nn.RNN`` / ``nn.LSTM`` /
``nn.GRU`` with ``num_layers=L`` and ``nn.Linear``; in Keras the same layers in a
``Sequential``. Dropout is the identity at inference and leaves no trace. A tagger with
character features starts with a :class:`~rnnkit.layers.WordCharEmbedding`: its word
embedding is the stack's, and its character encoder (a character embedding and one
bidirectional recurrent layer, or a :class:`~rnnkit.layers.CharCNN`'s convolution and
max) is ``chars``.

>>> from rnnkit.layers import Dense, Embedding, GlobalMaxPooling1D, LSTM, Bidirectional
>>> from rnnkit.models import Sequential
>>> net = Sequential([Embedding(10, 4), Bidirectional(LSTM(3, return_sequences=True)),
...                   GlobalMaxPooling1D(), Dense(2, "softmax")], seed=0)
>>> s = stack_of(net, "PyTorch")
>>> s.cell, s.units, s.layers, s.directions, s.pooling, s.input_size
('lstm', 3, 1, 2, 'max', 4)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rnnkit.errors import ConfigError
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
from rnnkit.layers.char_encoder import CharEncoder
from rnnkit.layers.recurrent import RecurrentLayer
from rnnkit.models import Sequential

__all__ = ["Stack", "stack_of"]


@dataclass(frozen=True)
class Stack:
    """The modules of a network, in order (see the module docstring).

    Attributes
    ----------
    embedding : Embedding or None
    one_hot : OneHot or None
    chars : CharEncoder, CharCNN or None
        The character encoder of a tagger with character features (its outputs are
        joined onto the word embedding's).
    input_size : int
        What the first recurrent layer reads per step.
    recurrent : list of Layer
        The recurrent layers (each a cell's layer, or a Bidirectional around one).
    cell, activation : str
    units, layers, directions : int
        d per direction, L, and 2 for bidirectional layers (else 1).
    pooling : {"last", "mean", "max", "none"}
        "none": an output at every step.
    dense : Dense
    crf : CRF or None
    """

    embedding: Embedding | None
    one_hot: OneHot | None
    chars: CharEncoder | CharCNN | None
    input_size: int
    recurrent: list[Layer]
    cell: str
    activation: str
    units: int
    layers: int
    directions: int
    pooling: str
    dense: Dense
    crf: CRF | None

    def directions_of(self, layer: Layer) -> list[RecurrentLayer]:
        """The recurrent layers of each direction of one of `recurrent`."""
        if isinstance(layer, Bidirectional):
            return [layer.forward_layer, layer.backward_layer]  # type: ignore[list-item]
        return [layer]  # type: ignore[list-item]

    def config(self, inputs: str) -> dict[str, Any]:
        """JSON-ready: everything needed to build the modules (the torch module reads it)."""
        return {
            "inputs": "one_hot" if self.one_hot is not None else inputs,
            "vocab_size": (
                self.embedding.input_dim
                if self.embedding is not None
                else (self.one_hot.depth if self.one_hot is not None else None)
            ),
            "input_size": self.input_size,
            "cell": self.cell,
            "nonlinearity": self.activation,
            "hidden_size": self.units,
            "num_layers": self.layers,
            "bidirectional": self.directions == 2,
            "pooling": self.pooling,
            "output_size": self.dense.units,
            "output_activation": self.dense.activation,
            "crf": self.crf is not None,
            "char_features": None if self.chars is None else _char_config(self.chars),
        }


def _char_config(chars: CharEncoder | CharCNN) -> dict[str, Any]:
    """What builds the character encoder (the torch module reads it):
    ``nn.Embedding(n_chars, char_dim)``, then a bidirectional ``cell`` of ``units``
    each way, or for ``kind`` "cnn" ``nn.Conv1d(char_dim, filters, window)``."""
    if isinstance(chars, CharCNN):
        return {"kind": "cnn", "n_chars": chars.n_chars, "char_dim": chars.char_dim,
                "filters": chars.filters, "window": chars.window}  # fmt: skip
    rnn: Any = chars.rnn.forward_layer
    return {
        "kind": "rnn",
        "n_chars": chars.n_chars,
        "char_dim": chars.char_dim,
        "units": chars.units,
        "cell": rnn.cell.name,
        "nonlinearity": rnn.activation,
    }


def stack_of(network: Sequential, target: str) -> Stack:
    """Read `network` as a :class:`Stack`; ConfigError naming what does not fit one."""
    layers = [l for l in network.layers if not isinstance(l, Dropout)]
    first = layers[0]
    chars = first.chars if isinstance(first, WordCharEmbedding) else None
    if isinstance(first, WordCharEmbedding):
        first = first.words  # its word embedding, then the character encoder
    embedding = first if isinstance(first, Embedding) else None
    one_hot = first if isinstance(first, OneHot) else None
    if embedding is not None or one_hot is not None:
        layers = layers[1:]
    recurrent = []
    while layers and isinstance(layers[0], RecurrentLayer | Bidirectional):
        recurrent.append(layers.pop(0))
    pooling = "none"
    if layers and isinstance(layers[0], GlobalAveragePooling1D | GlobalMaxPooling1D):
        pooling = "mean" if isinstance(layers.pop(0), GlobalAveragePooling1D) else "max"
    elif recurrent and not recurrent[-1].return_sequences:  # type: ignore[attr-defined]
        pooling = "last"
    dense = layers.pop(0) if layers and isinstance(layers[0], Dense) else None
    crf = layers.pop(0) if layers and isinstance(layers[0], CRF) else None
    if not recurrent or dense is None or layers:
        names = ", ".join(type(l).__name__ for l in network.layers)
        raise ConfigError(
            f"cannot export to {target}: the layers {names} are not an input layer, "
            "recurrent layers, pooling and a Dense layer"
        )
    rnns: list[Any] = [l.forward_layer if isinstance(l, Bidirectional) else l for l in recurrent]
    kinds = {
        (type(r).__name__, r.units, r.activation, isinstance(l, Bidirectional))
        for r, l in zip(rnns, recurrent, strict=True)
    }
    if len(kinds) > 1:
        raise ConfigError(
            f"cannot export to {target}: the recurrent layers differ in cell, size or "
            "direction; one stacked module needs them alike"
        )
    rnn: Any = rnns[0]
    assert rnn.input_spec is not None
    return Stack(
        embedding=embedding,
        one_hot=one_hot,
        chars=chars,
        input_size=int(rnn.input_spec.size),
        recurrent=recurrent,
        cell=rnn.cell.name,
        activation=rnn.activation,
        units=rnn.units,
        layers=len(recurrent),
        directions=2 if isinstance(recurrent[0], Bidirectional) else 1,
        pooling=pooling,
        dense=dense,  # type: ignore[arg-type]
        crf=crf,  # type: ignore[arg-type]
    )
