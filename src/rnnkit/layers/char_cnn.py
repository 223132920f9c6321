"""CharCNN: one vector per word, read from the word's characters by a convolution and a max.

Ma and Hovy (2016) read a word's characters with a 1-D convolution instead of a
bidirectional LSTM: for a word of characters c_1 .. c_n with embeddings e_j = E o_{c_j},
and zero vectors e_0 = e_{n+1} = 0 outside the word (a window of 3 centred on every
character),

    z_j = W^T [e_{j-1}; e_j; e_{j+1}] + b      j = 1 .. n      (F filters)
    w   = max_j z_j                             (each filter on its own)

so each filter answers "does this word contain the trigram I detect, and how strongly",
wherever it occurs. The max runs over the word's real characters only: a pad position
never wins. Ma and Hovy use 30-d character embeddings, 30 filters and no activation
(none here either); the tagger gives this layer ``2 * char_units`` filters, so its word
features are as wide as the bidirectional encoder's (:class:`CharEncoder`).

The words of a batch are read together, with no loop over words: their real
characters are laid end to end in one flat sequence, ``window // 2`` zero vectors
between neighbours (the padding of each word), so every window is one gather of
rows (im2col) and the convolution of every word one GEMM, with no work on pads.

>>> import numpy as np
>>> from rnnkit.layers import Spec
>>> cnn = CharCNN(20, char_dim=4, filters=6)
>>> cnn.build(Spec("ids", 20), np.random.default_rng(0))
Spec(kind='features', size=6, time=True)
>>> ids = np.array([[[5, 6, 7], [8, 0, 0]],
...                 [[9, 9, 0], [0, 0, 0]]])    # (B, T, L) = (2, 2, 3); 0 = <pad>
>>> y = cnn(ids, mask=np.array([[True, True], [True, False]]))
>>> y.shape, float(np.abs(y[1, 1]).sum())      # the padded word's vector is zero
((2, 2, 6), 0.0)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from rnnkit.core.init import glorot_uniform
from rnnkit.errors import ConfigError, ShapeError
from rnnkit.layers.base import Layer, Spec
from rnnkit.layers.char_encoder import char_embedding, words_to_read

__all__ = ["CharCNN", "ConvCache"]

Array = np.ndarray
_NO_ROWS = np.zeros(0, dtype=np.intp)


@dataclass(frozen=True)
class ConvCache:
    """What :meth:`CharCNN.forward` hands its backward pass.

    keep : (B, T) bool, the word slots that were read (real and not empty)
    pos : (P,) int, the row of each real character in the flat sequence
    cols : (P, window * char_dim) the window around each character (im2col)
    winner : (N, F) int, the row of ``cols`` where each word's max of each filter is
    embedding : the character embedding's cache
    """

    keep: Array
    pos: Array
    cols: Array
    winner: Array
    embedding: Any


class CharCNN(Layer):
    """Map character ids (B, T, L) to one feature vector per word (B, T, filters).

    Parameters
    ----------
    n_chars : int
        Size of the character vocabulary, ``<pad>`` (id 0) included.
    char_dim : int
        Size of the character embeddings (30 in Ma & Hovy).
    filters : int
        F, the number of convolution filters and of features per word (30 in Ma &
        Hovy; the tagger gives ``2 * char_units``).
    window : int
        Characters each filter reads, an odd number (3 in Ma & Hovy), centred on each
        character of the word.
    scale : float, optional
        Character embeddings start uniform in (-scale, scale); sqrt(3 / char_dim) when
        omitted (Ma & Hovy), so each entry has variance 1 / char_dim.

    Notes
    -----
    Parameters, in order: ``E`` (n_chars, char_dim), the embedding sublayer's array;
    ``W`` (window, char_dim, F), the kernel (Keras ``Conv1D`` kernel, the transpose of
    PyTorch ``nn.Conv1d.weight`` (F, char_dim, window)), Glorot-uniform; ``b`` (F,),
    zeros. In PyTorch: ``nn.Embedding``, the embeddings of each word's pad positions
    zeroed, ``nn.Conv1d(char_dim, F, window, padding=window // 2)``, and a max over
    the real positions. A word slot that is padded, or real but empty, outputs zeros
    and takes no gradient; ``mask`` (B, T) and the word lengths are read as in
    :class:`CharEncoder`.
    """

    kind = "char_cnn"

    def __init__(
        self,
        n_chars: int,
        char_dim: int = 30,
        filters: int = 100,
        *,
        window: int = 3,
        scale: float | None = None,
        name: str | None = None,
        dtype: str = "float32",
    ) -> None:
        super().__init__(name=name, dtype=dtype)
        self.n_chars, self.char_dim, self.filters = int(n_chars), int(char_dim), int(filters)
        if min(self.n_chars, self.char_dim, self.filters) < 1:
            raise ShapeError(f"CharCNN({n_chars}, {char_dim}, {filters}): sizes must be positive")
        self.window = int(window)
        if self.window < 1 or self.window % 2 == 0:
            raise ConfigError(f"window={window!r}: give an odd number of characters (3)")
        self.scale, self.embedding = char_embedding(self.n_chars, self.char_dim, scale, dtype)
        self._dense = False  # whether W and b took gradient since zero_grad

    def get_config(self) -> dict[str, Any]:
        return {
            "n_chars": self.n_chars,
            "char_dim": self.char_dim,
            "filters": self.filters,
            "window": self.window,
            "scale": self.scale,
            **super().get_config(),
        }

    # -- construction --------------------------------------------------------------
    def build(self, spec: Spec, rng: np.random.Generator) -> Spec:
        """Build E, then the kernel W and bias b, from `rng`."""
        if spec.kind != "ids" or not spec.time:
            raise ShapeError(f"{self.name}: CharCNN takes (B, T, L) character ids")
        self.input_spec = spec
        self.embedding.dtype = self.dtype  # NOTE: Sequential(dtype=...) sets the outer layer's
        self.embedding.build(Spec("ids", spec.size), rng)
        k, d, F = self.window, self.char_dim, self.filters
        W = glorot_uniform((k * d, F), rng).reshape(k, d, F)  # fan_in k d, as in Keras
        self.params = {"E": self.embedding.params["E"], "W": self._param(W)}
        self.params["b"] = self._param(np.zeros(F))
        self.grads = {"E": self.embedding.grads["E"]}
        self.grads.update((key, np.zeros_like(self.params[key])) for key in ("W", "b"))
        self.zero_grad()
        self.output_spec = Spec("features", F, time=True)
        return self.output_spec

    @property
    def sublayers(self) -> tuple[Layer, ...]:
        return (self.embedding,)

    def _sync_sparse_rows(self) -> None:
        """E is row-sparse (the embedding's); W and b are dense once they took gradient."""
        self.sparse_rows = dict(self.embedding.sparse_rows)
        if not self._dense:
            self.sparse_rows.update(W=_NO_ROWS, b=_NO_ROWS)

    def zero_grad(self) -> None:
        self.embedding.zero_grad()
        self.grads["W"].fill(0.0)
        self.grads["b"].fill(0.0)
        self._dense = False
        self._sync_sparse_rows()

    # -- computation ---------------------------------------------------------------
    def forward(self, x: Array, mask: Array | None = None, training: bool = False):
        """Encode every word of the batch.

        Parameters
        ----------
        x : (B, T, L) int array of character ids, 0 = ``<pad>`` after each word's
            characters (and everywhere in a padded word slot)
        mask : (B, T) bool array, optional, False at padded word slots

        Returns
        -------
        y : (B, T, filters) array, each word's max of each filter, zeros at padded and
            empty word slots
        cache : :class:`ConvCache`
        """
        self._require_built()
        ids, lengths, keep = words_to_read(self.name, x, mask, self.n_chars)
        B, T = ids.shape[:2]
        y = np.zeros((B, T, self.filters), dtype=self.dtype)
        if not keep.any():
            empty = np.zeros(0, dtype=np.intp)
            return y, ConvCache(keep, empty, np.zeros((0, 0)), empty, None)
        n = lengths[keep]  # (N,) characters of each word read
        words = ids[keep][:, : n.max()]  # (N, L_max)
        real = np.arange(words.shape[1]) < n[:, None]  # (N, L_max)
        chars = words[real]  # (P,) the real characters, word after word
        # the row of each character in the flat sequence: `half` zero rows before each word
        half = self.window // 2
        word_of = np.repeat(np.arange(n.size), n)  # (P,)
        pos = np.arange(chars.size) + half * (word_of + 1)  # (P,)
        e, cache_e = self.embedding.forward(chars[None], training=training)  # (1, P, d)
        flat = np.zeros((chars.size + half * (n.size + 1), self.char_dim), self.dtype)
        flat[pos] = e[0]
        # im2col: the window around each character, its rows side by side
        cols = np.concatenate([flat[pos + o] for o in range(-half, half + 1)], axis=1)  # (P, k d)
        F = self.filters
        z = cols @ self.params["W"].reshape(-1, F) + self.params["b"]  # (P, F)
        # max over each word's real characters: pads hold -inf, so they never win
        padded = np.full((n.size, words.shape[1], F), -np.inf, dtype=self.dtype)  # (N, L_max, F)
        padded[real] = z
        first = np.cumsum(n) - n  # (N,) the row in z of each word's first character
        winner = first[:, None] + padded.argmax(axis=1)  # (N, F) rows of z
        y[keep] = np.take_along_axis(z, winner, axis=0)
        return y, ConvCache(keep, pos, cols, winner, cache_e)

    def backward(self, dy: Array, cache: ConvCache) -> None:
        """Add dE, dW and db; ids have no gradient (None).

        `dy` is (B, T, filters); its entries at padded word slots are ignored, since
        those outputs are constant zeros.
        """
        if not cache.keep.any():
            return None
        dh = np.asarray(dy, dtype=self.dtype)[cache.keep]  # (N, F)
        F, d = self.filters, self.char_dim
        # backprop through the max: each word's gradient goes to its winning position
        dz = np.zeros((cache.cols.shape[0], F), dtype=self.dtype)  # (P, F)
        np.put_along_axis(dz, cache.winner, dh, axis=0)
        # the weight gradients of every window as one GEMM
        self.grads["W"] += (cache.cols.T @ dz).reshape(self.params["W"].shape)
        self.grads["b"] += dh.sum(axis=0)
        self._dense = True
        # dL/d(each window), then back to the characters it read (the pads are dropped)
        dcols = dz @ self.params["W"].reshape(-1, F).T  # (P, k d)
        half = self.window // 2
        dflat = np.zeros((cache.pos[-1] + half + 1, d), dtype=self.dtype)
        for j, o in enumerate(range(-half, half + 1)):
            dflat[cache.pos + o] += dcols[:, j * d : (j + 1) * d]  # rows distinct in one step
        self.embedding.backward(dflat[cache.pos][None], cache.embedding)  # (1, P, d)
        self._sync_sparse_rows()
        return None
