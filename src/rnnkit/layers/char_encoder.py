"""CharEncoder: one vector per word, read from the word's characters by a bidirectional RNN.

A word unseen in training still has characters: its prefix, suffix and capitals say
much about its tag ("-ing", "Mc-", "1990"). Lample et al. (2016) read each word's
characters with a bidirectional LSTM and use the last state of each direction as the
word's character features: for a word of characters c_1 .. c_n with embeddings
e_j = E o_{c_j},

    h_fwd_n = LSTM_fwd(e_1, ..., e_n)      (the state after reading c_n)
    h_bwd_1 = LSTM_bwd(e_n, ..., e_1)      (the state after reading c_1)
    w = [h_fwd_n, h_bwd_1]                 (2 units)

which the tagger concatenates with the word's embedding. Lample et al. use 25-d
character embeddings and 25 units each way; the defaults here are the PyTorch peers'
30-d embeddings and 50 units each way (100 features per word).

The words of a batch are read together, as batches of character sequences, with no
loop over words: the N non-empty real words are gathered into (N, L) ids and handed to
the :class:`~rnnkit.layers.Embedding` and :class:`~rnnkit.layers.Bidirectional` layers
rnnkit already has (their masks stop each word at its own last character and start the
backward direction there). Most words are short and a few long, so the words go in a
few buckets of similar length (:func:`~rnnkit.core.buckets.length_buckets`), each read
up to its longest word. Padded word slots are never read: they cost nothing, output
zeros and take no gradient.

>>> import numpy as np
>>> from rnnkit.layers import Spec
>>> enc = CharEncoder(20, char_dim=4, units=3)
>>> enc.build(Spec("ids", 20), np.random.default_rng(0))
Spec(kind='features', size=6, time=True)
>>> ids = np.array([[[5, 6, 7], [8, 0, 0]],
...                 [[9, 9, 0], [0, 0, 0]]])    # (B, T, L) = (2, 2, 3); 0 = <pad>
>>> y = enc(ids, mask=np.array([[True, True], [True, False]]))
>>> y.shape, float(np.abs(y[1, 1]).sum())      # the padded word's vector is zero
((2, 2, 6), 0.0)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from rnnkit.core.buckets import length_buckets
from rnnkit.errors import ShapeError
from rnnkit.layers.base import Layer, Spec
from rnnkit.layers.bidirectional import Bidirectional
from rnnkit.layers.embedding import Embedding
from rnnkit.layers.recurrent import cell_layer

__all__ = ["Bucket", "CharCache", "CharEncoder", "char_embedding", "char_lengths", "words_to_read"]

Array = np.ndarray
#: the id of the padding character (``<pad>`` of a character Vocabulary)
PAD_ID = 0
#: the cost of one time step of the recurrent layers, forward and backward, as a
#: number of words: measured with 30/50 LSTMs on one core (each step's calls cost
#: about what 40 words' arithmetic does); it only sets the buckets, not the results
STEP_ROWS = 40


@dataclass(frozen=True)
class Bucket:
    """The words of a batch read together, and the sublayers' caches of that reading.

    rows : (N_b,) int, the bucket's words among the N words read (rows of ``ids[keep]``)
    embedding, rnn : the character embedding's and the bidirectional layer's caches
    """

    rows: Array
    embedding: Any
    rnn: Any


@dataclass(frozen=True)
class CharCache:
    """What :meth:`CharEncoder.forward` hands its backward pass.

    keep : (B, T) bool, the word slots that were read (real and not empty)
    buckets : one :class:`Bucket` per group of words of similar length
    """

    keep: Array
    buckets: tuple[Bucket, ...]


def char_lengths(ids: Array) -> Array:
    """Characters per word (B, T) of (B, T, L) ids: the count of non-pad ids.

    Raises ShapeError when a word has a pad before a real character: each word's
    characters must come first, its pads after.

    >>> char_lengths(np.array([[[3, 4, 0], [0, 0, 0]]])).tolist()
    [[2, 0]]
    """
    real = ids != PAD_ID  # (B, T, L)
    lengths = real.sum(axis=-1)  # (B, T)
    prefix = np.arange(ids.shape[-1]) < lengths[..., None]  # (B, T, L)
    if not np.array_equal(real, prefix):
        b, t = (int(i) for i in np.argwhere((real != prefix).any(axis=-1))[0])
        raise ShapeError(
            f"word ({b}, {t}) has a <pad> (id {PAD_ID}) before a character: "
            "pads must follow the characters of each word"
        )
    return lengths


def char_embedding(
    n_chars: int, char_dim: int, scale: float | None, dtype: str
) -> tuple[float, Embedding]:
    """The character embedding of a word encoder, and the scale it starts from: uniform
    in (-scale, scale), sqrt(3 / char_dim) when `scale` is None (Ma & Hovy), so each
    entry has variance 1 / char_dim."""
    scale = math.sqrt(3.0 / char_dim) if scale is None else float(scale)
    return scale, Embedding(n_chars, char_dim, scale=scale, name="char_embedding", dtype=dtype)


def words_to_read(
    name: str | None, x: Any, mask: Array | None, n_chars: int
) -> tuple[Array, Array, Array]:
    """The checked (B, T, L) ids of a character layer `name`, each word's characters
    (B, T), and which word slots to read (B, T): unmasked words of one character or more.

    >>> ids, n, keep = words_to_read("chars", [[[3, 4], [0, 0]]], None, 5)
    >>> n.tolist(), keep.tolist()
    ([[2, 0]], [[True, False]])
    """
    ids = np.asarray(x)
    if ids.ndim != 3 or not np.issubdtype(ids.dtype, np.integer):
        raise ShapeError(f"{name}: inputs must be (B, T, L) int ids, got {ids.shape}")
    if ids.size and (ids.min() < 0 or ids.max() >= n_chars):
        raise ShapeError(f"{name}: character ids must lie in [0, {n_chars})")
    B, T = ids.shape[:2]
    lengths = char_lengths(ids)  # (B, T)
    keep = lengths > 0
    if mask is not None:
        mask = np.asarray(mask, dtype=bool)
        if mask.shape != (B, T):
            raise ShapeError(f"{name}: mask has shape {mask.shape}, inputs {(B, T)}")
        keep &= mask
    return ids, lengths, keep


class CharEncoder(Layer):
    """Map character ids (B, T, L) to one feature vector per word (B, T, 2 units).

    Parameters
    ----------
    n_chars : int
        Size of the character vocabulary, ``<pad>`` (id 0) included.
    char_dim : int
        Size of the character embeddings (25 in Lample et al., 30 in Ma & Hovy).
    units : int
        Units of each direction's recurrent layer (25 in Lample et al., 50 in the
        PyTorch peers); the output has 2 units features.
    cell : str
        Any registered cell ("rnn", "gru", "lstm", ...; :mod:`rnnkit.core.cells`).
    scale : float, optional
        Character embeddings start uniform in (-scale, scale); sqrt(3 / char_dim) when
        omitted (Ma & Hovy), so each entry has variance 1 / char_dim.

    Notes
    -----
    Parameters, in order: ``E`` (n_chars, char_dim), then the bidirectional layer's
    (``forward_U, forward_W, forward_b, backward_U, ...``), the sublayers' own arrays.
    Keras has no such layer; in PyTorch it is an ``nn.Embedding`` and an
    ``nn.LSTM(bidirectional=True)`` run over packed words, whose ``h_n`` is the output.

    Character lengths are not an argument: id 0 is ``<pad>`` and no character has it,
    so each word's length is its count of nonzero ids (:func:`char_lengths`), which
    must come first. ``mask`` (B, T) marks the real words; without it every slot with
    at least one character is a word. A word slot that is padded, or real but empty,
    outputs zeros, is never read by the recurrent layers and takes no gradient.
    """

    kind = "char_encoder"

    def __init__(
        self,
        n_chars: int,
        char_dim: int = 30,
        units: int = 50,
        *,
        cell: str = "lstm",
        scale: float | None = None,
        name: str | None = None,
        dtype: str = "float32",
    ) -> None:
        super().__init__(name=name, dtype=dtype)
        self.n_chars, self.char_dim, self.units = int(n_chars), int(char_dim), int(units)
        if min(self.n_chars, self.char_dim, self.units) < 1:
            raise ShapeError(f"CharEncoder({n_chars}, {char_dim}, {units}): sizes must be positive")
        self.cell = cell
        self.scale, self.embedding = char_embedding(self.n_chars, self.char_dim, scale, dtype)
        rnn = cell_layer(cell)(self.units, name=f"char_{cell}", dtype=dtype)
        self.rnn = Bidirectional(rnn, "concat", dtype=dtype)

    def get_config(self) -> dict[str, Any]:
        return {
            "n_chars": self.n_chars,
            "char_dim": self.char_dim,
            "units": self.units,
            "cell": self.cell,
            "scale": self.scale,
            **super().get_config(),
        }

    # -- construction --------------------------------------------------------------
    def build(self, spec: Spec, rng: np.random.Generator) -> Spec:
        """Build E, then the forward and backward recurrent layers, from `rng`."""
        self.input_spec = spec
        self.output_spec = self._build(spec, rng)
        # the sublayers' own arrays: an update of one is an update of the other
        self.params = {"E": self.embedding.params["E"], **self.rnn.params}
        self.grads = {"E": self.embedding.grads["E"], **self.rnn.grads}
        self._sync_sparse_rows()
        return self.output_spec

    @property
    def sublayers(self) -> tuple[Layer, ...]:
        return (self.embedding, self.rnn)

    def _build(self, spec: Spec, rng: np.random.Generator) -> Spec:
        if spec.kind != "ids" or not spec.time:
            raise ShapeError(f"{self.name}: CharEncoder takes (B, T, L) character ids")
        for layer in (self.embedding, self.rnn):
            layer.dtype = self.dtype  # NOTE: Sequential(dtype=...) sets the outer layer's alone
        self.embedding.build(Spec("ids", spec.size), rng)
        self.rnn.build(Spec("features", self.char_dim), rng)
        return Spec("features", 2 * self.units, time=True)

    def _sync_sparse_rows(self) -> None:
        """Mirror the sublayers' sparse-gradient bookkeeping (E is row-sparse)."""
        self.sparse_rows = {**self.embedding.sparse_rows, **self.rnn.sparse_rows}

    def zero_grad(self) -> None:
        self.embedding.zero_grad()
        self.rnn.zero_grad()
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
        y : (B, T, 2 units) array, ``[h_fwd_n, h_bwd_1]`` of each word, zeros at
            padded and empty word slots
        cache : :class:`CharCache`
        """
        self._require_built()
        ids, lengths, keep = words_to_read(self.name, x, mask, self.n_chars)
        B, T = ids.shape[:2]
        y = np.zeros((B, T, 2 * self.units), dtype=self.dtype)
        if not keep.any():
            return y, CharCache(keep, ())
        n = lengths[keep]  # (N,) characters of each word read
        words = ids[keep]  # (N, L)
        h = np.empty((n.size, 2 * self.units), dtype=self.dtype)  # (N, 2 units)
        buckets = []
        for rows in length_buckets(n, STEP_ROWS):
            # NOTE: a bucket reads its words up to its longest: few steps on pads
            m = n[rows]
            chars = words[rows, : m.max()]  # (N_b, L_b)
            char_mask = np.arange(chars.shape[1]) < m[:, None]  # (N_b, L_b)
            e, cache_e = self.embedding.forward(chars, mask=char_mask, training=training)
            h[rows], cache_r = self.rnn.forward(e, mask=char_mask, training=training)
            buckets.append(Bucket(rows, cache_e, cache_r))
        y[keep] = h
        return y, CharCache(keep, tuple(buckets))

    def backward(self, dy: Array, cache: CharCache) -> None:
        """Add dE and the recurrent layers' gradients; ids have no gradient (None).

        `dy` is (B, T, 2 units); its entries at padded word slots are ignored, since
        those outputs are constant zeros.
        """
        dh = np.asarray(dy, dtype=self.dtype)[cache.keep]  # (N, 2 units)
        for bucket in cache.buckets:
            de = self.rnn.backward(dh[bucket.rows], bucket.rnn)  # (N_b, L_b, char_dim)
            self.embedding.backward(de, bucket.embedding)
        self._sync_sparse_rows()
        return None
