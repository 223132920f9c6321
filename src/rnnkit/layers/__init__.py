"""Layers: objects that own parameters and follow the protocol in :mod:`.base`.

The recurrent layers are found by their cell's name (:mod:`rnnkit.core.cells`):

>>> cell_layer("rnn"), cell_layer("gru")
(<class 'rnnkit.layers.simple_rnn.SimpleRNN'>, <class 'rnnkit.layers.gru.GRU'>)
"""

from rnnkit.layers.attention import Attention
from rnnkit.layers.base import Layer, Spec
from rnnkit.layers.bidirectional import Bidirectional
from rnnkit.layers.char_cnn import CharCNN
from rnnkit.layers.char_encoder import CharEncoder
from rnnkit.layers.crf import CRF
from rnnkit.layers.dense import Dense
from rnnkit.layers.dropout import Dropout
from rnnkit.layers.embedding import Embedding
from rnnkit.layers.gru import GRU
from rnnkit.layers.lstm import LSTM
from rnnkit.layers.onehot import OneHot
from rnnkit.layers.pooling import GlobalAveragePooling1D, GlobalMaxPooling1D
from rnnkit.layers.recurrent import cell_layer
from rnnkit.layers.registry import LAYERS
from rnnkit.layers.simple_rnn import SimpleRNN
from rnnkit.layers.time_distributed import TimeDistributed
from rnnkit.layers.word_chars import WordCharEmbedding

# The one list of the layer classes a model's config may name. NOTE: filled here, not
# where it is defined: the wrappers in it read it (rnnkit.layers.registry), and they
# cannot import this package, which imports them.
LAYERS.update(
    (cls.__name__, cls)
    for cls in (
        Bidirectional,
        CRF,
        CharCNN,
        CharEncoder,
        Dense,
        Dropout,
        Embedding,
        GRU,
        GlobalAveragePooling1D,
        GlobalMaxPooling1D,
        LSTM,
        OneHot,
        SimpleRNN,
        TimeDistributed,
        WordCharEmbedding,
    )
)

__all__ = [
    "CRF",
    "GRU",
    "LAYERS",
    "LSTM",
    "Attention",
    "Bidirectional",
    "CharCNN",
    "CharEncoder",
    "Dense",
    "Dropout",
    "Embedding",
    "GlobalAveragePooling1D",
    "GlobalMaxPooling1D",
    "Layer",
    "OneHot",
    "SimpleRNN",
    "Spec",
    "TimeDistributed",
    "WordCharEmbedding",
    "cell_layer",
]
