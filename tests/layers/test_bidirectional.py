"""Bidirectional and reverse_padded: gradients, pads, PyTorch and Keras parity.

Every case is checked against the lecture's loops run on each sequence alone: the
forward copy reads x_1 .. x_n, the backward copy x_n .. x_1 (n the sequence's own
length, never a pad), and the two are merged step by step. Gradients are checked in
float64 by central differences; PyTorch's ``nn.RNN(bidirectional=True)`` on a packed
batch and Keras's ``Bidirectional`` give the same numbers with the same weights.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from reference import assert_close, check_against_torch, check_gradients
from rnnkit.core.reverse import prefix_lengths, reverse_padded
from rnnkit.errors import ConfigError, ShapeError
from rnnkit.layers import GRU, LSTM, Dense, Embedding, OneHot, SimpleRNN, Spec
from rnnkit.layers.bidirectional import Bidirectional
from rnnkit.models import Sequential
from rnnkit.training import SequenceDataset

B, T, N_IN, UNITS = 4, 5, 4, 3
LENGTHS = np.array([5, 2, 4, 1])
MASK = np.arange(T)[None, :] < LENGTHS[:, None]  # (B, T), False at pads
MODES = ["concat", "sum", "mul", "ave", None]
MERGE = {
    "concat": lambda a, b: np.concatenate([a, b], axis=-1),
    "sum": np.add,
    "mul": np.multiply,
    "ave": lambda a, b: (a + b) / 2,
}


# -- reverse_padded -------------------------------------------------------------------


@given(st.lists(st.integers(0, 6), min_size=1, max_size=5), st.integers(0, 3))
def test_reverse_padded_reverses_each_row_within_its_length(lengths, extra):
    lengths = np.array(lengths)
    x = np.arange(len(lengths) * (lengths.max() + extra) * 2).reshape(len(lengths), -1, 2)
    out = reverse_padded(x, lengths)
    for i, n in enumerate(lengths):
        np.testing.assert_array_equal(out[i, :n], x[i, :n][::-1])
        np.testing.assert_array_equal(out[i, n:], x[i, n:])  # pads stay in place
    np.testing.assert_array_equal(reverse_padded(out, lengths), x)  # its own inverse
    np.testing.assert_array_equal(reverse_padded(x[..., 0], lengths), out[..., 0])  # (B, T)


def test_reverse_padded_without_lengths_flips_time_and_checks_its_arguments():
    x = np.arange(6).reshape(2, 3)
    np.testing.assert_array_equal(reverse_padded(x), x[:, ::-1])
    with pytest.raises(ShapeError, match="lengths must lie in"):
        reverse_padded(x, np.array([4, 1]))
    with pytest.raises(ShapeError, match=r"lengths must be \(2,\) integers"):
        reverse_padded(x, np.array([1.0, 2.0]))
    with pytest.raises(ShapeError, match="mask row 1 is not True on a prefix"):
        prefix_lengths(np.array([[True, False], [False, True]]))


# -- the lecture's loops, one sequence at a time --------------------------------------


def _states(xs, U, W, b):
    """h_1 .. h_n of one sequence (n, d): h_t = tanh(x_t U + h_{t-1} W + b), h_0 = 0."""
    h, out = np.zeros(W.shape[0]), []
    for x_t in xs:
        h = np.tanh(x_t @ U + h @ W + b)
        out.append(h)
    return np.array(out)


def _expected(bi: Bidirectional, x, lengths):
    """What the wrapper must output, from each sequence alone (x real-valued)."""
    P = bi.params
    seq = {p: np.zeros((len(x), x.shape[1], UNITS)) for p in ("forward", "backward")}
    last = {p: np.zeros((len(x), UNITS)) for p in ("forward", "backward")}
    for i, n in enumerate(lengths):
        xs = x[i, :n]
        for p, order in (("forward", slice(None)), ("backward", slice(None, None, -1))):
            h = _states(xs[order], P[f"{p}_U"], P[f"{p}_W"], P[f"{p}_b"])[order]
            seq[p][i, :n] = h  # back in the order of x: h_bwd_t has read x_n .. x_t
            last[p][i] = h[-1] if p == "forward" else h[0]  # the backward run ends at x_1
    y_f, y_b = (seq if bi.return_sequences else last).values()
    ys = (y_f, y_b) if bi.merge_mode is None else (MERGE[bi.merge_mode](y_f, y_b),)
    if bi.concat_input:
        keep = np.arange(x.shape[1])[None, :] < np.asarray(lengths)[:, None]
        ys = (np.concatenate([ys[0], x * keep[:, :, None]], axis=-1),)
    if bi.return_state:
        return (*ys, last["forward"], last["backward"])
    return ys if bi.merge_mode is None else ys[0]


def _case(inputs: str, masked: bool, seed: int = 0, merge_mode="concat", **kw):
    """A float64 Bidirectional(SimpleRNN(3)) with nonzero biases, and its inputs.

    inputs: "ids" (B, T), or "features" (B, T, 4); id 3 appears at pads only.
    kw: return_sequences / return_state for the RNN, concat_input for the wrapper.
    """
    rng = np.random.default_rng(seed)
    concat_input = kw.pop("concat_input", False)
    bi = Bidirectional(
        SimpleRNN(UNITS, **kw), merge_mode, concat_input=concat_input, dtype="float64"
    )
    bi.build(Spec("ids" if inputs == "ids" else "features", N_IN), rng)
    for p in ("forward", "backward"):
        bi.params[f"{p}_b"][...] = rng.normal(scale=0.5, size=UNITS)
    ids = rng.integers(0, N_IN - 1, size=(B, T))
    if masked:
        ids[~MASK] = N_IN - 1
    x = ids if inputs == "ids" else rng.normal(size=(B, T, N_IN))
    return bi, x, ids, (MASK if masked else None), rng


def _dot(R, y) -> float:
    if isinstance(y, tuple):
        return sum(_dot(r, v) for r, v in zip(R, y, strict=True))
    return float((R * y).sum())


def _like(y, rng):
    return tuple(_like(v, rng) for v in y) if isinstance(y, tuple) else rng.normal(size=y.shape)


def _check(bi: Bidirectional, x, mask, rng):
    """Gradient check of every parameter (and of x when real): returns y, dx, R."""
    y, cache = bi.forward(x, mask=mask)
    R = _like(y, rng)  # nonzero at pads too: backward must ignore them
    bi.zero_grad()
    dx = bi.backward(R, cache)
    params = dict(bi.params)
    analytic = {k: g.copy() for k, g in bi.grads.items()}
    if np.issubdtype(x.dtype, np.integer):
        assert dx is None, "ids have no gradient"
    else:
        params["x"], analytic["x"] = x, dx
    check_gradients(lambda: _dot(R, bi.forward(x, mask=mask)[0]), params, analytic)
    return y, dx


def _assert_outputs(bi, y, x, ids, mask):
    lengths = LENGTHS if mask is not None else np.full(B, T)
    want = _expected(bi, np.eye(N_IN)[ids] if x is ids else x, lengths)
    ys, wants = (y, want) if isinstance(y, tuple) else ((y,), (want,))
    assert len(ys) == len(wants)
    for a, b in zip(ys, wants, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def _assert_pads_invisible(bi, y, dx, x, ids, rng):
    for out in y if isinstance(y, tuple) else (y,):
        if out.ndim == 3:
            assert (out[~MASK] == 0).all(), "a pad step must output zero"
    x2 = x.copy()
    if x is ids:
        for p in ("forward", "backward"):
            np.testing.assert_array_equal(bi.sparse_rows[f"{p}_U"], np.unique(ids[MASK]))
            assert (bi.grads[f"{p}_U"][N_IN - 1] == 0).all(), "the pad-only id got gradient"
        x2[~MASK] = 0
    else:
        assert (dx[~MASK] == 0).all(), "a pad step's input got gradient"
        x2[~MASK] = rng.normal(size=x2[~MASK].shape)
    for a, b in zip(_flat(bi(x2, mask=MASK)), _flat(y), strict=True):
        np.testing.assert_array_equal(a, b)


def _flat(y):
    return y if isinstance(y, tuple) else (y,)


# -- gradients ------------------------------------------------------------------------


@pytest.mark.parametrize("return_state", [False, True], ids=["", "state"])
@pytest.mark.parametrize("masked", [False, True], ids=["full", "padded"])
@pytest.mark.parametrize("inputs", ["ids", "features"])
@pytest.mark.parametrize("return_sequences", [False, True], ids=["last", "sequences"])
@pytest.mark.parametrize("merge_mode", MODES)
def test_bidirectional_gradients(merge_mode, return_sequences, inputs, masked, return_state):
    bi, x, ids, mask, rng = _case(
        inputs,
        masked,
        merge_mode=merge_mode,
        return_sequences=return_sequences,
        return_state=return_state,
    )
    y, dx = _check(bi, x, mask, rng)
    _assert_outputs(bi, y, x, ids, mask)
    if masked:
        _assert_pads_invisible(bi, y, dx, x, ids, rng)


@pytest.mark.parametrize("masked", [False, True], ids=["full", "padded"])
@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave"])
def test_concat_input_gradients(merge_mode, masked):
    """y_t = [merge(a_fwd_t, a_bwd_t), x_t]: x reaches the output directly too."""
    bi, x, ids, mask, rng = _case(
        "features",
        masked,
        seed=1,
        merge_mode=merge_mode,
        return_sequences=True,
        concat_input=True,
    )
    assert bi.output_spec == Spec("features", (6 if merge_mode == "concat" else 3) + N_IN)
    y, dx = _check(bi, x, mask, rng)
    _assert_outputs(bi, y, x, ids, mask)
    if masked:
        _assert_pads_invisible(bi, y, dx, x, ids, rng)


def _row(a, i: int, n: int):
    """Sequence i of a batch's output or gradient, as a batch of one: (1, n, ...) for
    per-step arrays, (1, d) for states; tuples entry by entry."""
    if isinstance(a, tuple):
        return tuple(_row(v, i, n) for v in a)
    return a[i : i + 1, :n] if a.ndim == 3 else a[i : i + 1]


@pytest.mark.parametrize("return_state", [False, True], ids=["", "state"])
@pytest.mark.parametrize("return_sequences", [False, True], ids=["last", "sequences"])
@pytest.mark.parametrize("merge_mode", ["concat", "mul", None])
def test_padded_batch_gives_each_sequence_what_it_gets_alone(
    merge_mode, return_sequences, return_state
):
    """Rows of a padded batch equal each sequence run alone, unpadded and unmasked; the
    batch's gradients are the sum of theirs.

    NOTE: to 1e-13, not bit for bit: BLAS may sum a product with one row in another
    order than with four; a pad leaking into a state would change it by far more.
    """
    bi, x, _, _, rng = _case(
        "features",
        True,
        seed=2,
        merge_mode=merge_mode,
        return_sequences=return_sequences,
        return_state=return_state,
    )
    y, cache = bi.forward(x, mask=MASK)
    R = _like(y, rng)
    bi.zero_grad()
    dx = bi.backward(R, cache)
    batch_grads = {k: g.copy() for k, g in bi.grads.items()}
    total = {k: np.zeros_like(g) for k, g in bi.grads.items()}
    for i, n in enumerate(LENGTHS):
        bi.zero_grad()
        y_i, cache_i = bi.forward(x[i : i + 1, :n])
        dx_i = bi.backward(_row(R, i, n), cache_i)
        for a, b in zip(_flat(_row(y, i, n)), _flat(y_i), strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(dx[i : i + 1, :n], dx_i, rtol=1e-12, atol=1e-15)
        for k in total:
            total[k] += bi.grads[k]
    for k, g in batch_grads.items():
        np.testing.assert_allclose(g, total[k], rtol=1e-12, atol=1e-15, err_msg=k)


@pytest.mark.parametrize("return_sequences", [False, True], ids=["last", "sequences"])
@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_gated_cells_are_wrapped_with_their_states(cell, return_sequences):
    """LSTM's return_state gives (y, h, c): the wrapper returns (y, h_fwd, c_fwd, h_bwd,
    c_bwd), checked by gradient and against each sequence run alone."""
    cls = LSTM if cell == "lstm" else GRU
    rng = np.random.default_rng(6)
    bi = Bidirectional(
        cls(UNITS, return_sequences=return_sequences, return_state=True), "ave", dtype="float64"
    )
    bi.build(Spec("features", N_IN), rng)
    x = rng.normal(size=(B, T, N_IN))
    y, dx = _check(bi, x, MASK, rng)
    assert len(y) == 1 + 2 * (2 if cell == "lstm" else 1)
    for i, n in enumerate(LENGTHS):
        for a, b in zip(_row(y, i, n), bi(x[i : i + 1, :n]), strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    assert (dx[~MASK] == 0).all()


def test_ids_and_explicit_one_hot_agree():
    bi, ids, _, _, rng = _case("ids", True, seed=3, return_sequences=True)
    R = rng.normal(size=(B, T, 2 * UNITS))
    results = []
    for x in (ids, np.eye(N_IN)[ids]):
        bi.zero_grad()
        y, cache = bi.forward(x, mask=MASK)
        bi.backward(R, cache)
        results.append((y, {k: g.copy() for k, g in bi.grads.items()}))
    (y_ids, g_ids), (y_hot, g_hot) = results
    np.testing.assert_allclose(y_ids, y_hot, rtol=1e-13, atol=1e-15)
    for k in g_ids:
        np.testing.assert_allclose(g_ids[k], g_hot[k], rtol=1e-12, atol=1e-15, err_msg=k)


# -- construction, configuration, parameters ------------------------------------------


def test_merge_mode_and_options_are_validated_with_clear_messages():
    msg = r"merge_mode='max' is not one of 'concat', 'sum', 'mul', 'ave', None"
    with pytest.raises(ConfigError, match=msg):
        Bidirectional(SimpleRNN(3), merge_mode="max")
    with pytest.raises(ConfigError, match="concat_input=True needs a merge_mode"):
        Bidirectional(SimpleRNN(3, return_sequences=True), None, concat_input=True)
    with pytest.raises(ConfigError, match="with return_sequences=True"):
        Bidirectional(SimpleRNN(3), concat_input=True)
    with pytest.raises(
        ConfigError, match="wraps a recurrent layer; Dense has no return_sequences, return_state"
    ):
        Bidirectional(Dense(3))
    with pytest.raises(ConfigError, match="layer class 'Nope' is not one of"):
        Bidirectional({"class": "Nope", "config": {}})
    bi = Bidirectional(SimpleRNN(3, return_sequences=True), concat_input=True)
    with pytest.raises(ShapeError, match="concat_input needs real-valued inputs"):
        bi.build(Spec("ids", 5), np.random.default_rng(0))
    bi = Bidirectional(SimpleRNN(3, return_sequences=True))
    bi.build(Spec("features", 2), np.random.default_rng(0))
    with pytest.raises(ShapeError, match="mask row 1 is not True on a prefix"):
        bi(np.ones((2, 3, 2)), mask=np.array([[True, True, True], [False, True, True]]))


@pytest.mark.parametrize("merge_mode", MODES)
def test_config_round_trip_rebuilds_the_same_layer(merge_mode):
    bi = Bidirectional(SimpleRNN(4, "relu", return_sequences=True), merge_mode, name="enc")
    bi.build(Spec("features", 3), np.random.default_rng(3))
    config = bi.get_config()
    assert json.loads(json.dumps(config)) == config, "get_config must be JSON-able"
    assert config["layer"]["class"] == "SimpleRNN" and config["merge_mode"] == merge_mode
    twin = Bidirectional(**config)
    assert twin.get_config() == config
    twin.build(Spec("features", 3), np.random.default_rng(3))
    assert twin.output_spec == bi.output_spec
    assert list(twin.params) == list(bi.params)
    for a, b in zip(twin.get_weights(), bi.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_copies_draw_forward_then_backward_and_share_their_arrays():
    rnn = SimpleRNN(3)
    bi = Bidirectional(rnn)
    assert bi.forward_layer.name == "forward_simple_rnn"
    assert bi.backward_layer.name == "backward_simple_rnn"
    bi.build(Spec("features", 2), np.random.default_rng(7))
    assert not rnn.built, "the wrapped layer is a template, not one of the copies"
    rng = np.random.default_rng(7)
    for p in ("forward", "backward"):
        alone = SimpleRNN(3)
        alone.build(Spec("features", 2), rng)  # the same draws, in the same order
        for k, w in alone.params.items():
            np.testing.assert_array_equal(bi.params[f"{p}_{k}"], w)
            assert bi.params[f"{p}_{k}"] is getattr(bi, f"{p}_layer").params[k]
            assert bi.grads[f"{p}_{k}"] is getattr(bi, f"{p}_layer").grads[k]
    bi.set_weights([w + 1.0 for w in bi.get_weights()])
    np.testing.assert_array_equal(bi.backward_layer.params["W"], bi.params["backward_W"])


def test_dtype_follows_the_wrapper_and_sequential():
    assert Bidirectional(SimpleRNN(3, dtype="float64")).dtype == np.float64
    model = Sequential([Bidirectional(SimpleRNN(3)), Dense(1)], input_dim=2, dtype="float64")
    bi = model.layers[0]
    assert isinstance(bi, Bidirectional) and bi.name == "bidirectional"
    assert {p.dtype for p in bi.params.values()} == {np.dtype("float64")}
    assert bi.get_config()["layer"]["config"]["dtype"] == "float64"
    assert list(model.named_weights())[:3] == [
        "bidirectional.forward_U",
        "bidirectional.forward_W",
        "bidirectional.forward_b",
    ]


def test_sparse_rows_and_zero_grad_reach_the_optimizer_through_sequential():
    """One-hot ids into a Bidirectional: U's gradient is sparse in both copies, and the
    optimizer sees the rows under the wrapper's names."""
    model = Sequential(
        [OneHot(6), Bidirectional(SimpleRNN(3)), Dense(1, "sigmoid")], seed=0, dtype="float64"
    ).compile("adam", "binary_crossentropy")
    seqs = [np.array([1, 2, 3]), np.array([2, 4])]
    batch = SequenceDataset(seqs, np.array([1, 0])).batch(np.array([0, 1]))
    model.zero_grad()
    model.train_batch(batch)
    slots = {k: (g, rows) for k, _, g, rows in model.param_slots()}
    for p in ("forward", "backward"):
        g, rows = slots[f"bidirectional.{p}_U"]
        np.testing.assert_array_equal(rows, [1, 2, 3, 4])  # not 0 (a pad), not 5
        assert (g[[0, 5]] == 0).all() and (g[[1, 2, 3, 4]] != 0).any()
        assert slots[f"bidirectional.{p}_W"][1] is None  # a dense gradient
    model.zero_grad()
    for k, (g, rows) in {k: (g, r) for k, _, g, r in model.param_slots()}.items():
        assert (g == 0).all(), k
        if k.endswith("_U"):
            assert rows is not None and rows.size == 0, k


