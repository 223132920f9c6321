"""rnnkit: recurrent neural networks in NumPy with hand-written backpropagation through time.

>>> from rnnkit import Dense, OneHot, Sequential, SimpleRNN
>>> Sequential([OneHot(5), SimpleRNN(3), Dense(1, "sigmoid")]).count_params()
31
"""

from rnnkit.errors import (
    ConfigError,
    DataError,
    ModelFileError,
    RnnkitError,
    ShapeError,
    VocabularyError,
)
from rnnkit.layers import (
    CRF,
    GRU,
    LSTM,
    Attention,
    Bidirectional,
    CharCNN,
    CharEncoder,
    Dense,
    Dropout,
    Embedding,
    GlobalAveragePooling1D,
    GlobalMaxPooling1D,
    OneHot,
    SimpleRNN,
    TimeDistributed,
    WordCharEmbedding,
)
from rnnkit.models import (
    BagOfWordsClassifier,
    LanguageModel,
    Seq2Seq,
    SequenceClassifier,
    SequenceTagger,
    Sequential,
    load_model,
)
from rnnkit.training import SGD, Adagrad, Adam, Momentum
from rnnkit.version import __version__

__all__ = [
    "CRF",
    "GRU",
    "LSTM",
    "SGD",
    "Adagrad",
    "Adam",
    "Attention",
    "BagOfWordsClassifier",
    "Bidirectional",
    "CharCNN",
    "CharEncoder",
    "ConfigError",
    "DataError",
    "Dense",
    "Dropout",
    "Embedding",
    "GlobalAveragePooling1D",
    "GlobalMaxPooling1D",
    "LanguageModel",
    "ModelFileError",
    "Momentum",
    "OneHot",
    "RnnkitError",
    "Seq2Seq",
    "SequenceClassifier",
    "SequenceTagger",
    "Sequential",
    "ShapeError",
    "SimpleRNN",
    "TimeDistributed",
    "VocabularyError",
    "WordCharEmbedding",
    "__version__",
    "load_model",
]
