"""LSTM and GRU: values against a step-by-step loop, gradients against central differences.

Every hand-written gradient is checked entry by entry in float64 with
:func:`reference.check_gradients`: U, W, b, the input where it is real-valued, and the
initial states, for every option (return_sequences, return_state, initial_state,
reset_after, ids or real vectors, padded or not). With a mask, pads must be invisible:
zero output, zero gradient, and no change anywhere when a pad's input changes. The
gradient checks run on both paths of the recurrences (the ``kernels`` fixture), the
compiled one in its float64 variant, with the gates' gradients handed to dU and dx
side by side (T, B, g d) and gate-major (g, T, B, d).
"""

from __future__ import annotations

import numpy as np
import pytest

from reference import check_gradients
from rnnkit.errors import ShapeError
from rnnkit.layers import gru as gru_layer
from rnnkit.layers import lstm as lstm_layer
from rnnkit.layers.base import Layer, Spec
from rnnkit.layers.gru import GRU
from rnnkit.layers.lstm import LSTM

B, T, N_IN, D = 3, 5, 4, 3
LENGTHS = np.array([5, 2, 4])
MASK = np.arange(T)[None, :] < LENGTHS[:, None]  # (B, T), False at pads

ACTIVATIONS = {
    "tanh": np.tanh,
    "sigmoid": lambda a: 1.0 / (1.0 + np.exp(-a)),
    "linear": lambda a: a,
}
#: the three cells under test: name -> constructor
CELLS = {
    "lstm": lambda **kw: LSTM(D, **kw),
    "gru": lambda **kw: GRU(D, **kw),
    "gru_reset_before": lambda **kw: GRU(D, reset_after=False, **kw),
}


def _reference(layer: Layer, x, h0=None, c0=None, mask=None):
    """The cell equations, one sequence and one step at a time, on real-valued x.

    Returns the per-step outputs (zero at pads), and the last real h and c (B, d)
    (c is zeros for a GRU).
    """
    f = ACTIVATIONS[layer.activation]
    s = ACTIVATIONS[layer.recurrent_activation]
    U, W, b = (layer.params[k] for k in "UWb")
    seq = np.zeros((x.shape[0], x.shape[1], D))
    last_h, last_c = np.zeros((x.shape[0], D)), np.zeros((x.shape[0], D))
    for i in range(x.shape[0]):
        h = np.zeros(D) if h0 is None else h0[i].copy()
        c = np.zeros(D) if c0 is None else c0[i].copy()
        for t in range(x.shape[1]):
            if mask is not None and not mask[i, t]:
                continue  # a pad: the states are carried unchanged
            if isinstance(layer, LSTM):
                a_i, a_f, a_c, a_o = np.split(x[i, t] @ U + h @ W + b, 4)
                c = s(a_f) * c + s(a_i) * f(a_c)
                h = s(a_o) * f(c)
            elif layer.reset_after:
                x_z, x_r, x_h = np.split(x[i, t] @ U + b[0], 3)
                h_z, h_r, h_h = np.split(h @ W + b[1], 3)
                z, r = s(x_z + h_z), s(x_r + h_r)
                h = z * h + (1 - z) * f(x_h + r * h_h)
            else:
                x_z, x_r, x_h = np.split(x[i, t] @ U + b, 3)
                W_z, W_r, W_h = np.split(W, 3, axis=1)
                z, r = s(x_z + h @ W_z), s(x_r + h @ W_r)
                h = z * h + (1 - z) * f(x_h + (r * h) @ W_h)
            seq[i, t] = h
        last_h[i], last_c[i] = h, c
    return seq, last_h, last_c


def _dot(R, y) -> float:
    """The test loss sum(R * y), over a tuple of outputs when there are several."""
    if isinstance(y, tuple):
        return sum(_dot(r, v) for r, v in zip(R, y, strict=True))
    return float((R * y).sum())


def _like(y, rng: np.random.Generator):
    """Random weights of the loss, shaped like the output (or tuple of outputs)."""
    if isinstance(y, tuple):
        return tuple(_like(v, rng) for v in y)
    return rng.normal(size=y.shape)


def _case(cell: str, inputs: str, masked: bool, seed: int, **kw):
    """A float64 layer with a random nonzero bias and a batch of inputs.

    inputs: "ids" (B, T) ints or "features" real (B, T, N_IN) vectors. Id N_IN - 1
    appears at pads only. Returns the layer, x, the ids, the mask (or None) and a
    Generator for what else the test draws.
    """
    rng = np.random.default_rng(seed)
    layer = CELLS[cell](dtype="float64", **kw)
    layer.build(Spec("ids" if inputs == "ids" else "features", N_IN), rng)
    b = layer.params["b"]
    b[...] = rng.normal(scale=0.5, size=b.shape)
    ids = rng.integers(0, N_IN - 1, size=(B, T))
    if masked:
        ids[~MASK] = N_IN - 1
    x = ids if inputs == "ids" else rng.normal(size=(B, T, N_IN))
    return layer, x, ids, (MASK if masked else None), rng