# -- PyTorch: nn.RNN(num_layers=2, bidirectional=True) on a packed batch ---------------


def _torch_twin(torch, layers, n_in: int):
    """nn.RNN holding the weights of a stack of Bidirectional(SimpleRNN) layers (DESIGN
    §4: weight_ih = U.T, weight_hh = W.T, bias_ih = b, bias_hh = 0, `_reverse` for the
    backward direction)."""
    rnn = torch.nn.RNN(
        n_in, UNITS, num_layers=len(layers), bidirectional=True, batch_first=True
    ).double()
    with torch.no_grad():
        for name, value in _torch_names(layers, lambda bi, p, k: bi.params[f"{p}_{k}"]):
            getattr(rnn, name).copy_(torch.from_numpy(np.ascontiguousarray(value)))
        for name, param in rnn.named_parameters():
            if name.startswith("bias_hh"):
                param.zero_()
    return rnn


def _torch_names(layers, get):
    """(torch parameter name, the rnnkit array in torch's layout) for every weight."""
    for i, bi in enumerate(layers):
        for p, suffix in (("forward", ""), ("backward", "_reverse")):
            yield f"weight_ih_l{i}{suffix}", get(bi, p, "U").T
            yield f"weight_hh_l{i}{suffix}", get(bi, p, "W").T
            yield f"bias_ih_l{i}{suffix}", get(bi, p, "b")


