"""The input and recurrent layers every task model starts with.

Tokens come in as ids, through a learned embedding (e_i = E o_i) or as one-hot
vectors; then one or more recurrent layers (``cell`` "rnn", "lstm" or "gru": any
cell of :mod:`rnnkit.core.cells`, built by its layer class,
:func:`~rnnkit.layers.cell_layer`), each optionally bidirectional, with dropout
between stacked layers.

>>> from rnnkit.models.encoder import recurrent_layers
>>> [type(l).__name__ for l in recurrent_layers("rnn", 8, layers=2, bidirectional=True,
...                                             dropout=0.3, return_sequences=True)]
['Bidirectional', 'Dropout', 'Bidirectional']
"""

from __future__ import annotations

import numpy as np

from rnnkit.errors import ConfigError
from rnnkit.layers import Bidirectional, Dropout, Embedding, Layer, OneHot, cell_layer

__all__ = ["MAX_LAYERS", "input_layers", "recurrent_layers"]

#: the most recurrent layers a stack may have
MAX_LAYERS = 6


def input_layers(
    n_vocab: int,
    *,
    embed_dim: int,
    one_hot: bool,
    embed_scale: float,
    embed_dropout: float,
    word_dropout: float = 0.0,
    initial: np.ndarray | None = None,
    trainable: bool = True,
) -> list[Layer]:
    """``[OneHot(N)]``, or ``[Embedding(N, embed_dim)]`` with optional dropout after it.

    `initial` (N, embed_dim) is the embedding's starting value (pretrained vectors);
    `trainable` False freezes it.
    """
    if one_hot:
        return [OneHot(n_vocab)]
    embedding = Embedding(
        n_vocab,
        embed_dim,
        scale=embed_scale,
        word_dropout=word_dropout,
        initial=initial,
        trainable=trainable,
    )
    layers: list[Layer] = [embedding]
    if embed_dropout:
        layers.append(Dropout(embed_dropout))
    return layers


def recurrent_layers(
    cell: str,
    hidden: int,
    *,
    layers: int = 1,
    bidirectional: bool = False,
    activation: str = "tanh",
    dropout: float = 0.0,
    return_sequences: bool = False,
) -> list[Layer]:
    """`layers` recurrent layers of `hidden` units each (per direction).

    Every layer but the last returns its whole sequence to the next; the last returns
    its sequence only if `return_sequences`. `dropout` goes between stacked layers.
    """
    layer_class = cell_layer(cell)  # ConfigError: not a cell
    if not 1 <= int(layers) <= MAX_LAYERS:
        raise ConfigError(f"layers={layers}: use 1 to {MAX_LAYERS} recurrent layers")
    out: list[Layer] = []
    for i in range(int(layers)):
        last = i == int(layers) - 1
        rnn = layer_class(hidden, activation, return_sequences=return_sequences or not last)
        out.append(Bidirectional(rnn) if bidirectional else rnn)
        if dropout and not last:
            out.append(Dropout(dropout))
    return out