def _initial_state(layer: Layer, rng: np.random.Generator):
    h0 = rng.normal(scale=0.5, size=(B, D))
    return (h0, rng.normal(scale=0.5, size=(B, D))) if isinstance(layer, LSTM) else h0


def _check(layer: Layer, x, mask, rng, state=None):
    """Gradient check of U, W, b and, where real-valued or given, x, h0 and c0."""
    y, cache = layer.forward(x, mask=mask, initial_state=state)
    R = _like(y, rng)

    def loss() -> float:
        return _dot(R, layer.forward(x, mask=mask, initial_state=state)[0])

    layer.zero_grad()
    back = layer.backward(R, cache)
    dx, dstate = back if state is not None else (back, None)
    params = dict(layer.params)
    analytic = {k: g.copy() for k, g in layer.grads.items()}
    if np.issubdtype(np.asarray(x).dtype, np.integer):
        assert dx is None, "ids have no gradient"
    else:
        params["x"], analytic["x"] = x, dx
    if isinstance(state, tuple):
        params["h0"], params["c0"] = state
        analytic["h0"], analytic["c0"] = dstate
    elif state is not None:
        params["h0"], analytic["h0"] = state, dstate
    check_gradients(loss, params, analytic)
    return y, dx


def _assert_pads_invisible(layer: Layer, x, ids, y, dx, rng, state=None) -> None:
    """Zero outputs and gradients at pads; changing a pad's input changes nothing."""
    seq = y[0] if isinstance(y, tuple) else y
    if layer.return_sequences:
        assert (seq[~MASK] == 0).all(), "a pad step must output zero"
    x2 = x.copy()
    if dx is None:  # ids
        np.testing.assert_array_equal(layer.sparse_rows["U"], np.unique(ids[MASK]))
        assert (layer.grads["U"][N_IN - 1] == 0).all(), "the id seen only at pads got gradient"
        x2[~MASK] = 0
    else:
        assert (dx[~MASK] == 0).all(), "a pad step's input got gradient"
        x2[~MASK] = rng.normal(scale=10.0, size=x2[~MASK].shape)
    y2 = layer.forward(x2, mask=MASK, initial_state=state)[0]
    for a, b in zip(_as_tuple(y2), _as_tuple(y), strict=True):
        np.testing.assert_array_equal(a, b)


def _as_tuple(y) -> tuple:
    return y if isinstance(y, tuple) else (y,)


def _one_hot(layer: Layer, x):
    return np.eye(N_IN)[x] if np.issubdtype(np.asarray(x).dtype, np.integer) else x


@pytest.mark.parametrize("masked", [False, True], ids=["full", "padded"])
@pytest.mark.parametrize("inputs", ["ids", "features"])
@pytest.mark.parametrize("return_sequences", [False, True], ids=["last", "sequences"])
@pytest.mark.parametrize("cell", sorted(CELLS))
def test_gradients(cell, return_sequences, inputs, masked, kernels):
    _check_case(cell, return_sequences, inputs, masked)


@pytest.mark.parametrize("masked", [False, True], ids=["full", "padded"])
@pytest.mark.parametrize("inputs", ["ids", "features"])
@pytest.mark.parametrize("cell", sorted(CELLS))
def test_gradients_with_the_gates_handed_back_gate_major(
    cell, inputs, masked, kernels, monkeypatch
):
    """A gated layer hands dL/d(x_t U) to dU and dx with its gates side by side
    (T, B, g d) on the compiled path and for a small layer on the NumPy path;
    gate-major (g, T, B, d) for a large one on the NumPy path. Here always gate-major."""
    module = lstm_layer if cell == "lstm" else gru_layer
    monkeypatch.setattr(module, "side_by_side", lambda *_: None)
    _check_case(cell, True, inputs, masked)


def _check_case(cell, return_sequences, inputs, masked):
    """Values against the reference loop, gradients against central differences, pads."""
    layer, x, ids, mask, rng = _case(
        cell, inputs, masked, seed=5, return_sequences=return_sequences
    )
    seq, last, _ = _reference(layer, _one_hot(layer, x), mask=mask)
    y, dx = _check(layer, x, mask, rng)
    np.testing.assert_allclose(y, seq if return_sequences else last, rtol=1e-12, atol=1e-14)
    if masked:
        _assert_pads_invisible(layer, x, ids, y, dx, rng)