@pytest.mark.parametrize("masked", [False, True], ids=["full", "padded"])
def test_two_bidirectional_layers_match_torch(torch, masked):
    """The second layer reads the concatenation of both directions of the first, as in
    torch; its final states are h_n[2] (forward) and h_n[3] (backward, after x_1)."""
    rng = np.random.default_rng(4)
    n_in = 3
    lengths = LENGTHS if masked else np.full(B, T)
    model = Sequential(
        [
            Bidirectional(SimpleRNN(UNITS, return_sequences=True)),
            Bidirectional(SimpleRNN(UNITS, return_sequences=True, return_state=True)),
        ],
        input_dim=n_in,
        dtype="float64",
        seed=0,
    )
    for bi in model.layers:
        for p in ("forward", "backward"):
            bi.params[f"{p}_b"][...] = rng.normal(scale=0.5, size=UNITS)
    x = rng.normal(size=(B, T, n_in))
    (y, h_f, h_b), caches = model.forward(x, MASK if masked else None)
    R = _like((y, h_f, h_b), rng)
    model.zero_grad()
    dx = model.backward(R, caches)

    rnn = _torch_twin(torch, model.layers, n_in)
    utils = torch.nn.utils.rnn
    tx = torch.from_numpy(x.copy()).requires_grad_()
    packed = utils.pack_padded_sequence(
        tx, torch.from_numpy(lengths), batch_first=True, enforce_sorted=False
    )
    out, h_n = rnn(packed)
    t_y, _ = utils.pad_packed_sequence(out, batch_first=True, total_length=T)
    theirs = (t_y, h_n[2], h_n[3])
    sum(((t * torch.from_numpy(r)).sum() for t, r in zip(theirs, R, strict=True))).backward()
    # every gradient in torch's layout (dU.T, dW.T, db), under torch's names
    ours = dict(_torch_names(model.layers, lambda bi, p, k: bi.grads[f"{p}_{k}"]))
    assert len(ours) == len(list(rnn.parameters())) // 4 * 3 == 12
    check_against_torch(
        {"y": (y, t_y), "h_fwd": (h_f, h_n[2]), "h_bwd": (h_b, h_n[3])},
        {"x": (dx, tx.grad), **{k: (g, getattr(rnn, k).grad) for k, g in ours.items()}},
    )


