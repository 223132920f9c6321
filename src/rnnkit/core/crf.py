"""The linear-chain CRF: path scores, log Z, the NLL and its gradient, Viterbi decoding.

A sentence of T tokens gets emission scores ``E[t, k]`` (what the recurrent layers and
a Dense layer say about tag k at step t), and the CRF adds the score of each tag pair,
``A[i, j]`` for tag i followed by tag j, plus a start score ``s`` for the first tag and
an end score ``e`` for the last. A tag path y has the score

    score(y) = s[y_0] + sum_t E[t, y_t] + sum_{t>=1} A[y_{t-1}, y_t] + e[y_{T-1}]

and the probability ``p(y | x) = exp(score(y)) / Z``, Z summing over all K^T paths.
pytorch-crf calls A, s, e ``transitions``, ``start_transitions`` and
``end_transitions``, with the same orientation (row = previous tag).

Every function is batch-first, vectorised over the batch and loops over time only.
``mask`` (B, T) is True at real tokens, a prefix of each row (every row at least one
token long): a padded step carries the forward variable unchanged, has no tag, and
gets a zero gradient.

Constraints (:class:`Constraints`, built from tag names by
:func:`rnnkit.core.crf_tags.tag_constraints`) set the scores of forbidden transitions,
starts and ends to -inf, in log Z and in Viterbi alike, so a forbidden path has
probability 0 and is never decoded.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> E = rng.normal(size=(2, 3, 4))                  # (B, T, K)
>>> A, s, e = rng.normal(size=(4, 4)), np.zeros(4), np.zeros(4)
>>> mask = np.array([[True, True, True], [True, True, False]])
>>> nll, grads = crf_nll(E, A, s, e, np.array([[0, 1, 2], [3, 3, 0]]), mask)
>>> nll.shape, grads.dE.shape, grads.dA.shape
((2,), (2, 3, 4), (4, 4))
>>> float(grads.dE[1, 2].sum())                     # no gradient at a pad
0.0
>>> paths, best = crf_viterbi(E, A, s, e, mask)
>>> [len(p) for p in paths]
[3, 2]
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from rnnkit.errors import DataError, ShapeError

__all__ = [
    "CRFGrads",
    "Constraints",
    "constrain",
    "crf_log_partition",
    "crf_marginals",
    "crf_nll",
    "crf_score",
    "crf_viterbi",
    "logsumexp",
]

Array = np.ndarray


class Constraints(NamedTuple):
    """Which transitions, first tags and last tags a path may use (True = allowed)."""

    allowed: Array  # (K, K) bool, allowed[i, j]: tag i may be followed by tag j
    start: Array  # (K,) bool, the tags a sentence may begin with
    end: Array  # (K,) bool, the tags a sentence may end with


class CRFGrads(NamedTuple):
    """Gradients of the summed NLL: dE per sentence and step, dA, ds, de over the batch."""

    dE: Array  # (B, T, K), zero at pads
    dA: Array  # (K, K)
    dstart: Array  # (K,)
    dend: Array  # (K,)


def logsumexp(x: Array, axis: int = 0) -> Array:
    """``log sum exp(x)`` along `axis`, with the maximum subtracted; -inf when every
    entry is -inf (a tag no allowed path reaches), never NaN.

    NOTE: the time loops reduce over axis 0 of a (K, B, K) array: NumPy reduces the
    leading axis of a contiguous array several times faster than an inner one.
    """
    m = x.max(axis=axis, keepdims=True)
    if not np.isfinite(m).all():  # all -inf somewhere: exp(-inf - 0) = 0, log 0 = -inf
        m = np.where(np.isfinite(m), m, 0.0)
        with np.errstate(divide="ignore"):
            return np.log(np.exp(x - m).sum(axis=axis)) + np.squeeze(m, axis=axis)
    e = x - m
    np.exp(e, out=e)
    return np.log(e.sum(axis=axis)) + np.squeeze(m, axis=axis)


def constrain(
    A: Array, start: Array, end: Array, constraints: Constraints | None
) -> tuple[Array, Array, Array]:
    """A, start and end with -inf where `constraints` forbid (unchanged for None)."""
    if constraints is None:
        return A, start, end
    allowed, ok_start, ok_end = (np.asarray(c, dtype=bool) for c in constraints)
    K = A.shape[0]
    if allowed.shape != (K, K) or ok_start.shape != (K,) or ok_end.shape != (K,):
        raise ShapeError(
            f"constraints have shapes {allowed.shape}, {ok_start.shape}, {ok_end.shape}; "
            f"need ({K}, {K}), ({K},), ({K},)"
        )
    ninf = A.dtype.type(-np.inf)
    return np.where(allowed, A, ninf), np.where(ok_start, start, ninf), np.where(ok_end, end, ninf)


def _check(E: Array, A: Array, start: Array, end: Array, mask: Array | None) -> Array:
    """The mask as bool (B, T), all True for None; shapes checked against E (B, T, K)."""
    if E.ndim != 3:
        raise ShapeError(f"emissions need shape (B, T, K), got {E.shape}")
    B, T, K = E.shape
    if A.shape != (K, K) or start.shape != (K,) or end.shape != (K,):
        raise ShapeError(
            f"transitions {A.shape}, start {start.shape}, end {end.shape} do not fit K={K}"
        )
    if mask is None:
        mask = np.ones((B, T), dtype=bool)
    mask = np.asarray(mask, dtype=bool)
    if mask.shape != (B, T):
        raise ShapeError(f"mask has shape {mask.shape}, emissions have (B, T) = {(B, T)}")
    if T == 0 or not mask[:, 0].all():
        raise ShapeError("every sentence needs at least one real token: mask[:, 0] must be True")
    if (mask[:, 1:] & ~mask[:, :-1]).any():
        raise ShapeError("each row of the mask must be its real tokens first, then pads")
    return mask


def _lengths(mask: Array) -> Array:
    return mask.sum(axis=1).astype(np.intp)  # (B,), real steps are a prefix


def crf_score(
    E: Array, A: Array, start: Array, end: Array, tags: Array, mask: Array | None = None
) -> Array:
    """The score of the tag path `tags` (B, T) in every sentence: (B,).

    ``s[y_0] + sum_t E[t, y_t] + sum_t A[y_{t-1}, y_t] + e[y_{L-1}]`` over the real
    steps; the tags at pads are ignored.
    """
    mask = _check(E, A, start, end, mask)
    tags = np.asarray(tags).astype(np.intp)
    rows = np.arange(E.shape[0])
    last = tags[rows, _lengths(mask) - 1]  # (B,) each sentence's last real tag
    emit = np.take_along_axis(E, tags[:, :, None], axis=2)[:, :, 0]  # (B, T)
    trans = A[tags[:, :-1], tags[:, 1:]]  # (B, T-1)
    trans = np.where(mask[:, 1:], trans, 0.0)  # (B, T-1), a pad's tags are anything
    return start[tags[:, 0]] + np.where(mask, emit, 0.0).sum(axis=1) + trans.sum(axis=1) + end[last]


def _forward(E: Array, A: Array, start: Array, mask: Array) -> Array:
    """Forward variables ``alpha[t, b, j] = log sum over paths y_0..y_t = j of their
    score so far`` (E_t included), time-major (T, B, K); pads carry alpha_{t-1}."""
    B, T, K = E.shape
    alpha = np.empty((T, B, K), dtype=E.dtype)
    alpha[0] = start + E[:, 0]  # (B, K)
    A_ = A[:, None, :]  # (K_prev, 1, K)
    for t in range(1, T):
        # alpha_t[j] = logsumexp_i(alpha_{t-1}[i] + A[i, j]) + E_t[j]
        new = logsumexp(alpha[t - 1].T[:, :, None] + A_) + E[:, t]  # (B, K)
        alpha[t] = np.where(mask[:, t, None], new, alpha[t - 1])
    return alpha


def _backward(E: Array, A: Array, end: Array, mask: Array) -> Array:
    """Backward variables ``beta[t, b, i] = log sum over the paths from y_t = i to the
    end of their score after t`` (end score included), (T, B, K); beta = e at and
    after each sentence's last real step."""
    B, T, K = E.shape
    beta = np.empty((T, B, K), dtype=E.dtype)
    beta[T - 1] = end
    A_T = A.T[:, None, :]  # (K_next, 1, K)
    for t in range(T - 2, -1, -1):
        # beta_t[i] = logsumexp_j(A[i, j] + E_{t+1}[j] + beta_{t+1}[j])
        new = logsumexp(A_T + (E[:, t + 1] + beta[t + 1]).T[:, :, None])  # (B, K)
        beta[t] = np.where(mask[:, t + 1, None], new, beta[t + 1])
    return beta