@pytest.mark.parametrize("masked", [False, True], ids=["full", "padded"])
@pytest.mark.parametrize("return_state", [False, True], ids=["", "state"])
@pytest.mark.parametrize("return_sequences", [False, True], ids=["last", "sequences"])
@pytest.mark.parametrize("inputs", ["ids", "features"])
@pytest.mark.parametrize("cell", sorted(CELLS))
def test_initial_state_gradients(cell, inputs, return_sequences, return_state, masked, kernels):
    """From a given h0 (and c0): their gradients, and the final states returned."""
    layer, x, ids, mask, rng = _case(
        cell,
        inputs,
        masked,
        seed=2,
        return_sequences=return_sequences,
        return_state=return_state,
    )
    state = _initial_state(layer, rng)
    h0, c0 = state if isinstance(state, tuple) else (state, None)
    seq, last_h, last_c = _reference(layer, _one_hot(layer, x), h0, c0, mask=mask)
    y, dx = _check(layer, x, mask, rng, state)
    want = seq if return_sequences else last_h
    if return_state:
        want = (want, last_h, last_c) if isinstance(layer, LSTM) else (want, last_h)
        assert isinstance(y, tuple) and len(y) == len(want)
    for ours, theirs in zip(_as_tuple(y), _as_tuple(want), strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-14)
    if masked:
        _assert_pads_invisible(layer, x, ids, y, dx, rng, state)


@pytest.mark.parametrize(
    ("activation", "recurrent_activation"), [("sigmoid", "tanh"), ("linear", "sigmoid")]
)
@pytest.mark.parametrize("cell", sorted(CELLS))
def test_other_activations(cell, activation, recurrent_activation):
    layer, x, _, mask, rng = _case(
        cell,
        "features",
        True,
        seed=9,
        activation=activation,
        recurrent_activation=recurrent_activation,
        return_sequences=True,
    )
    seq, _, _ = _reference(layer, x, mask=mask)
    y, _ = _check(layer, x, mask, rng)
    np.testing.assert_allclose(y, seq, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("cell", sorted(CELLS))
def test_gradients_accumulate_until_zero_grad(cell):
    """backward adds into grads (as the layer protocol says) rather than replacing them."""
    layer, x, _, mask, rng = _case(cell, "features", True, seed=4)
    y, cache = layer.forward(x, mask=mask)
    R = rng.normal(size=y.shape)
    layer.zero_grad()
    layer.backward(R, cache)
    once = {k: g.copy() for k, g in layer.grads.items()}
    layer.backward(R, cache)
    for k, g in layer.grads.items():
        np.testing.assert_allclose(g, 2 * once[k], rtol=1e-15, err_msg=k)
    layer.zero_grad()
    assert all((g == 0).all() for g in layer.grads.values())


def test_long_padded_sequence_carries_the_last_real_state():
    """A sequence padded with many steps ends in the state of its last real step."""
    for cell in sorted(CELLS):
        layer, x, _, _, _ = _case(cell, "features", False, seed=6, return_state=True)
        long = np.concatenate([x, np.ones((B, 40, N_IN))], axis=1)  # 40 pad steps
        mask = np.zeros((B, T + 40), dtype=bool)
        mask[:, :T] = True
        y, *states = layer(long, mask=mask)
        y_short, *states_short = layer(x)
        np.testing.assert_array_equal(y, y_short)
        for a, b in zip(states, states_short, strict=True):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("cell", sorted(CELLS))
def test_wrong_shapes_are_refused(cell):
    layer, x, _, _, _ = _case(cell, "features", False, seed=0)
    with pytest.raises(ShapeError, match="inputs must be"):
        layer(x[:, :, :2])
    with pytest.raises(ShapeError, match="mask has shape"):
        layer(x, mask=MASK[:, :2])
    with pytest.raises(ShapeError, match=r"ids must lie in \[0, 4\)"):
        layer(np.full((B, T), N_IN))
    with pytest.raises(ShapeError, match="expected"):
        bad = np.zeros((B, D + 1))
        layer.forward(x, initial_state=(bad, bad) if cell == "lstm" else bad)
    with pytest.raises(ShapeError, match="needs a time axis"):
        CELLS[cell]().build(Spec("features", 3, time=False), np.random.default_rng(0))
    with pytest.raises(ShapeError, match="units=0"):
        type(layer)(0)