# -- Keras: keras.layers.Bidirectional with the same weights --------------------------

# NOTE: Keras computes in float32, as rnnkit does by default; two float32
# implementations that add up in different orders agree to a few units in the last
# place, about 1e-7 on these outputs of order 1: hence 1e-6.
KERAS_ATOL = 1e-6


@pytest.mark.filterwarnings(
    # Keras 3's PyTorch-backend Variable.__array__ takes no `copy` argument, which
    # NumPy 2 reports as a DeprecationWarning whenever get_weights() converts one
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning"
)
@pytest.mark.parametrize("return_sequences", [True, False], ids=["sequences", "last"])
@pytest.mark.parametrize("merge_mode", MODES)
def test_keras_bidirectional_gives_the_same_outputs(keras, merge_mode, return_sequences):
    """Keras sees each sequence alone; rnnkit sees them as one padded, masked batch."""
    n_in = 5
    rng = np.random.default_rng(5)
    ours = Bidirectional(SimpleRNN(UNITS, return_sequences=return_sequences), merge_mode)
    ours.build(Spec("features", n_in), rng)
    for p in ("forward", "backward"):
        ours.params[f"{p}_b"][...] = rng.normal(scale=0.5, size=UNITS)
    theirs = keras.layers.Bidirectional(
        keras.layers.SimpleRNN(UNITS, return_sequences=return_sequences), merge_mode=merge_mode
    )
    theirs.build((None, None, n_in))
    assert ours.count_params() == theirs.count_params() == 2 * (5 * 3 + 3 * 3 + 3)
    assert [w.shape for w in ours.get_weights()] == [w.shape for w in theirs.get_weights()]
    theirs.set_weights(ours.get_weights())  # forward's U, W, b, then backward's
    x = rng.normal(size=(B, T, n_in)).astype(np.float32)
    y = ours(x, mask=MASK)
    for i, n in enumerate(LENGTHS):
        want = theirs(x[i : i + 1, :n])
        want = want if isinstance(want, (list, tuple)) else [want]  # a pair for merge None
        wants = [keras.ops.convert_to_numpy(w) for w in want]
        for a, b in zip(_flat(_row(y, i, n)), wants, strict=True):
            assert_close(f"sequence {i}", a, b, rtol=0.0, atol=KERAS_ATOL)


# -- the point of it: a tag that depends on the future ---------------------------------


def test_only_the_bidirectional_tagger_learns_tags_that_depend_on_the_next_token():
    """Tag each token with the parity of the next one (2 at the last token): the
    forward direction alone cannot know it, the backward direction reads it."""
    rng = np.random.default_rng(0)
    seqs = [rng.integers(1, 5, size=rng.integers(3, 9)) for _ in range(256)]
    tags = np.empty(len(seqs), dtype=object)
    tags[:] = [np.append(s[1:] % 2, 2) for s in seqs]

    def accuracy(bidirectional: bool) -> float:
        rnn = SimpleRNN(8, return_sequences=True)
        model = Sequential(
            [Embedding(5, 8), Bidirectional(rnn) if bidirectional else rnn, Dense(3, "softmax")],
            seed=0,
        ).compile("adam", "sparse_categorical_crossentropy", lr=0.05)
        model.fit(seqs, tags, epochs=12, batch_size=32, verbose=0)
        return model.evaluate(seqs, tags)["accuracy"]

    assert accuracy(bidirectional=True) > 0.97
    assert accuracy(bidirectional=False) < 0.75
