"""The fast paths change no result: fused gates, chunked backward factors, reused
buffers, time-major memory and unmasked full batches give what the plain paths give.

Exact agreement is asserted where the same floating-point operations run in another
order of calls (chunking, buffer reuse, a mask with no pad); where the arithmetic
itself differs (one tanh for all gates instead of one sigmoid per gate), the float32
results agree within a few units of float32 rounding and float64 within 1e-12.
"""

from __future__ import annotations

import numpy as np
import pytest

import rnnkit.core.rnn as core_rnn
from rnnkit import GRU, LSTM, Dense, Embedding, Sequential, SimpleRNN
from rnnkit.core.gru import gru_forward
from rnnkit.core.lstm import lstm_forward
from rnnkit.layers import Spec
from rnnkit.training import Batch

B, T, N, D, F = 5, 9, 11, 6, 4
LENGTHS = np.array([9, 3, 9, 1, 6])
MASK = np.arange(T)[None, :] < LENGTHS[:, None]


def _xw(gates: int, dtype: str, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(T, B, gates * D)).astype(dtype)


def _w(gates: int, dtype: str, seed: int = 1) -> np.ndarray:
    return (np.random.default_rng(seed).normal(size=(D, gates * D)) * 0.5).astype(dtype)


@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize(
    ("dtype", "rtol", "atol"), [("float32", 2e-6, 1e-6), ("float64", 1e-12, 1e-14)]
)
def test_lstm_fused_gates_match_one_activation_per_gate(dtype, rtol, atol, masked):
    mask = MASK.T.copy() if masked else None
    h0 = np.zeros((B, D), dtype)
    fused = lstm_forward(_xw(4, dtype), _w(4, dtype), h0, h0, mask, fused=True)
    plain = lstm_forward(_xw(4, dtype), _w(4, dtype), h0, h0, mask, fused=False)
    for a, b in zip(fused, plain, strict=True):
        assert a.dtype == np.dtype(dtype)
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


@pytest.mark.parametrize("reset_after", [True, False])
@pytest.mark.parametrize(
    ("dtype", "rtol", "atol"), [("float32", 2e-6, 1e-6), ("float64", 1e-12, 1e-14)]
)
def test_gru_fused_gates_match_one_activation_per_gate(dtype, rtol, atol, reset_after):
    rng = np.random.default_rng(2)
    bias = rng.normal(size=3 * D).astype(dtype) if reset_after else None
    h0 = rng.normal(size=(B, D)).astype(dtype)
    kw = dict(recurrent_bias=bias, reset_after=reset_after)
    fused = gru_forward(_xw(3, dtype), _w(3, dtype), h0, MASK.T.copy(), fused=True, **kw)
    plain = gru_forward(_xw(3, dtype), _w(3, dtype), h0, MASK.T.copy(), fused=False, **kw)
    for a, b in zip(fused, plain, strict=True):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


CELLS = {
    "rnn": lambda **kw: SimpleRNN(D, **kw),
    "lstm": lambda **kw: LSTM(D, **kw),
    "gru": lambda **kw: GRU(D, **kw),
    "gru-before": lambda **kw: GRU(D, reset_after=False, **kw),
}


def _model(cell: str, dtype: str = "float64", seed: int = 0) -> Sequential:
    layers = [
        Embedding(N, F),
        CELLS[cell](return_sequences=True),
        CELLS[cell](),
        Dense(3, "softmax"),
    ]
    model = Sequential(layers, seed=seed, dtype=dtype)
    return model.compile("sgd", loss="sparse_categorical_crossentropy", clip_norm=None)


def _batch(masked: bool = True, seed: int = 3) -> Batch:
    rng = np.random.default_rng(seed)
    lengths = LENGTHS if masked else np.full(B, T)
    x = rng.integers(1, N, size=(B, T)) * (np.arange(T)[None, :] < lengths[:, None])
    mask = np.arange(T)[None, :] < lengths[:, None]
    return Batch(x, mask, lengths, rng.integers(0, 3, size=B), np.arange(B))


def _grads(model: Sequential, batch: Batch) -> dict[str, np.ndarray]:
    model.zero_grad()
    model.train_batch(batch)
    return {key: g.copy() for key, _, g, _ in model.param_slots()}


