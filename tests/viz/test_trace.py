"""The forward trace: the course's example by hand, and every cell against its layer."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rnnkit import (
    GRU,
    LSTM,
    Bidirectional,
    Dense,
    Dropout,
    Embedding,
    GlobalAveragePooling1D,
    GlobalMaxPooling1D,
    OneHot,
    Sequential,
    SimpleRNN,
    TimeDistributed,
)
from rnnkit.cli.trace import toy_model
from rnnkit.errors import ConfigError, DataError, ShapeError
from rnnkit.viz.toy import TOY_REVIEWS, toy_ids, toy_weights
from rnnkit.viz.trace import Trace, trace

#: float64 models against their float64 trace: the same maths in another order
TIGHT = 1e-12


def _random(model: Sequential, seed: int, scale: float = 0.5) -> Sequential:
    """Replace every weight, biases included, by N(0, scale^2) draws."""
    rng = np.random.default_rng(seed)
    model.set_weights([rng.normal(0.0, scale, w.shape) for w in model.get_weights()])
    return model


def _outputs(model: Sequential, x: np.ndarray) -> list[np.ndarray]:
    """Every layer's own output on the batch of one `x[None]`, in layer order."""
    out, h = [], x[None]
    for layer in model.layers:
        h = layer.forward(h)[0]
        out.append(np.array(h[0]))
    return out


def _row(step, key: str) -> np.ndarray:
    return next(v for k, _, v in step.rows if k == key)


# -- the course's example ---------------------------------------------------------------
def test_toy_model_has_the_notes_31_parameters_and_weights() -> None:
    model = toy_model()
    assert model.count_params() == 31
    shapes = [w.shape for w in model.get_weights()]
    assert shapes == [(5, 3), (3, 3), (3,), (3, 1), (1,)]
    U, W, b, _, _ = model.get_weights()
    assert U.dtype == np.float32
    assert U[3].tolist() == np.float32([0.7748706, 0.15962046, -0.01933241]).tolist()
    assert W[1].tolist() == np.float32([0.23049797, 0.67335117, 0.70247334]).tolist()
    assert not b.any()


def test_toy_trace_equals_the_hand_computation() -> None:
    U, W, b, V, c = (w.astype(np.float64) for w in toy_weights())
    movie, was, good = np.eye(5)[0], np.eye(5)[1], np.eye(5)[2]  # one-hot x_1, x_2, x_3
    # Keras layout: U is (5, 3), so the notes' U x_t is the row product x_t U, and for a
    # one-hot x_t that is one row of U; h_0 = 0, so W h_0 = 0 and h_1 = tanh(U[0]).
    assert np.array_equal(movie @ U, U[0])
    h0 = np.zeros(3)
    h1 = np.tanh(U[0] + h0 @ W + b)
    h2 = np.tanh(U[1] + h1 @ W + b)
    h3 = np.tanh(U[2] + h2 @ W + b)
    z = h3 @ V + c
    y = 1.0 / (1.0 + np.exp(-z))

    t = trace(toy_model(), toy_ids("movie was good"), tokens=["movie", "was", "good"])
    rnn = t.section("simple_rnn")
    assert [s.t for s in rnn.steps] == [1, 2, 3]
    assert rnn.stack("x").tolist() == [movie.tolist(), was.tolist(), good.tolist()]
    np.testing.assert_allclose(rnn.stack("Ux"), U[:3], rtol=0, atol=1e-15)
    np.testing.assert_allclose(rnn.stack("Wh"), [h0 @ W, h1 @ W, h2 @ W], rtol=0, atol=1e-15)
    np.testing.assert_allclose(rnn.stack("a"), [U[0], U[1] + h1 @ W, U[2] + h2 @ W], atol=1e-15)
    np.testing.assert_allclose(rnn.stack("h"), [h1, h2, h3], rtol=0, atol=1e-15)
    dense = t.section("dense").steps[0]
    np.testing.assert_allclose(_row(dense, "z"), z, rtol=0, atol=1e-15)
    np.testing.assert_allclose(_row(dense, "y"), y, rtol=0, atol=1e-15)
    np.testing.assert_allclose(t.output, y, rtol=0, atol=1e-15)
    assert abs(y[0] - 0.7654) < 1e-4  # the number the text shows, to 4 decimals