def crf_log_partition(
    E: Array,
    A: Array,
    start: Array,
    end: Array,
    mask: Array | None = None,
    constraints: Constraints | None = None,
) -> Array:
    """log Z of every sentence, (B,), by the forward algorithm in log space.

    Notes
    -----
    ``alpha_0 = s + E_0``, ``alpha_t[j] = logsumexp_i(alpha_{t-1}[i] + A[i, j]) + E_t[j]``
    and ``log Z = logsumexp_j(alpha_{L-1}[j] + e[j])``: O(T K^2) instead of K^T terms.
    """
    mask = _check(E, A, start, end, mask)
    A, start, end = constrain(A, start, end, constraints)
    alpha = _forward(E, A, start, mask)
    return logsumexp(alpha[-1] + end, axis=1)  # pads carried alpha_{L-1} to the end


def crf_marginals(
    E: Array,
    A: Array,
    start: Array,
    end: Array,
    mask: Array | None = None,
    constraints: Constraints | None = None,
) -> Array:
    """The marginals ``P(y_t = k | x)`` of every sentence and step, (B, T, K), zero at pads.

    Notes
    -----
    ``P(y_t = k) = exp(alpha_t[k] + beta_t[k] - log Z)``, by the forward and backward
    variables: the probability of tag k at step t summed over every path, which is
    what the softmax of the emissions alone is not. The Viterbi path is the best path
    as a whole; the argmax of the marginals, step by step, need not be a path at all
    (it may take a forbidden transition).
    """
    mask = _check(E, A, start, end, mask)
    A, start, end = constrain(A, start, end, constraints)
    alpha = _forward(E, A, start, mask)  # (T, B, K)
    beta = _backward(E, A, end, mask)  # (T, B, K)
    log_z = logsumexp(alpha[-1] + end, axis=1)  # (B,)
    unary = np.exp(alpha + beta - log_z[:, None]) * mask.T[:, :, None]  # (T, B, K)
    return unary.transpose(1, 0, 2)


