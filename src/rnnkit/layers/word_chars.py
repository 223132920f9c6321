"""WordCharEmbedding: each word as its embedding and its characters' features, side by side.

A tagger that reads words only knows nothing of a word it never saw in training; its
characters still say much ("-ing", a capital, digits). Lample et al. (2016) give every
word two vectors and concatenate them: its embedding e_w = E o_w and the final states
of a bidirectional recurrent layer over its characters (:class:`CharEncoder`),

    x_t = [E o_{w_t} ; h_fwd_n(c_1 .. c_n) ; h_bwd_1(c_1 .. c_n)]

so the recurrent layers above read ``embed_dim + 2 * char_units`` features a word.

The input is one int array (B, T, 1 + L): column 0 holds each word's id, columns 1 ..
L its character ids (0 = ``<pad>`` after the last character, and everywhere in a
padded word slot). A word dropped by ``word_dropout`` becomes ``<unk>`` for the
embedding only: its characters are still read, which is what teaches the network to
tag unseen words from their spelling.

>>> from rnnkit.layers import CharEncoder, Embedding, Spec
>>> layer = WordCharEmbedding(Embedding(10, 4), CharEncoder(20, char_dim=3, units=2))
>>> layer.build(Spec("ids", 10), np.random.default_rng(0))
Spec(kind='features', size=8, time=True)
>>> x = np.array([[[5, 3, 4, 0], [7, 6, 0, 0]]])   # two words: ids 5 and 7, then chars
>>> layer(x).shape, list(layer.params)[:3]
((1, 2, 8), ['E', 'char_E', 'char_forward_U'])
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from rnnkit.errors import ConfigError, ShapeError
from rnnkit.layers.base import Layer, Spec
from rnnkit.layers.char_cnn import CharCNN
from rnnkit.layers.char_encoder import CharEncoder
from rnnkit.layers.embedding import Embedding
from rnnkit.layers.registry import layer_from_config

__all__ = ["WordCharEmbedding", "word_char_ids"]

Array = np.ndarray


def word_char_ids(word_ids: Array, char_ids: Array) -> Array:
    """The (T, 1 + L) input of one sentence: its (T,) word ids beside its (T, L) chars.

    >>> word_char_ids(np.array([4, 9]), np.array([[2, 3], [5, 0]])).tolist()
    [[4, 2, 3], [9, 5, 0]]
    """
    word_ids, char_ids = np.asarray(word_ids), np.asarray(char_ids)
    if word_ids.ndim != 1 or char_ids.ndim != 2 or len(word_ids) != len(char_ids):
        raise ShapeError(
            f"word_char_ids: expected (T,) word ids and (T, L) character ids, got "
            f"{word_ids.shape} and {char_ids.shape}"
        )
    return np.concatenate([word_ids[:, None], char_ids], axis=1).astype(np.int64, copy=False)


class WordCharEmbedding(Layer):
    """Map (B, T, 1 + L) word and character ids to (B, T, embed_dim + 2 char units).

    Parameters
    ----------
    words : Embedding or its ``{"class", "config"}``
        The word embedding (its vocabulary is the word ids').
    chars : CharEncoder, CharCNN or its ``{"class", "config"}``
        The character encoder (its vocabulary is the character ids'): a bidirectional
        recurrent layer, or a convolution and a max (Ma and Hovy 2016).

    Notes
    -----
    Parameters, in order: the word embedding's ``E``, then the character encoder's
    under a ``char_`` prefix (``char_E``, ``char_forward_U``, ...): the sublayers' own
    arrays. In PyTorch this is an ``nn.Embedding`` and the character encoder's modules,
    whose outputs are joined with ``torch.cat`` before the word-level LSTM.
    """

    kind = "word_char_embedding"

    def __init__(
        self,
        words: Layer | Mapping[str, Any],
        chars: Layer | Mapping[str, Any],
        *,
        name: str | None = None,
        dtype: str | None = None,
    ) -> None:
        # NOTE: layer objects are kept as given (a pretrained Embedding keeps its vectors)
        word_layer = words if isinstance(words, Layer) else layer_from_config(words)
        char_layer = chars if isinstance(chars, Layer) else layer_from_config(chars)
        if not isinstance(word_layer, Embedding) or not isinstance(
            char_layer, CharEncoder | CharCNN
        ):
            raise ConfigError("WordCharEmbedding takes an Embedding and a CharEncoder or CharCNN")
        self.words: Embedding = word_layer
        self.chars: CharEncoder | CharCNN = char_layer
        super().__init__(name=name, dtype=dtype or self.words.dtype.name)

    def get_config(self) -> dict[str, Any]:
        return {
            "words": {"class": "Embedding", "config": self.words.get_config()},
            "chars": {"class": type(self.chars).__name__, "config": self.chars.get_config()},
            **super().get_config(),
        }

    @property
    def sublayers(self) -> tuple[Layer, ...]:
        return (self.words, self.chars)

    # -- construction --------------------------------------------------------------
    def build(self, spec: Spec, rng: np.random.Generator) -> Spec:
        """Build the word embedding, then the character encoder, from `rng`."""
        self.input_spec = spec
        self.output_spec = self._build(spec, rng)
        self.params = {"E": self.words.params["E"]}
        self.params.update((f"char_{k}", v) for k, v in self.chars.params.items())
        self.grads = {"E": self.words.grads["E"]}
        self.grads.update((f"char_{k}", g) for k, g in self.chars.grads.items())
        self._sync_sparse_rows()
        return self.output_spec

    def _build(self, spec: Spec, rng: np.random.Generator) -> Spec:
        if spec.kind != "ids" or not spec.time:
            raise ShapeError(f"{self.name}: WordCharEmbedding takes (B, T, 1 + L) ids")
        for layer in self.sublayers:
            layer.dtype = self.dtype  # NOTE: Sequential(dtype=...) sets the outer layer's alone
        words = self.words.build(Spec("ids", spec.size), rng)
        chars = self.chars.build(Spec("ids", self.chars.n_chars), rng)
        return Spec("features", words.size + chars.size, time=True)

    def _sync_sparse_rows(self) -> None:
        self.sparse_rows = {"E": self.words.sparse_rows["E"]}
        self.sparse_rows.update((f"char_{k}", r) for k, r in self.chars.sparse_rows.items())

    def zero_grad(self) -> None:
        self.words.zero_grad()
        self.chars.zero_grad()
        self._sync_sparse_rows()

    # -- computation ---------------------------------------------------------------
    def forward(self, x: Array, mask: Array | None = None, training: bool = False):
        """Embed each word and encode its characters; concatenate the two.

        Parameters
        ----------
        x : (B, T, 1 + L) int array: word ids, then character ids (0 = ``<pad>``)
        mask : (B, T) bool array, optional, False at padded word slots

        Returns
        -------
        y : (B, T, embed_dim + 2 char units) array
        cache : the two sublayers' caches
        """
        self._require_built()
        ids = np.asarray(x)
        if ids.ndim != 3 or ids.shape[2] < 2 or not np.issubdtype(ids.dtype, np.integer):
            raise ShapeError(
                f"{self.name}: inputs must be (B, T, 1 + L) int ids (words, then characters), "
                f"got {ids.shape}"
            )
        e, cache_w = self.words.forward(ids[:, :, 0], mask=mask, training=training)
        c, cache_c = self.chars.forward(ids[:, :, 1:], mask=mask, training=training)
        return np.concatenate([e, c], axis=-1), (cache_w, cache_c)

    def backward(self, dy: Array, cache: tuple[Any, Any]) -> None:
        """Add dE and the character encoder's gradients; ids have no gradient (None)."""
        cache_w, cache_c = cache
        d = self.words.output_dim
        self.words.backward(dy[:, :, :d], cache_w)
        self.chars.backward(dy[:, :, d:], cache_c)
        self._sync_sparse_rows()
        return None