def test_toy_labels_come_out_as_the_notes_say() -> None:
    model = toy_model()
    for text, label in TOY_REVIEWS:
        y = trace(model, toy_ids(text)).output[0]
        assert (y > 0.5) == bool(label), (text, y)


def test_toy_text_shows_each_number_with_its_equation() -> None:
    t = trace(toy_model(), toy_ids("movie was good"), tokens=["movie", "was", "good"])
    text = t.format(digits=4)
    assert "h_t = tanh(U x_t + W h_{t-1} + b)" in text
    assert "x_1 = o_1, one-hot of id 0" in text and "[1 0 0 0 0]" in text
    assert "U x_1 = row 0 of U" in text and "[ 0.2431  0.6558  0.1247]" in text
    line = next(ln for ln in text.splitlines() if "h_3 = tanh(U x_3 + W h_2 + b)" in ln)
    assert line.endswith("[-0.1251 -0.5561 -0.5572]")
    assert "y = sigmoid(V h_3 + c)" in text
    assert "[ 0.77]" in t.format(digits=2)


def test_toy_ids_refuse_a_word_outside_the_five() -> None:
    with pytest.raises(
        DataError, match=r"'great' is not in the toy vocabulary \(movie, was, good, bad, not\)"
    ):
        toy_ids("movie was great")
    with pytest.raises(DataError, match="no words"):
        toy_ids("   ")


# -- every cell against its layer's forward pass -----------------------------------------
@pytest.mark.parametrize(
    "rnn",
    [
        lambda: SimpleRNN(4, "relu", return_sequences=True),
        lambda: LSTM(4, return_sequences=True),
        lambda: GRU(4, return_sequences=True),
        lambda: GRU(4, return_sequences=True, reset_after=False),
    ],
    ids=["rnn-relu", "lstm", "gru", "gru-classic"],
)
def test_traced_states_equal_the_layer_in_float64(rnn) -> None:
    model = Sequential([Embedding(9, 5), rnn(), Dense(3, "softmax")], seed=0, dtype="float64")
    _random(model, seed=1)
    ids = np.array([3, 8, 1, 1, 5, 2, 7])
    t = trace(model, ids)
    layer = model.layers[1]
    out = _outputs(model, ids)
    section = t.section(layer.name)
    np.testing.assert_allclose(section.stack("x"), out[0], rtol=0, atol=TIGHT)
    np.testing.assert_allclose(section.stack("h"), out[1], rtol=0, atol=TIGHT)
    np.testing.assert_allclose(t.section("dense").stack("y"), out[2], rtol=0, atol=TIGHT)
    np.testing.assert_allclose(t.output, model(ids[None])[0], rtol=0, atol=TIGHT)
    if isinstance(layer, LSTM):  # the cell state too, through the layer's own steps
        state, cells = None, []
        for x_t in out[0]:
            _, state = layer.step(x_t[None], state)
            cells.append(state[1][0])
        np.testing.assert_allclose(section.stack("c"), cells, rtol=0, atol=TIGHT)


def test_lstm_gates_follow_the_keras_order_i_f_c_o() -> None:
    model = _random(Sequential([LSTM(2, return_sequences=True)], input_dim=3, dtype="float64"), 2)
    x = np.random.default_rng(3).normal(size=(4, 3))
    step = trace(model, x).section("lstm").steps[0]  # from h_0 = c_0 = 0
    a_i, a_f, a_c, a_o = np.split(_row(step, "a"), 4)
    sigmoid = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    np.testing.assert_allclose(_row(step, "i"), sigmoid(a_i), atol=1e-15)
    np.testing.assert_allclose(_row(step, "f"), sigmoid(a_f), atol=1e-15)
    np.testing.assert_allclose(_row(step, "g"), np.tanh(a_c), atol=1e-15)
    c1 = sigmoid(a_i) * np.tanh(a_c)  # f_1 * c_0 = 0
    np.testing.assert_allclose(_row(step, "h"), sigmoid(a_o) * np.tanh(c1), atol=1e-15)


