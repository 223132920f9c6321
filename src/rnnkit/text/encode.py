"""From token ids to the arrays a network reads: padded batches, masks, one-hot vectors.

>>> ids, lengths = pad_batch([[4, 5, 6], [4, 5]])
>>> ids
array([[4, 5, 6],
       [4, 5, 0]])
>>> lengths_to_mask(lengths)
array([[ True,  True,  True],
       [ True,  True, False]])
>>> one_hot([2, 0], depth=3).astype(int)
array([[0, 0, 1],
       [1, 0, 0]])
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from rnnkit.errors import ConfigError, DataError, ShapeError, VocabularyError

if TYPE_CHECKING:
    from rnnkit.text.vocab import Vocabulary

__all__ = ["encode_texts", "lengths_to_mask", "one_hot", "pad_batch"]


def pad_batch(
    sequences: Sequence[ArrayLike],
    pad_id: int | float = 0,
    max_len: int | None = None,
    dtype: DTypeLike = np.int64,
) -> tuple[np.ndarray, np.ndarray]:
    """Stack sequences of different lengths into one batch-first array.

    Parameters
    ----------
    sequences : sequence of array_like, each of shape (T_b,) or (T_b, *F)
        Id sequences (or feature sequences sharing the trailing shape F); none empty.
    pad_id : int or float, default 0
        Value written after each sequence's end.
    max_len : int, optional
        Keep at most the first ``max_len`` steps of each sequence.
    dtype : dtype, default int64

    Returns
    -------
    ids : ndarray, shape (B, T, *F)
        ``T`` is the longest (truncated) length, not necessarily ``max_len``.
    lengths : ndarray of int64, shape (B,)
        Real steps per row; ``lengths_to_mask(lengths)`` marks them.

    Raises
    ------
    DataError
        When there are no sequences or one of them is empty (its index is named).
    ShapeError
        When a sequence is a scalar or its trailing shape differs from the first's.

    Notes
    -----
    PyTorch: ``pad_sequence(batch_first=True)``. Keras: ``pad_sequences(padding="post",
    truncating="post")``; NOTE: Keras pads and truncates at the front by default, here
    both happen at the end, so step 0 is always the first token.

    Examples
    --------
    >>> ids, lengths = pad_batch([[1, 2, 3, 4], [5]], pad_id=-1, max_len=3)
    >>> ids, lengths
    (array([[ 1,  2,  3],
           [ 5, -1, -1]]), array([3, 1]))
    """
    if max_len is not None and (
        isinstance(max_len, bool) or not isinstance(max_len, int) or max_len < 1
    ):
        raise ConfigError(f"max_len: expected an integer >= 1 or None, got {max_len!r}")
    arrays = [np.asarray(seq) for seq in sequences]
    if not arrays:
        raise DataError("pad_batch: no sequences to pad")
    feature_shape = arrays[0].shape[1:]
    for i, array in enumerate(arrays):
        if array.ndim == 0:
            raise ShapeError(f"sequence {i} is a scalar; expected shape (T,) or (T, ...)")
        if len(array) == 0:
            raise DataError(f"sequence {i} is empty; every sequence needs at least one step")
        if array.shape[1:] != feature_shape:
            raise ShapeError(
                f"sequence {i} has shape {array.shape}; "
                f"expected steps of shape {feature_shape} like sequence 0"
            )
    lengths = np.array([len(a) for a in arrays], dtype=np.int64)
    if max_len is not None:
        lengths = np.minimum(lengths, max_len)
    ids = np.full((len(arrays), int(lengths.max()), *feature_shape), pad_id, dtype=dtype)
    for row, (array, n) in enumerate(zip(arrays, lengths, strict=True)):
        ids[row, :n] = array[:n]
    return ids, lengths


def lengths_to_mask(lengths: ArrayLike, T: int | None = None) -> np.ndarray:
    """Boolean mask of the real (non-pad) steps.

    Parameters
    ----------
    lengths : array_like of int, shape (B,)
        Number of real steps in each row, all >= 0.
    T : int, optional
        Number of time steps; defaults to ``max(lengths)``.

    Returns
    -------
    mask : ndarray of bool, shape (B, T)
        ``mask[b, t]`` is True exactly when ``t < lengths[b]``.

    Notes
    -----
    TensorFlow calls this ``tf.sequence_mask``; Keras layers receive it as ``mask``.

    Examples
    --------
    >>> lengths_to_mask([1, 3], T=4).astype(int)
    array([[1, 0, 0, 0],
           [1, 1, 1, 0]])
    """
    lengths = np.asarray(lengths)
    if lengths.ndim != 1:
        raise ShapeError(f"lengths: expected shape (B,), got {lengths.shape}")
    if lengths.size and not np.issubdtype(lengths.dtype, np.integer):
        raise ShapeError(f"lengths: expected integers, got dtype {lengths.dtype}")
    if lengths.size and lengths.min() < 0:
        raise DataError(f"lengths: row {int(np.argmin(lengths))} has a negative length")
    longest = int(lengths.max()) if lengths.size else 0
    if T is None:
        T = longest
    elif isinstance(T, bool) or not isinstance(T, (int, np.integer)):
        raise ConfigError(f"T: expected an integer or None, got {T!r}")
    elif T < longest:
        raise ShapeError(f"T={T} is shorter than the longest sequence ({longest} steps)")
    return np.arange(T) < lengths[:, None]  # (B, T)


def one_hot(
    ids: ArrayLike,
    depth: int,
    mask: ArrayLike | None = None,
    dtype: DTypeLike = np.float32,
) -> np.ndarray:
    """One-hot vectors of ids: the lecture's x_t.

    Parameters
    ----------
    ids : array_like of int, shape S (for example (T,) or (B, T))
        Token ids in ``0 .. depth - 1`` (at masked-out positions, any value).
    depth : int
        Vector length, usually ``len(vocabulary)``.
    mask : array_like of bool, shape S, optional
        False at pad positions, whose rows stay all zero.
    dtype : dtype, default float32

    Returns
    -------
    ndarray, shape (*S, depth)

    Raises
    ------
    VocabularyError
        For an id outside ``0 .. depth - 1`` at a real position (the position is named).

    Notes
    -----
    Keras: ``to_categorical``; PyTorch: ``F.one_hot``. Training never builds these
    arrays: ``U`` times a one-hot ``x_t`` is row ``x_t`` of ``U``, a lookup. They are
    here for teaching and for checking that lookup.

    Examples
    --------
    >>> one_hot([[1, 0], [2, 2]], depth=3, mask=[[True, False], [True, True]]).astype(int)
    array([[[0, 1, 0],
            [0, 0, 0]],
    <BLANKLINE>
           [[0, 0, 1],
            [0, 0, 1]]])
    """
    if isinstance(depth, bool) or not isinstance(depth, (int, np.integer)) or depth < 1:
        raise ConfigError(f"depth: expected an integer >= 1, got {depth!r}")
    ids = np.asarray(ids)
    if ids.size == 0:
        ids = ids.astype(np.int64)
    if not np.issubdtype(ids.dtype, np.integer):
        raise ShapeError(f"ids: expected integers, got dtype {ids.dtype}")
    real = np.ones(ids.shape, dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    if real.shape != ids.shape:
        raise ShapeError(f"mask has shape {real.shape}, but ids have shape {ids.shape}")
    bad = real & ((ids < 0) | (ids >= depth))
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        position = where[0] if len(where) == 1 else where
        raise VocabularyError(
            f"id {int(ids[where])} at position {position} out of range for depth {depth}"
        )
    out = np.zeros((*ids.shape, depth), dtype=dtype)  # (*S, depth)
    out[real, ids[real]] = 1
    return out


def encode_texts(
    texts: Iterable[str],
    vocab: Vocabulary,
    tokenizer: Callable[[str], list[str]],
    add_sos: bool = False,
    add_eos: bool = False,
) -> list[np.ndarray]:
    """Tokenise and encode texts: one int64 id array per text.

    Parameters
    ----------
    texts : iterable of str
    vocab : Vocabulary
    tokenizer : callable
        ``tokenize(text) -> list[str]``, for example from ``get_tokenizer``.
    add_sos, add_eos : bool, default False
        Wrap each sequence in ``<sos>`` / ``<eos>``.

    Returns
    -------
    list of ndarray of int64, each of shape (T_i,)

    Examples
    --------
    >>> from rnnkit.text.tokenize import word_tokenize
    >>> from rnnkit.text.vocab import Vocabulary
    >>> vocab = Vocabulary(["movie", "was", "good"])
    >>> encode_texts(["Movie was good", "movie was bad"], vocab, word_tokenize)
    [array([4, 5, 6]), array([4, 5, 1])]
    """
    return [vocab.encode(tokenizer(text), add_sos=add_sos, add_eos=add_eos) for text in texts]
