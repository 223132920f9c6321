"""Layers: objects that own parameters and follow the protocol in :mod:`.base`."""

from rnnkit.layers.base import Layer, Spec
from rnnkit.layers.dense import Dense
from rnnkit.layers.dropout import Dropout
from rnnkit.layers.embedding import Embedding
from rnnkit.layers.onehot import OneHot
from rnnkit.layers.simple_rnn import SimpleRNN

#: every layer class by name, for rebuilding a model from its config
LAYERS: dict[str, type[Layer]] = {
    cls.__name__: cls for cls in (Dense, Dropout, Embedding, OneHot, SimpleRNN)
}

__all__ = ["LAYERS", "Dense", "Dropout", "Embedding", "Layer", "OneHot", "SimpleRNN", "Spec"]