def test_bidirectional_directions_equal_the_layer_and_the_backward_reads_right_to_left():
    bi = Bidirectional(GRU(3, return_sequences=True))
    model = Sequential([OneHot(6), bi, TimeDistributed(Dense(2))], seed=0, dtype="float64")
    _random(model, seed=4)
    ids = np.array([5, 0, 2, 2, 4])
    t = trace(model, ids, tokens=list("vwxyz"))
    merged = _outputs(model, ids)[1]  # (T, 6): [forward h_t; backward h_t]
    forward = t.section(bi.forward_layer.name, "forward")
    backward = t.section(bi.backward_layer.name, "backward")
    np.testing.assert_allclose(forward.stack("h"), merged[:, :3], rtol=0, atol=TIGHT)
    np.testing.assert_allclose(backward.stack("h"), merged[:, 3:], rtol=0, atol=TIGHT)
    assert [s.t for s in backward.steps] == [5, 4, 3, 2, 1]  # its reading order
    assert backward.steps[0].token == "z" and "starts from h_6 = 0" in backward.notes[0]
    assert "W h_6" in [label for _, label, _ in backward.steps[0].rows]
    np.testing.assert_allclose(t.section("bidirectional", "merge").stack("h"), merged, atol=TIGHT)


@pytest.mark.parametrize("mode", ["sum", "mul", "ave"])
def test_bidirectional_many_to_one_merges_forward_h_T_and_backward_h_1(mode: str) -> None:
    bi = Bidirectional(LSTM(3), merge_mode=mode)
    model = _random(Sequential([Embedding(7, 4), bi], dtype="float64", seed=0), seed=5)
    ids = np.array([1, 2, 3, 6])
    t = trace(model, ids)
    f = t.section(bi.forward_layer.name, "forward").stack("h")[-1]  # after x_4
    b = t.section(bi.backward_layer.name, "backward").stack("h")[0]  # after x_1
    expected = {"sum": f + b, "mul": f * b, "ave": (f + b) / 2}[mode]
    np.testing.assert_allclose(t.output, expected, rtol=0, atol=TIGHT)
    np.testing.assert_allclose(t.output, model(ids[None])[0], rtol=0, atol=TIGHT)
    label = t.section("bidirectional", "merge").steps[0].rows[0][1]
    assert "forward h_4" in label and "backward h_1" in label


def test_two_stacked_layers_each_equal_their_forward_pass() -> None:
    layers = [OneHot(6), SimpleRNN(4, return_sequences=True), Dropout(0.5), LSTM(3)]
    model = _random(Sequential([*layers, Dense(2, "softmax")], seed=0, dtype="float64"), 6)
    ids = np.array([0, 5, 3, 3, 1, 2, 4, 0, 1, 2, 5])  # 11 steps: subscripts h_{10}, h_{11}
    t = trace(model, ids)
    out = _outputs(model, ids)
    np.testing.assert_allclose(t.section("simple_rnn").stack("h"), out[1], rtol=0, atol=TIGHT)
    lstm = t.section("lstm")
    np.testing.assert_allclose(lstm.stack("x"), out[1], rtol=0, atol=TIGHT)  # h_t below
    np.testing.assert_allclose(lstm.stack("h")[-1], out[3], rtol=0, atol=TIGHT)
    assert lstm.steps[10].rows[0][1] == "x_{11} = h_{11} of simple_rnn"
    assert any("dropout" in n and "identity at inference" in n for n in t.notes)
    assert "reads h_{11}" in t.format()


