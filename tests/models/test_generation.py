"""One step at a time: recurrent layers' step, step_model, sampling and generate."""

from __future__ import annotations

import numpy as np
import pytest

from rnnkit import GRU, LSTM, Bidirectional, Dense, Dropout, Embedding, Sequential, SimpleRNN
from rnnkit.core.sampling import sample_logits
from rnnkit.errors import ConfigError, ShapeError
from rnnkit.layers import Spec
from rnnkit.models import generate, iter_generate, step_model

B, T, N, D = 3, 6, 7, 5

CELLS = {
    "rnn": lambda **kw: SimpleRNN(D, **kw),
    "lstm": lambda **kw: LSTM(D, **kw),
    "gru": lambda **kw: GRU(D, **kw),
    "gru-before": lambda **kw: GRU(D, reset_after=False, **kw),
}


def _layer(cell: str, ids: bool):
    layer = CELLS[cell](return_sequences=True, return_state=True, dtype="float64")
    layer.build(Spec("ids", N) if ids else Spec("features", 4), np.random.default_rng(0))
    for p in layer.params.values():  # nonzero biases, so every term shows
        p += np.random.default_rng(1).normal(scale=0.3, size=p.shape)
    return layer


def _inputs(ids: bool):
    rng = np.random.default_rng(2)
    return rng.integers(0, N, size=(B, T)) if ids else rng.normal(size=(B, T, 4))


@pytest.mark.parametrize("ids", [True, False], ids=["ids", "vectors"])
@pytest.mark.parametrize("cell", sorted(CELLS))
def test_steps_give_the_states_of_forward(cell, ids):
    layer, x = _layer(cell, ids), _inputs(ids)
    rng = np.random.default_rng(3)
    h0 = rng.normal(size=(B, D))
    state0 = (h0, rng.normal(size=(B, D))) if cell == "lstm" else h0
    (seq, *final), _ = layer.forward(x, initial_state=state0)
    state, outs = state0, []
    for t in range(T):
        h, state = layer.step(x[:, t], state)
        outs.append(h)
    np.testing.assert_allclose(np.stack(outs, axis=1), seq, rtol=1e-12, atol=1e-14)
    got = state if cell == "lstm" else (state,)
    for a, b in zip(got, final, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("cell", sorted(CELLS))
def test_a_step_from_no_state_starts_at_zero(cell):
    layer = _layer(cell, True)
    x = _inputs(True)
    (seq, *_), _ = layer.forward(x[:, :1])
    h, _ = layer.step(x[:, 0])
    np.testing.assert_allclose(h, seq[:, 0], rtol=1e-12)


def test_step_refuses_a_sequence():
    layer = _layer("rnn", True)
    with pytest.raises(ShapeError, match=r"one step takes \(B,\) ids"):
        layer.step(np.zeros((B, 2), dtype=int))
    with pytest.raises(ShapeError, match=r"\(B, n_in\) vectors"):
        _layer("rnn", False).step(np.zeros((B, 2, 4)))


def _lm(seed: int = 0) -> Sequential:
    return Sequential(
        [
            Embedding(N, 4),
            LSTM(D, return_sequences=True),
            Dropout(0.5),
            GRU(D, return_sequences=True),
            Dense(N, "softmax"),
        ],
        seed=seed,
        dtype="float64",
    )


def test_step_model_follows_the_model_forward():
    lm, x = _lm(), _inputs(True)
    logits_seq = lm.forward(x, logits=True)[0]  # (B, T, N)
    states = None
    for t in range(T):
        logits, states = step_model(lm, x[:, t], states)
        np.testing.assert_allclose(logits, logits_seq[:, t], rtol=1e-11, atol=1e-13)
    assert len(states) == 2 and len(states[0]) == 2  # the LSTM's (h, c), the GRU's h


def test_generate_is_reproducible_under_a_seed():
    lm = _lm()
    a = generate(lm, [1, 2, 3], 20, rng=np.random.default_rng(5))
    b = generate(lm, [1, 2, 3], 20, rng=np.random.default_rng(5))
    c = generate(lm, [1, 2, 3], 20, rng=np.random.default_rng(6))
    assert a.shape == (20,) and a.dtype.kind == "i"
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert ((a >= 0) & (a < N)).all()


def test_greedy_generation_takes_the_most_likely_token():
    lm = _lm()
    out = generate(lm, [4], 8, rng=np.random.default_rng(0), temperature=0.0)
    logits, states = step_model(lm, np.array([4]))
    for token in out:  # replay: every token is the argmax after the ones before it
        assert token == logits[0].argmax()
        logits, states = step_model(lm, np.array([token]), states)
    top1 = generate(lm, [4], 8, rng=np.random.default_rng(9), top_k=1)
    np.testing.assert_array_equal(top1, out)


def test_streams_and_iteration():
    lm = _lm()
    out = generate(lm, np.array([[1, 2], [3, 4]]), 5, rng=np.random.default_rng(0))
    assert out.shape == (2, 5)
    tokens = list(iter_generate(lm, [1], 4, rng=np.random.default_rng(0)))
    assert len(tokens) == 4 and all(t.shape == (1,) for t in tokens)


@pytest.mark.parametrize(
    ("prime", "length", "error", "match"),
    [
        ([], 5, ShapeError, "P >= 1"),
        ([1.5, 2.0], 5, ShapeError, "token ids"),
        ([1], 0, ConfigError, "length=0"),
    ],
)
def test_bad_generation_requests(prime, length, error, match):
    with pytest.raises(error, match=match):
        generate(_lm(), np.asarray(prime), length, rng=np.random.default_rng(0))


def test_a_bidirectional_model_cannot_step():
    model = Sequential([Embedding(N, 4), Bidirectional(SimpleRNN(D)), Dense(N, "softmax")])
    with pytest.raises(ConfigError, match="cannot run one step at a time"):
        generate(model, [1], 3, rng=np.random.default_rng(0))


def test_sampling_follows_the_distribution_and_the_options():
    p = np.array([0.05, 0.5, 0.25, 0.15, 0.05])
    z = np.repeat(np.log(p)[None], 40_000, axis=0)
    freq = np.bincount(sample_logits(z, np.random.default_rng(0)), minlength=5) / len(z)
    np.testing.assert_allclose(freq, p, atol=0.01)  # 4 standard errors at most
    top2 = sample_logits(z, np.random.default_rng(0), top_k=2)
    assert set(np.unique(top2)) == {1, 2}
    np.testing.assert_allclose(np.bincount(top2)[1:3] / len(z), [2 / 3, 1 / 3], atol=0.01)
    cold = sample_logits(z, np.random.default_rng(0), temperature=0.25)
    assert (cold == 1).mean() > 0.9  # p^4 renormalised: 0.5^4 / sum = 0.93
    with pytest.raises(ConfigError, match="temperature"):
        sample_logits(z, np.random.default_rng(0), temperature=-1.0)
    with pytest.raises(ConfigError, match="top_k"):
        sample_logits(z, np.random.default_rng(0), top_k=0)
