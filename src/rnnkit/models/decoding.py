"""Decoding an encoder-decoder: greedy search and beam search, batched over sources.

Both run any :class:`StepModel`: ``begin`` encodes the sources, ``step`` gives
log p(y_t | y_<t, x) for the tokens just emitted, ``take`` follows rows of the state.

- **Greedy** takes the most probable token at every step until ``<eos>``.
- **Beam search** keeps the K best partial outputs of every source. Each step extends
  each of them by every token, scores the extensions by their summed log-probability
  and keeps the K best that do not end; an extension ending in ``<eos>`` among the K
  best is a finished hypothesis. A source is done when it has K finished hypotheses
  or reaches its maximum length (where, if none ended, the live beams count). The answer
  is the finished hypothesis with the best *length-normalised* score
  ``log p(y | x) / |y| ** length_penalty`` (|y| counting ``<eos>``): without it,
  every extra token lowers the score and the search prefers short outputs.

With K = 1 beam search is greedy search, token for token.

Every source also has a maximum length, the guard against a model that never emits
``<eos>``: by default ``2 S + 10`` tokens for a source of S tokens.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from rnnkit.errors import ConfigError

__all__ = ["Decoded", "StepModel", "beam_search", "default_max_lengths", "greedy_search"]

Array = np.ndarray


class StepModel(Protocol):
    def begin(self, x: Array, src_mask: Array | None) -> Any: ...
    def step(self, tokens: Array, state: Any) -> tuple[Array, Any, Array | None]: ...
    def take(self, state: Any, rows: Array) -> Any: ...


@dataclass
class Decoded:
    """Outputs of one decoding call, in source order.

    tokens : per source, the output ids without ``<eos>``
    scores : (N,) log p(output, ``<eos>`` | source) (the ``<eos>`` missing where the
        maximum length stopped the source)
    attention : per source, the (len(tokens), S) attention weights of its output
        (greedy search with attention only; None otherwise)
    """

    tokens: list[Array]
    scores: Array
    attention: list[Array] | None = None


def default_max_lengths(src_lengths: Array) -> Array:
    """The maximum output length of each source: 2 S + 10 tokens."""
    return 2 * np.asarray(src_lengths, dtype=np.int64) + 10


def greedy_search(
    model: StepModel,
    x: Array,
    src_mask: Array | None,
    *,
    sos_id: int,
    eos_id: int,
    max_lengths: Array,
) -> Decoded:
    """The most probable token at every step, for a batch of sources x (N, S)."""
    N = len(x)
    max_lengths = np.asarray(max_lengths)
    state = model.begin(x, src_mask)
    tokens = np.full(N, sos_id, dtype=np.int64)
    out = np.zeros((N, int(max_lengths.max())), dtype=np.int64)
    lengths = np.zeros(N, dtype=np.int64)
    scores = np.zeros(N)
    live = np.arange(N)  # the rows still decoding, and the state holds only them
    alphas: list[tuple[Array, Array]] = []
    for t in range(int(max_lengths.max())):
        logp, state, alpha = model.step(tokens, state)
        best = logp.argmax(axis=1)
        scores[live] += logp[np.arange(len(live)), best]
        if alpha is not None:
            alphas.append((live, alpha))
        ended = best == eos_id
        out[live[~ended], t] = best[~ended]
        lengths[live[~ended]] += 1
        keep = ~ended & (t + 1 < max_lengths[live])
        if not keep.any():
            break
        if not keep.all():  # drop the finished rows from the state
            state = model.take(state, np.flatnonzero(keep))
        live, tokens = live[keep], best[keep]
    attention = None
    if alphas:  # each source's rows, one per output token (the <eos> step's dropped)
        weights = np.zeros((N, len(alphas), alphas[0][1].shape[1]))
        for t, (rows, alpha) in enumerate(alphas):
            weights[rows, t] = alpha
        attention = [weights[i, : lengths[i]] for i in range(N)]
    return Decoded([out[i, : lengths[i]] for i in range(N)], scores, attention)


def beam_search(
    model: StepModel,
    x: Array,
    src_mask: Array | None,
    *,
    beam: int,
    sos_id: int,
    eos_id: int,
    max_lengths: Array,
    length_penalty: float = 1.0,
) -> Decoded:
    """The best-scoring outputs of a K-wide beam search (see the module docstring)."""
    K = int(beam)
    if K < 1:
        raise ConfigError(f"beam={beam}: the beam width must be at least 1")
    N = len(x)
    max_lengths = np.asarray(max_lengths)
    state = model.take(model.begin(x, src_mask), np.repeat(np.arange(N), K))  # (N K) rows
    scores = np.full((N, K), -np.inf)
    scores[:, 0] = 0.0  # one live beam at first: the others would repeat it
    hist = np.zeros((N * K, 0), dtype=np.int64)
    tokens = np.full(N * K, sos_id, dtype=np.int64)
    best_norm = np.full(N, -np.inf)
    best_score = np.full(N, -np.inf)
    best_tokens: list[Array] = [np.zeros(0, dtype=np.int64)] * N
    n_finished = np.zeros(N, dtype=np.int64)
    done = np.zeros(N, dtype=bool)
    rank = np.arange(2 * K)
    for t in range(int(max_lengths.max())):
        logp, state, _ = model.step(tokens, state)  # (N K, V)
        V = logp.shape[1]
        total = (scores.reshape(-1, 1) + logp).reshape(N, K * V)
        cand = _top(total, min(2 * K, K * V))  # (N, 2K) best first
        c_score = np.take_along_axis(total, cand, axis=1)
        origin, tok = cand // V, cand % V
        # finished hypotheses: extensions by <eos> among the K best
        ends = (tok == eos_id) & (rank[: cand.shape[1]] < K) & np.isfinite(c_score)
        ends &= ~done[:, None]
        norm = np.where(ends, c_score / float(t + 1) ** length_penalty, -np.inf)
        j = norm.argmax(axis=1)
        rows = np.arange(N)
        better = norm[rows, j] > best_norm
        for i in np.flatnonzero(better):
            best_norm[i], best_score[i] = norm[i, j[i]], c_score[i, j[i]]
            best_tokens[i] = hist[i * K + origin[i, j[i]]].copy()
        n_finished += ends.sum(axis=1)
        # the live beams: the K best extensions that do not end
        keep = np.argsort(tok == eos_id, axis=1, kind="stable")[:, :K]
        a_score = np.take_along_axis(c_score, keep, axis=1)
        a_origin = np.take_along_axis(origin, keep, axis=1)
        a_tok = np.take_along_axis(tok, keep, axis=1)
        src_rows = (rows[:, None] * K + a_origin).ravel()
        hist = np.concatenate([hist[src_rows], a_tok.reshape(-1, 1)], axis=1)
        at_limit = ~done & (t + 1 >= max_lengths)
        for i in np.flatnonzero(at_limit & (n_finished == 0)):  # out of length, nothing ended:
            norm_i = a_score[i] / float(t + 1) ** length_penalty  # the live beams count
            k = int(norm_i.argmax())
            if np.isfinite(norm_i[k]) and norm_i[k] > best_norm[i]:
                best_norm[i], best_score[i] = norm_i[k], a_score[i, k]
                best_tokens[i] = hist[i * K + k].copy()
        done |= (n_finished >= K) | at_limit
        if done.all():
            break
        scores = np.where(done[:, None], -np.inf, a_score)
        state = model.take(state, src_rows)
        tokens = a_tok.ravel()
    return Decoded(best_tokens, best_score)


def _top(total: Array, k: int) -> Array:
    """Column indices of the k largest entries of every row, largest first."""
    part = np.argpartition(-total, k - 1, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(total, part, axis=1), axis=1, kind="stable")
    return np.take_along_axis(part, order, axis=1)