@pytest.mark.parametrize("pooling", [GlobalAveragePooling1D, GlobalMaxPooling1D])
def test_pooling_in_float32_agrees_with_the_model(pooling) -> None:
    model = Sequential(
        [Embedding(20, 6), GRU(5, return_sequences=True), pooling(), Dense(1, "sigmoid")], seed=3
    )
    ids = np.array([4, 19, 7, 7, 0, 12])
    t = trace(model, ids, labels=["neg", "pos"])
    # NOTE: the model runs in float32, the trace in float64: agreement to float32 rounding
    np.testing.assert_allclose(t.output, model(ids[None])[0], rtol=1e-5, atol=1e-6)
    H = t.section("gru").stack("h")
    p = _row(t.section(model.layers[2].name).steps[0], "p")
    np.testing.assert_allclose(p, H.max(axis=0) if pooling is GlobalMaxPooling1D else H.mean(0))
    assert t.sections[-1].steps[0].notes[0].startswith("P(pos) = ")


# -- results and errors --------------------------------------------------------------------
def test_to_dict_is_json_with_the_documented_keys() -> None:
    model = _random(Sequential([LSTM(2, return_sequences=True), Dense(2)], input_dim=3), 7)
    x = np.random.default_rng(8).normal(size=(3, 3))
    d = json.loads(json.dumps(trace(model, x, notes=["n"]).to_dict()))
    assert set(d) == {"tokens", "ids", "labels", "notes", "output", "sections"}
    assert d["tokens"] is None and d["ids"] is None and d["notes"] == ["n"]
    section = d["sections"][0]
    assert set(section) == {"layer", "type", "direction", "title", "equations", "notes", "steps"}
    step = section["steps"][0]
    assert set(step) == {"t", "token", "id", "notes", "values", "labels"}
    assert list(step["values"]) == ["x", "Ux", "Wh", "b", "a", "i", "f", "g", "o", "c", "h"]
    assert step["labels"]["c"] == "c_1 = f_1 * c_0 + i_1 * g_1"
    assert len(d["output"]) == 3 and len(d["output"][0]) == 2


def test_format_cuts_long_rows_and_shows_large_one_hot_vectors_by_their_place() -> None:
    model = Sequential([OneHot(40), SimpleRNN(20), Dense(1)], seed=0)
    t: Trace = trace(model, np.array([37, 2]))
    text = t.format(max_values=12)
    assert "one-hot: 1 at 37 of 40" in text and "... (20 values)" in text
    assert "... (20 values)" not in t.format(max_values=0)
    with pytest.raises(ConfigError, match="digits"):
        t.format(digits=13)


def test_a_trace_that_differs_from_the_layer_is_refused(monkeypatch) -> None:
    model = toy_model(dtype="float64")
    rnn = model.layers[1]
    real = rnn.forward
    monkeypatch.setattr(rnn, "forward", lambda x, **kw: (real(x)[0] + 1e-6, None))
    with pytest.raises(RuntimeError, match="simple_rnn: the trace differs"):
        trace(model, toy_ids("movie was good"))


def test_bad_inputs_and_layers_are_refused() -> None:
    model = toy_model()
    with pytest.raises(ShapeError, match=r"inputs: expected the \(T,\) token ids"):
        trace(model, np.array([[0, 1]]))
    with pytest.raises(ShapeError, match="tokens: 2 tokens for 3 steps"):
        trace(model, toy_ids("movie was good"), tokens=["movie", "was"])
    with pytest.raises(ShapeError, match=r"ids must lie in \[0, 5\)"):
        trace(model, np.array([0, 5]))
    pair = Sequential([Bidirectional(SimpleRNN(2), merge_mode=None)], input_dim=2)
    with pytest.raises(ConfigError, match="merge modes"):
        trace(pair, np.zeros((3, 2)))
    with pytest.raises(ConfigError, match="no such section"):
        trace(model, toy_ids("movie")).section("lstm")