def crf_nll(
    E: Array,
    A: Array,
    start: Array,
    end: Array,
    tags: Array,
    mask: Array | None = None,
    constraints: Constraints | None = None,
) -> tuple[Array, CRFGrads]:
    """Negative log-likelihood ``log Z - score(gold)`` per sentence, and its gradient.

    Parameters
    ----------
    E : (B, T, K) emission scores
    A : (K, K) transition scores, ``A[i, j]`` for tag i followed by tag j
    start, end : (K,) scores of the first and the last tag
    tags : (B, T) int gold tags (anything at pads)
    mask : (B, T) bool, True at real tokens (a prefix of each row); None for none
    constraints : forbidden transitions, optional; the gold paths must obey them

    Returns
    -------
    nll : (B,) ``-log p(gold | x)`` of each sentence
    grads : :class:`CRFGrads` of ``sum_b nll_b``

    Notes
    -----
    The derivative of log Z by a score is the expected count of its use, so with the
    marginals from the forward and backward variables,

        P(y_t = k) = exp(alpha_t[k] + beta_t[k] - log Z)
        P(y_{t-1} = i, y_t = j) = exp(alpha_{t-1}[i] + A[i, j] + E_t[j] + beta_t[j] - log Z)

    the gradients are marginals minus gold counts: ``dE[t, k] = P(y_t = k) - [y_t = k]``,
    ``dA[i, j] = sum_t P(y_{t-1} = i, y_t = j) - #(gold i -> j)``,
    ``ds = P(y_0) - onehot(y_0)`` and ``de = P(y_{L-1}) - onehot(y_{L-1})``.
    """
    mask = _check(E, A, start, end, mask)
    tags = np.asarray(tags).astype(np.intp)
    if tags.shape != mask.shape:
        raise ShapeError(f"tags have shape {tags.shape}, emissions have (B, T) = {mask.shape}")
    K = E.shape[2]
    if tags[mask].size and (tags[mask].min() < 0 or tags[mask].max() >= K):
        raise ShapeError(f"gold tags must lie in [0, {K}) at real tokens")
    A, start, end = constrain(A, start, end, constraints)
    B, T, _ = E.shape
    gold = crf_score(E, A, start, end, tags, mask)  # (B,)
    if not np.isfinite(gold).all():
        bad = int(np.flatnonzero(~np.isfinite(gold))[0])
        raise DataError(f"the gold tags of sentence {bad} break the CRF's constraints")
    alpha = _forward(E, A, start, mask)  # (T, B, K)
    beta = _backward(E, A, end, mask)  # (T, B, K)
    log_z = logsumexp(alpha[-1] + end, axis=1)  # (B,)

    # unary marginals P(y_t = k), zero at pads
    m = mask.T[:, :, None]  # (T, B, 1)
    unary = np.exp(alpha + beta - log_z[:, None]) * m  # (T, B, K)
    onehot = (tags.T[:, :, None] == np.arange(K)) & m  # (T, B, K)
    dE = (unary - onehot).transpose(1, 0, 2)  # (B, T, K)

    # pairwise marginals P(y_{t-1} = i, y_t = j), summed over sentences and real steps
    dA = np.zeros_like(A)
    for t in range(1, T):
        after = E[:, t] + beta[t] - log_z[:, None]  # (B, K)
        pair = np.exp(alpha[t - 1][:, :, None] + A + after[:, None, :])  # (B, K, K)
        dA += np.einsum("b,bij->ij", mask[:, t].astype(E.dtype), pair)
    real_pairs = mask[:, 1:]  # (B, T-1)
    np.subtract.at(dA, (tags[:, :-1][real_pairs], tags[:, 1:][real_pairs]), 1.0)

    rows = np.arange(B)
    last = _lengths(mask) - 1  # (B,)
    dstart = unary[0].sum(axis=0)
    np.subtract.at(dstart, tags[:, 0], 1.0)
    dend = unary[last, rows].sum(axis=0)  # P(y_{L-1} = k): the last real step of each
    np.subtract.at(dend, tags[rows, last], 1.0)
    return log_z - gold, CRFGrads(dE.astype(E.dtype, copy=False), dA, dstart, dend)


