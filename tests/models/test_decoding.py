"""Greedy and beam search: against each other, against exhaustive search, and on a real net.

:class:`TableModel` is a small constructed model whose next-token distribution
depends only on the previous token (a table of log-probabilities per source), so the
probability of every output can be enumerated and the best one known exactly.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from rnnkit.errors import ConfigError
from rnnkit.models.decoding import beam_search, default_max_lengths, greedy_search
from rnnkit.models.encoder_decoder import EncoderDecoder

SOS, EOS = 0, 1


class TableModel:
    """log p(y_t | y_{t-1}, source n) = table[n, y_{t-1}]; the state is (source, prev)."""

    def __init__(self, table: np.ndarray) -> None:
        self.table = np.log(table / table.sum(axis=-1, keepdims=True))

    def begin(self, x, src_mask):
        return np.arange(len(x))

    def step(self, tokens, state):
        return self.table[state, tokens], state, None

    def take(self, state, rows):
        return state[rows]


def _trap() -> np.ndarray:
    """Tokens 0 <sos>, 1 <eos>, 2 "a", 3 "b". Greedy takes "a" (0.6) but then has only
    weak choices; "b" (0.4) leads to <eos> with 0.95. Best: "b" <eos> = 0.38."""
    t = np.full((4, 4), 1e-9)
    t[SOS] = [1e-9, 1e-9, 0.6, 0.4]
    t[2] = [1e-9, 0.34, 0.33, 0.33]
    t[3] = [1e-9, 0.95, 0.025, 0.025]
    return t[None]


def _exhaustive_best(model: TableModel, n: int, max_len: int, lp: float):
    """The best length-normalised output of source n, by enumeration."""
    V = model.table.shape[-1]
    best, best_seq = -np.inf, None
    for length in range(0, max_len):
        for seq in itertools.product(range(2, V), repeat=length):
            prev, score = SOS, 0.0
            for tok in (*seq, EOS):
                score += model.table[n, prev, tok]
                prev = tok
            norm = score / (length + 1) ** lp
            if norm > best:
                best, best_seq = norm, list(seq)
    return best_seq


def test_beam_finds_the_best_output_where_greedy_does_not() -> None:
    model = TableModel(_trap())
    x, limits = np.zeros((1, 1), int), np.array([6])
    greedy = greedy_search(model, x, None, sos_id=SOS, eos_id=EOS, max_lengths=limits)
    beam = beam_search(
        model, x, None, beam=2, sos_id=SOS, eos_id=EOS, max_lengths=limits, length_penalty=0
    )
    assert greedy.tokens[0].tolist()[0] == 2  # greedy is trapped by "a" ...
    assert beam.tokens[0].tolist() == [3]  # ... beam search finds "b" <eos>
    assert beam.scores[0] == pytest.approx(np.log(0.4 * 0.95))
    assert beam.scores[0] > greedy.scores[0]
    assert beam.tokens[0].tolist() == _exhaustive_best(model, 0, 6, lp=0.0)


@pytest.mark.parametrize("lp", [0.0, 1.0])
def test_a_wide_beam_matches_exhaustive_search_on_random_tables(lp: float) -> None:
    rng = np.random.default_rng(0)
    table = rng.random((6, 4, 4)) ** 3 + 1e-3
    table[:, :, SOS] = 1e-12  # <sos> is never emitted
    model = TableModel(table)
    limits = np.full(6, 4)
    out = beam_search(
        model, np.zeros((6, 1), int), None, beam=16, sos_id=SOS, eos_id=EOS,
        max_lengths=limits, length_penalty=lp,
    )  # fmt: skip
    for n in range(6):
        assert out.tokens[n].tolist() == _exhaustive_best(model, n, 4, lp)


def _net(seed: int = 0) -> EncoderDecoder:
    return EncoderDecoder(
        n_source=9, n_target=8, embed_dim=4, hidden=6, layers=1, cell="gru",
        bidirectional=True, attention="general", embed_scale=1.0, seed=seed,
    )  # fmt: skip


def _sources(rng, n=12):
    lengths = rng.integers(1, 7, size=n)
    S = lengths.max()
    mask = np.arange(S)[None] < lengths[:, None]
    return rng.integers(4, 9, size=(n, S)) * mask, mask, lengths


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_beam_of_one_is_greedy(seed: int) -> None:
    rng = np.random.default_rng(seed)
    net = _net(seed)
    x, mask, lengths = _sources(rng)
    limits = default_max_lengths(lengths)
    kw = dict(sos_id=2, eos_id=3, max_lengths=limits)
    g = greedy_search(net, x, mask, **kw)
    b = beam_search(net, x, mask, beam=1, **kw)
    for n in range(len(x)):
        assert g.tokens[n].tolist() == b.tokens[n].tolist()
    np.testing.assert_allclose(g.scores, b.scores, rtol=1e-5)


def test_greedy_matches_the_teacher_forced_network_on_its_own_output() -> None:
    """Decoding step by step and the all-steps forward pass compute the same thing:
    fed its greedy output, the network's argmax at every step is that output."""
    rng = np.random.default_rng(5)
    net = _net(5)
    x, mask, lengths = _sources(rng)
    out = greedy_search(net, x, mask, sos_id=2, eos_id=3, max_lengths=np.full(len(x), 8))
    for n in range(len(x)):
        toks = out.tokens[n].tolist()
        ended = len(toks) < 8
        y = np.array([[2, *toks]])
        logits = net.forward(x[n : n + 1, : lengths[n]], None, y, None)[0][0]
        want = toks + ([3] if ended else [])
        assert logits.argmax(axis=-1)[: len(want)].tolist() == want


def test_every_source_stops_at_its_maximum_length() -> None:
    rng = np.random.default_rng(1)
    net = _net(1)
    net.output.params["c"][3] = -1e4  # <eos> never wins
    x, mask, _ = _sources(rng)
    limits = np.arange(1, len(x) + 1)
    for out in (
        greedy_search(net, x, mask, sos_id=2, eos_id=3, max_lengths=limits),
        beam_search(net, x, mask, beam=3, sos_id=2, eos_id=3, max_lengths=limits),
    ):
        assert [len(t) for t in out.tokens] == limits.tolist()


def test_greedy_attention_rows_are_distributions_over_real_source_steps() -> None:
    rng = np.random.default_rng(2)
    net = _net(2)
    x, mask, lengths = _sources(rng)
    out = greedy_search(net, x, mask, sos_id=2, eos_id=3, max_lengths=np.full(len(x), 5))
    assert out.attention is not None
    for n, alpha in enumerate(out.attention):
        assert alpha.shape == (len(out.tokens[n]), x.shape[1])
        np.testing.assert_allclose(alpha.sum(axis=1), 1.0, rtol=1e-5)
        assert not alpha[:, lengths[n] :].any()  # pads get no attention


def test_beam_width_must_be_positive() -> None:
    with pytest.raises(ConfigError, match="beam"):
        beam_search(TableModel(_trap()), np.zeros((1, 1), int), None, beam=0, sos_id=SOS,
                    eos_id=EOS, max_lengths=np.array([3]))  # fmt: skip