@pytest.mark.parametrize("cell", sorted(CELLS))
def test_backward_in_chunks_of_one_step_changes_nothing(cell, monkeypatch):
    model, batch = _model(cell), _batch()
    whole = _grads(model, batch)  # small arrays: every step in one chunk
    monkeypatch.setattr(core_rnn, "CHUNK_BYTES", 1)  # one step per chunk
    assert core_rnn.cache_steps(10**6, T) == 1
    stepwise = _grads(model, batch)
    for key in whole:
        np.testing.assert_array_equal(stepwise[key], whole[key], err_msg=key)


@pytest.mark.parametrize("cell", sorted(CELLS))
def test_reused_buffers_never_overwrite_what_is_still_held(cell):
    model = _model(cell)
    x1, x2 = _batch(seed=4).x, _batch(seed=5).x
    y1, caches1 = model.forward(x1, MASK, training=True)
    kept = y1.copy()
    y2, _held = model.forward(x2, MASK, training=True)  # its cache stays alive too
    np.testing.assert_array_equal(y1, kept)
    # gradients from the first cache, after the second forward pass, equal fresh ones
    model.zero_grad()
    model.backward(np.ones_like(y1), caches1)
    late = {key: g.copy() for key, _, g, _ in model.param_slots()}
    fresh_model = _model(cell)
    y, caches = fresh_model.forward(x1, MASK, training=True)
    fresh_model.zero_grad()
    fresh_model.backward(np.ones_like(y), caches)
    for key, _, g, _ in fresh_model.param_slots():
        np.testing.assert_array_equal(late[key], g, err_msg=key)
    assert not np.shares_memory(y1, y2)


@pytest.mark.parametrize("cell", sorted(CELLS))
def test_a_mask_without_pads_is_the_unmasked_path(cell):
    model, batch = _model(cell), _batch(masked=False)
    with_mask = _grads(model, batch)
    out_mask = model.forward(batch.x, batch.mask)[0]
    no_pad = Batch(batch.x, np.ones_like(batch.mask), batch.lengths, batch.y, batch.index)
    assert no_pad.mask.all()
    out = model.forward(batch.x, None)[0]
    np.testing.assert_array_equal(out_mask, out)
    np.testing.assert_array_equal(model.forward(batch.x, no_pad.mask)[0], out)
    again = _grads(model, no_pad)
    for key in with_mask:
        np.testing.assert_array_equal(with_mask[key], again[key], err_msg=key)


@pytest.mark.parametrize("cell", sorted(CELLS))
def test_float32_training_step_follows_float64(cell):
    """The float32 fast paths (fused gates, time-major views) round, they do not drift."""
    batch = _batch()
    g64 = _grads(_model(cell, "float64"), batch)
    g32 = _grads(_model(cell, "float32"), batch)
    for key in g64:
        assert g32[key].dtype == np.float32
        scale = np.abs(g64[key]).max() + 1e-30
        np.testing.assert_allclose(g32[key], g64[key], rtol=0, atol=5e-6 * scale, err_msg=key)


def test_time_major_outputs_read_like_batch_first_arrays():
    emb = Embedding(N, F)
    emb.build(Spec("ids", N), np.random.default_rng(0))
    ids = _batch().x
    out = emb(ids)
    assert out.shape == (B, T, F) and not out.flags.c_contiguous  # a view of (T, B, F)
    np.testing.assert_array_equal(out, emb.params["E"][ids])
    dense = Dense(3)
    dense.build(Spec("features", F), np.random.default_rng(1))
    np.testing.assert_allclose(dense(out), dense(np.ascontiguousarray(out)), rtol=1e-6)


def test_a_trained_model_keeps_no_scratch_memory():
    model = _model("lstm", "float32")
    batch = _batch()
    model.fit(batch.x, batch.y, lengths=batch.lengths, epochs=1, verbose=0)
    assert all(layer.workspace.nbytes == 0 for layer in model.layers)
    model.forward(batch.x, batch.mask, training=True)  # buffers come back on use
    assert model.layers[1].workspace.nbytes > 0