def crf_viterbi(
    E: Array,
    A: Array,
    start: Array,
    end: Array,
    mask: Array | None = None,
    constraints: Constraints | None = None,
) -> tuple[list[Array], Array]:
    """The best tag path of every sentence, and its score.

    Returns
    -------
    paths : list of B int arrays, each of its sentence's real length
    scores : (B,) the score of each best path

    Notes
    -----
    ``delta_t[j] = max_i(delta_{t-1}[i] + A[i, j]) + E_t[j]``, remembering the argmax i
    of each (t, j); the best last tag maximises ``delta_{L-1} + e``, and the path is
    read back through the remembered arguments. Ties go to the lowest tag number, at
    every step and at the end, so the result is the same from run to run. A pad keeps
    delta and points every tag back to itself.
    """
    mask = _check(E, A, start, end, mask)
    A, start, end = constrain(A, start, end, constraints)
    B, T, K = E.shape
    back = np.empty((T, B, K), dtype=np.intp)  # back[t, b, j]: best tag at t-1 before j
    back[0] = 0
    stay = np.broadcast_to(np.arange(K), (B, K))  # at a pad: the same tag
    delta = start + E[:, 0]  # (B, K)
    A_ = A[:, None, :]  # (K_prev, 1, K)
    for t in range(1, T):
        cand = delta.T[:, :, None] + A_  # (K_prev, B, K)
        best_prev = cand.argmax(axis=0)  # (B, K): first maximum = lowest tag
        new = cand.max(axis=0) + E[:, t]  # (B, K)
        step = mask[:, t, None]
        back[t] = np.where(step, best_prev, stay)
        delta = np.where(step, new, delta)
    final = delta + end  # (B, K)
    y = final.argmax(axis=1)  # (B,)
    scores = final[np.arange(B), y]
    path = np.empty((B, T), dtype=np.intp)
    path[:, T - 1] = y
    for t in range(T - 1, 0, -1):
        y = back[t][np.arange(B), y]
        path[:, t - 1] = y
    return [path[b, :n] for b, n in enumerate(_lengths(mask))], scores
