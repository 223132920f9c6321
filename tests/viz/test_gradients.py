"""Gradients through time: the recorded dL/dh_t (and an LSTM's dL/dc_t), the measured
norms, the verdict, the plot.

The recorded dL/dh_t and dL/dc_t are checked against definitions computed
independently: PyTorch autograd through an unrolled loop of its own cells
(``retain_grad`` on every state), and central differences of a NumPy forward in which
h_t is moved by a perturbation. The measured parameter norms are those of the
gradients ``train_batch`` accumulates.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from reference import check_against_torch, check_gradients
from rnnkit.core.clipping import global_norm
from rnnkit.core.losses import sigmoid_binary_cross_entropy
from rnnkit.core.reverse import reverse_padded
from rnnkit.errors import ConfigError, DataError
from rnnkit.io.interop import to_torch
from rnnkit.layers import GRU, LSTM, Bidirectional, Dense, Embedding, SimpleRNN, Spec
from rnnkit.layers import GlobalAveragePooling1D as MeanPooling
from rnnkit.models import EncoderDecoder, LanguageModel, Sequential
from rnnkit.models.stateful import StatefulNetwork
from rnnkit.models.teacher_forcing import TeacherForcing
from rnnkit.training import SequenceDataset
from rnnkit.training.pairs import PairDataset
from rnnkit.training.streams import TextStreams
from rnnkit.viz.gradient_plot import plot_gradients
from rnnkit.viz.gradients import GradientDiagnosis, measure_gradients

CELLS = {"rnn": SimpleRNN, "lstm": LSTM, "gru": GRU}
LENGTHS = np.array([6, 2, 5, 1])
B, T, N_IN, D = 4, 6, 3, 5
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _layer(cell: str, seed: int = 0, **options) -> object:
    """A float64 layer on N_IN features with weights large enough to keep gates off 0.5."""
    rng = np.random.default_rng(seed)
    layer = CELLS[cell](D, dtype="float64", **options)
    layer.build(Spec("features", N_IN), rng)
    layer.set_weights([rng.normal(scale=0.6, size=w.shape) for w in layer.get_weights()])
    return layer


def _recorded(layer, x, mask, dy, state: str = "h") -> np.ndarray:
    """dL/dh_t (or dL/dc_t) (B, T, d) that the layer's backward records for dy."""
    return _recorded_states(layer, x, mask, dy)[state]


def _recorded_states(layer, x, mask, dy) -> dict[str, np.ndarray]:
    """Every state's recorded gradient: {"h": dL/dh_t}, and "c": dL/dc_t for an LSTM."""
    _, cache = layer.forward(x, mask=mask)
    cache, grads = layer.record_state_gradients(cache)
    layer.backward(dy, cache)
    return grads


def _torch_state_grads(
    torch, cell: str, layer, x, mask, R, R_last, Rc_last=None, c0=None
) -> dict[str, np.ndarray]:
    """dL/dh_t (and dL/dc_t) by autograd through an unrolled loop of torch's cell with
    the same weights.

    L = sum_t R_t . (h_t at real steps) + R_last . h_T (+ Rc_last . c_T); a pad carries
    h and c. "h" is the gradient of the carried h_t; "c" that of c_t as the cell
    computes it, before a pad's carry: at a real step it is the total dL/dc_t (both
    h_t and c_{t+1} read it), at a pad it is zero (nothing reads it there).
    """
    module = {"rnn": torch.nn.RNNCell, "lstm": torch.nn.LSTMCell, "gru": torch.nn.GRUCell}[cell]
    kw = {"nonlinearity": layer.activation} if cell == "rnn" else {}
    step = module(N_IN, D, **kw).double()
    weights = to_torch(cell, layer.params, suffix="")  # weight_ih, weight_hh, bias_ih, bias_hh
    step.load_state_dict({k: torch.from_numpy(v) for k, v in weights.items()})
    h = c = torch.zeros(x.shape[0], D, dtype=torch.float64)
    if c0 is not None:
        c = torch.from_numpy(c0)
    states, cells, loss = [], [], 0.0
    for t in range(x.shape[1]):
        keep = torch.from_numpy(mask[:, t : t + 1])
        x_t = torch.from_numpy(x[:, t])
        if cell == "lstm":
            h_new, c_new = step(x_t, (h, c))
            c_new.retain_grad()
            cells.append(c_new)
            c = torch.where(keep, c_new, c)
        else:
            h_new = step(x_t, h)
        h = torch.where(keep, h_new, h)
        h.retain_grad()
        states.append(h)
        loss = loss + (torch.from_numpy(R[:, t]) * h * keep).sum()
    loss = loss + (torch.from_numpy(R_last) * h).sum()
    if Rc_last is not None:
        loss = loss + (torch.from_numpy(Rc_last) * c).sum()
    loss.backward()
    out = {"h": np.stack([s.grad.numpy() for s in states], axis=1)}
    if cells:
        out["c"] = np.stack([s.grad.numpy() for s in cells], axis=1)
    return out


# -- the recorded dL/dh_t ----------------------------------------------------------------
@pytest.mark.parametrize("cell", sorted(CELLS))
def test_recorded_state_gradients_match_torch_autograd(torch, cell):
    """Per-step outputs and the final state both feed the loss, in a padded batch."""
    rng = np.random.default_rng(1)
    layer = _layer(cell, return_sequences=True, return_state=True)
    x = rng.normal(size=(B, T, N_IN))
    mask = np.arange(T)[None, :] < LENGTHS[:, None]
    R, R_last = rng.normal(size=(B, T, D)), rng.normal(size=(B, D))
    dy = (R, R_last, None) if cell == "lstm" else (R, R_last)
    ref = _torch_state_grads(torch, cell, layer, x, mask, R, R_last)["h"]
    _, cache = layer.forward(x, mask=mask)
    layer.zero_grad()
    dx_plain = layer.backward(dy, cache).copy()
    grads_plain = {k: g.copy() for k, g in layer.grads.items()}
    cache, recorded = layer.record_state_gradients(cache)
    assert list(recorded) == (["h", "c"] if cell == "lstm" else ["h"])
    layer.zero_grad()
    dx = layer.backward(dy, cache)
    dh = recorded["h"]
    check_against_torch({}, {"dL/dh_t at real steps": (dh[mask], ref[mask])})
    assert not dh[~mask].any(), "a pad has no gradient of its own"
    assert np.array_equal(dx, dx_plain), "recording must not change the backward pass"
    assert all(np.array_equal(layer.grads[k], g) for k, g in grads_plain.items())


def _lstm_backward(layer, x, mask, dy, c0, record: bool):
    """(dx, (dh_0, dc_0), parameter grads, recorded) of one backward from zeros."""
    _, cache = layer.forward(x, mask=mask, initial_state=(np.zeros((B, D)), c0))
    recorded = None
    if record:
        cache, recorded = layer.record_state_gradients(cache)
    layer.zero_grad()
    dx, d_initial = layer.backward(dy, cache)
    grads = {k: g.copy() for k, g in layer.grads.items()}
    return dx.copy(), tuple(a.copy() for a in d_initial), grads, recorded


@pytest.mark.parametrize("per_step", [True, False], ids=["sequences", "last"])
def test_lstm_records_the_total_cell_gradient_as_torch_autograd(torch, per_step):
    """dL/dc_t: what reaches c_t through h_t and back from c_{t+1}, padded batch, float64;
    the final cell state feeds the loss too, and the initial one is not zero."""
    rng = np.random.default_rng(11)
    layer = _layer("lstm", return_sequences=per_step, return_state=True)
    x = rng.normal(size=(B, T, N_IN))
    mask = np.arange(T)[None, :] < LENGTHS[:, None]
    R = rng.normal(size=(B, T, D)) if per_step else np.zeros((B, T, D))
    R_last, Rc_last, c0 = rng.normal(size=(3, B, D))
    dy = (R if per_step else np.zeros((B, D)), R_last, Rc_last)
    ref = _torch_state_grads(torch, "lstm", layer, x, mask, R, R_last, Rc_last, c0)
    plain = _lstm_backward(layer, x, mask, dy, c0, record=False)
    dx, d_initial, grads, recorded = _lstm_backward(layer, x, mask, dy, c0, record=True)
    dc, dh = recorded["c"], recorded["h"]
    check_against_torch({}, {"dL/dc_t at real steps": (dc[mask], ref["c"][mask]),
                             "dL/dh_t at real steps": (dh[mask], ref["h"][mask])})  # fmt: skip
    np.testing.assert_array_equal(dc[~mask], 0.0)  # a pad carries c: nothing of its own
    assert np.abs(dc[mask]).min() > 0  # every real step gets some gradient
    assert np.array_equal(dx, plain[0]), "recording must not change dx"
    assert all(np.array_equal(a, b) for a, b in zip(d_initial, plain[1], strict=True))
    assert all(np.array_equal(grads[k], g) for k, g in plain[2].items())


def test_recorded_state_gradients_match_finite_differences():
    """dL/dh_t as the derivative of the loss with respect to a shift added to h_t."""
    rng = np.random.default_rng(2)
    layer = _layer("rnn", return_sequences=True)
    x, R = rng.normal(size=(2, T, N_IN)), rng.normal(size=(2, T, D))
    dh = _recorded(layer, x, None, R)
    U, W, b = layer.params.values()
    delta = np.zeros((2, T, D))

    def loss() -> float:
        h, total = np.zeros((2, D)), 0.0
        for t in range(T):
            h = np.tanh(x[:, t] @ U + h @ W + b) + delta[:, t]  # h_t moved by delta_t
            total += float((R[:, t] * h).sum())
        return total

    check_gradients(loss, {"delta": delta}, {"delta": dh})


@pytest.mark.parametrize("per_step", [True, False], ids=["sequences", "last"])
@pytest.mark.parametrize("cell", sorted(CELLS))
def test_padded_batch_records_what_each_sequence_gets_alone(cell, per_step):
    rng = np.random.default_rng(3)
    layer = _layer(cell, return_sequences=per_step)
    x = rng.normal(size=(B, T, N_IN))  # pads hold numbers too: they must not count
    mask = np.arange(T)[None, :] < LENGTHS[:, None]
    dy = rng.normal(size=(B, T, D) if per_step else (B, D))
    together = {k: a.copy() for k, a in _recorded_states(layer, x, mask, dy).items()}
    for i, n in enumerate(LENGTHS):
        dy_i = dy[i : i + 1, :n] if per_step else dy[i : i + 1]
        alone = _recorded_states(layer, x[i : i + 1, :n], None, dy_i)
        for state, grads in together.items():  # dL/dh_t, and an LSTM's dL/dc_t
            np.testing.assert_allclose(grads[i, :n], alone[state][0], rtol=1e-12, atol=1e-15)
            assert not grads[i, n:].any()


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_bidirectional_records_each_copy_in_its_own_reading_order(cell):
    rng = np.random.default_rng(4)
    bi = Bidirectional(CELLS[cell](D, return_sequences=True, dtype="float64"))
    bi.build(Spec("features", N_IN), rng)
    x, R = rng.normal(size=(B, T, N_IN)), rng.normal(size=(B, T, 2 * D))
    mask = np.arange(T)[None, :] < LENGTHS[:, None]
    _, cache = bi.forward(x, mask=mask)
    cache, recorded = bi.record_state_gradients(cache)
    bi.backward(R, cache)
    states = ["h", "c"] if cell == "lstm" else ["h"]
    assert list(recorded) == ["forward", "backward"]
    assert all(list(recorded[side]) == states for side in recorded)
    both = {side: {s: a.copy() for s, a in g.items()} for side, g in recorded.items()}
    fwd = _recorded_states(bi.forward_layer, x, mask, R[..., :D])
    for s in states:
        np.testing.assert_array_equal(both["forward"][s], fwd[s])
    x_rev, R_rev = reverse_padded(x, LENGTHS), reverse_padded(R[..., D:], LENGTHS)
    bwd = _recorded_states(bi.backward_layer, x_rev, mask, R_rev)
    for s in states:
        np.testing.assert_array_equal(both["backward"][s], bwd[s])
        assert both["backward"][s][mask].any() and not both["backward"][s][~mask].any()


# -- what measure_gradients measures ----------------------------------------------------
def _sequences(n: int, lengths, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(int(lengths[i % len(lengths)]), N_IN)) for i in range(n)]


def _network(cell: str, head: list, loss: str, **options) -> Sequential:
    rnn = CELLS[cell](D, **options)
    net = Sequential([rnn, *head], input_dim=N_IN, seed=0, dtype="float64")
    return net.compile("sgd", loss)


def _case(case: str) -> tuple[Sequential, object]:
    """A network trained with one of the losses and reductions, and its 8 targets."""
    if case == "rnn-binary":
        net = _network("rnn", [Dense(1, "sigmoid")], "binary_crossentropy")
        return net, np.arange(8) % 2
    if case == "gru-tags-token-mean":
        head = [Dense(3, "softmax")]
        net = _network("gru", head, "sparse_categorical_crossentropy", return_sequences=True)
        net.reduction = "token_mean"
        return net, [np.arange(n) % 3 for n in [6, 2, 5, 1] * 2]
    net = _network("lstm", [MeanPooling(), Dense(2)], "mse", return_sequences=True)
    return net, np.random.default_rng(0).normal(size=(8, 2))


@pytest.mark.parametrize("case", ["rnn-binary", "gru-tags-token-mean", "lstm-pooled-mse"])
def test_parameter_norms_are_those_of_train_batch(case):
    net, targets = _case(case)
    data = SequenceDataset(_sequences(8, LENGTHS), targets, per_step=net.output_spec.time)
    batches = [data.batch(np.arange(0, 4)), data.batch(np.arange(4, 8))]
    total, losses = None, []
    for batch in batches:
        net.zero_grad()
        losses.append(net.train_batch(batch).loss_sum)
        grads = {k: g.copy() for k, _, g, _ in net.param_slots()}
        total = grads if total is None else {k: total[k] + g for k, g in grads.items()}
    diag = measure_gradients(net, batches)
    mean = {k: g / 2 for k, g in total.items()}
    assert list(diag.param_norms) == list(mean)
    want = [np.linalg.norm(g) for g in mean.values()]
    np.testing.assert_allclose(list(diag.param_norms.values()), want, rtol=1e-10)
    assert diag.global_norm == pytest.approx(global_norm(list(mean.values())), rel=1e-10)
    assert diag.loss == pytest.approx(sum(losses) / 8, rel=1e-10)
    assert all(not g.any() for _, _, g, _ in net.param_slots()), "gradients zeroed after"


def test_measured_norms_average_each_sequence_measured_alone():
    net = _network("lstm", [Dense(1, "sigmoid")], "binary_crossentropy")
    data = SequenceDataset(_sequences(4, LENGTHS), np.array([0, 1, 1, 0]))
    together = measure_gradients(net, [data.batch(np.arange(4))])
    alone = [measure_gradients(net, [data.batch(np.array([i]))]) for i in range(4)]
    assert list(together.state_norms) == ["layer 1 (lstm)", "layer 1 (lstm) c"]
    counts = sum(np.pad(a.counts, (0, T - len(a.counts))) for a in alone)
    np.testing.assert_array_equal(together.counts, counts)
    for name in together.state_norms:  # dL/dh_t, then dL/dc_t
        sums = sum(np.pad(a.state_norms[name], (0, T - len(a.counts))) for a in alone)
        np.testing.assert_allclose(together.state_norms[name] * counts, sums, rtol=1e-12)


def test_lstm_cell_entry_is_the_norm_of_the_recorded_dc_by_distance():
    """ "layer 1 (lstm) c" holds the mean ||dL/dc_t|| (of the B-sequence loss) at each
    distance from the last real step; "layer 1 (lstm)" that of dL/dh_t."""
    net = _network("lstm", [Dense(1, "sigmoid")], "binary_crossentropy")
    batch = SequenceDataset(_sequences(4, LENGTHS), np.array([0, 1, 1, 0])).batch(np.arange(4))
    diag = measure_gradients(net, [batch])
    logits, caches = net.forward(batch.x, batch.mask, training=False, logits=True)
    caches[0], recorded = net.layers[0].record_state_gradients(caches[0])
    _, dz = sigmoid_binary_cross_entropy(logits[..., 0], batch.y, None, "sequence_mean")
    net.backward(dz[..., None], caches)
    net.zero_grad()
    for name, state in (("layer 1 (lstm)", "h"), ("layer 1 (lstm) c", "c")):
        norms = np.linalg.norm(recorded[state] * B, axis=-1)  # (B, T)
        want = [np.mean([norms[i, n - 1 - k] for i, n in enumerate(LENGTHS) if n > k])
                for k in range(T)]  # fmt: skip
        np.testing.assert_allclose(diag.state_norms[name], want, rtol=1e-12)


def test_encoder_decoder_matches_teacher_forcing():
    net = EncoderDecoder(n_source=7, n_target=6, embed_dim=4, hidden=4, seed=0, dtype="float64")
    rng = np.random.default_rng(5)
    sources = [rng.integers(3, 7, size=n) for n in (4, 2, 5)]
    targets = [rng.integers(3, 6, size=n) for n in (3, 6, 2)]
    batch = PairDataset(sources, targets, sos_id=1).batch(np.arange(3))
    net.zero_grad()
    TeacherForcing(net).train_batch(batch)
    want = {k: np.linalg.norm(g) for k, _, g, _ in net.param_slots()}
    diag = measure_gradients(net, [batch])
    assert diag.param_norms == pytest.approx(want, rel=1e-10)
    names = list(diag.state_norms)
    encoder = "layer 1 (encoder_bidirectional)"
    assert names == [f"{encoder} forward", f"{encoder} backward", "layer 2 (decoder_gru)"]
    assert [len(diag.state_norms[n]) for n in names] == [5, 5, 6]
    assert any(n.startswith("direct:") and "attention" in n for n in diag.notes)


def test_language_model_measures_with_its_training_loss():
    tiny = {"hidden": 4, "embed_dim": 4, "epochs": 1, "verbose": 0, "dtype": "float64"}
    lm = LanguageModel(level="char", bptt=5, batch_size=2, seed=0, **tiny)
    lm.fit("the cat sat.\n" * 3)
    streams = TextStreams(lm.vocab_.encode(list("the cat sat.\n" * 2)), 2, 5, stateful=False)
    batch = streams.batch(streams.batches()[0])
    lm.model_.zero_grad()
    StatefulNetwork(lm.model_).train_batch(batch)
    want = {k: np.linalg.norm(g) for k, _, g, _ in lm.model_.param_slots()}
    lm.model_.reduction = "sequence_mean"  # as a model loaded from its directory has it
    assert measure_gradients(lm, [batch]).param_norms == pytest.approx(want, rel=1e-10)


# -- the verdict ------------------------------------------------------------------------
def _long_batch(T_: int, n: int = 6, seed: int = 6):
    rng = np.random.default_rng(seed)
    data = SequenceDataset(list(rng.normal(size=(n, T_, N_IN))), np.arange(n) % 2)
    return data.batch(np.arange(n))


def test_tanh_rnn_with_small_recurrent_weights_fades():
    net = _network("rnn", [Dense(1, "sigmoid")], "binary_crossentropy")
    net.layers[0].params["W"] *= 0.5  # singular values 0.5: each step back at most halves it
    diag = measure_gradients(net, [_long_batch(30)], label="tanh")
    norms = diag.state_norms["layer 1 (simple_rnn)"]
    assert (norms[1:] <= 0.5 * norms[:-1] * (1 + 1e-12)).all()
    assert not diag.exploding and diag.cell == "rnn"
    assert any(n.startswith("vanishing: layer 1 (simple_rnn)") for n in diag.notes)


def test_linear_rnn_with_large_recurrent_weights_is_flagged_exploding():
    net = _network("rnn", [Dense(1, "sigmoid")], "binary_crossentropy", activation="linear")
    net.layers[0].params["W"] *= 3.0  # orthogonal times 3: every step back multiplies by 3
    diag = measure_gradients(net, [_long_batch(12)])
    norms = diag.state_norms["layer 1 (simple_rnn)"]
    ratio = norms / norms[0]
    np.testing.assert_allclose(ratio, 3.0 ** np.arange(12), rtol=1e-9)
    np.testing.assert_allclose(diag.state_ratios["layer 1 (simple_rnn)"], ratio, rtol=1e-9)
    assert diag.exploding
    assert diag.notes[0] == (
        "exploding: layer 1 (simple_rnn): ||dL/dh|| at distance 3 is 27 times its value at "
        "distance 0 (over 10)"
    )


def test_lstm_cell_entries_are_judged_as_any_entry():
    shut = _network("lstm", [Dense(1, "sigmoid")], "binary_crossentropy")
    shut.layers[0].params["b"][D : 2 * D] = -30.0  # the forget gate shut: c_t drops c_{t-1}
    notes = measure_gradients(shut, [_long_batch(30)]).notes
    assert any(n.startswith("vanishing: layer 1 (lstm) c: by distance ") and "||dL/dc||" in n
               for n in notes), notes  # fmt: skip
    grows = _network("lstm", [Dense(1, "sigmoid")], "binary_crossentropy", activation="linear")
    grows.layers[0].params["W"] *= 5.0
    diag = measure_gradients(grows, [_long_batch(12)], clip_norm=1e9)
    cell = [n for n in diag.notes if n.startswith("exploding: layer 1 (lstm) c: ||dL/dc|| at ")]
    assert diag.exploding and len(cell) == 1, diag.notes


def test_bidirectional_lstm_has_a_cell_entry_per_direction():
    bi = Bidirectional(LSTM(D))
    net = Sequential([bi, Dense(1, "sigmoid")], input_dim=N_IN, seed=0, dtype="float64")
    net = net.compile("sgd", "binary_crossentropy")
    data = SequenceDataset(_sequences(4, LENGTHS), np.array([0, 1, 1, 0]))
    diag = measure_gradients(net, [data.batch(np.arange(4))], label="bi")
    stem = "layer 1 (bidirectional)"
    names = [f"{stem} forward", f"{stem} forward c", f"{stem} backward", f"{stem} backward c"]
    assert list(diag.state_norms) == names and list(diag.state_ratios) == names
    assert all(len(diag.state_norms[n]) == T and diag.state_norms[n][0] > 0 for n in names)
    text = diag.format()
    assert f"  {stem} backward c\n    k " in text and "||dL/dc||" in text
    assert GradientDiagnosis.from_dict(json.loads(json.dumps(diag.to_dict()))).format() == text


def test_global_norm_over_the_clip_and_non_finite_values_are_exploding():
    net = _network("rnn", [Dense(1, "sigmoid")], "binary_crossentropy")
    small = measure_gradients(net, [_long_batch(5)], clip_norm=1e-9)
    assert small.exploding and any("clip norm" in n for n in small.notes)
    net = _network("rnn", [Dense(1, "sigmoid")], "binary_crossentropy", activation="linear")
    net.layers[0].params["W"] *= 1e3
    with np.errstate(all="ignore"):  # 1000 ** 120 overflows on purpose
        broken = measure_gradients(net, [_long_batch(120, n=2)])
    assert broken.exploding and broken.notes[0].startswith("non-finite:")
    text = json.dumps(broken.to_dict(), allow_nan=False)  # strict JSON: NaN became null
    assert GradientDiagnosis.from_dict(json.loads(text)).to_dict() == broken.to_dict()


def test_pooling_is_noted_and_not_judged_as_growth():
    head = [MeanPooling(), Dense(1, "sigmoid")]
    net = _network("rnn", head, "binary_crossentropy", return_sequences=True)
    net.layers[0].params["W"][...] = np.eye(D)  # the flow back neither fades nor grows
    net.layers[0].activation = "linear"
    diag = measure_gradients(net, [_long_batch(20)])
    norms = diag.state_norms["layer 1 (simple_rnn)"]
    assert norms[19] > 10 * norms[0]  # 20 steps' own gradients add up, without exploding
    assert not diag.exploding
    direct = [n for n in diag.notes if n.startswith("direct: every step of layer 1 (simple_rnn)")]
    assert len(direct) == 1 and "(pooling)" in direct[0]


def test_models_without_a_gradient_through_time_are_refused():
    batch = _long_batch(3)
    with pytest.raises(ConfigError, match="has no gradients through time"):
        measure_gradients(object(), [batch])
    bag = Sequential([Embedding(5, 3), MeanPooling(), Dense(1, "sigmoid")], seed=0)
    with pytest.raises(ConfigError, match="no recurrent layer"):
        measure_gradients(bag.compile("sgd", "binary_crossentropy"), [])
    with pytest.raises(ConfigError, match="compile"):
        measure_gradients(Sequential([SimpleRNN(2), Dense(1)], input_dim=N_IN), [batch])
    net = _network("rnn", [Dense(1, "sigmoid")], "binary_crossentropy")
    with pytest.raises(ConfigError, match="no batch"):
        measure_gradients(net, [])
    batch.y = None
    with pytest.raises(DataError, match="no targets"):
        measure_gradients(net, [batch])


# -- the record: JSON, text, plot ---------------------------------------------------------
@pytest.fixture(scope="module")
def three() -> list[GradientDiagnosis]:
    """A tanh RNN, an LSTM and a GRU measured on the same 12-step batch."""
    out = []
    for cell in ("rnn", "lstm", "gru"):
        net = _network(cell, [Dense(1, "sigmoid")], "binary_crossentropy")
        out.append(measure_gradients(net, [_long_batch(12)], label=cell))
    return out


def test_round_trip_and_table(three):
    diag = three[1]
    again = GradientDiagnosis.from_dict(json.loads(json.dumps(diag.to_dict())))
    assert again.to_dict() == diag.to_dict()
    assert list(again.state_norms) == ["layer 1 (lstm)", "layer 1 (lstm) c"]
    assert list(diag.to_dict()["state_ratios"]) == list(again.state_norms)
    lines = diag.format().splitlines()
    assert lines[0].startswith("gradients through time: lstm (lstm), 6 sequences, loss ")
    assert lines[3].startswith('(an LSTM\'s "... c" rows: ||dL/dc_t||, the path of the cell')
    assert lines[4] == "  layer 1 (lstm)"
    assert lines[5].split() == ["k", "0", "1", "2", "5", "10"]
    assert lines[6].split() == ["sequences", "6", "6", "6", "6", "6"]
    assert lines[7].split()[0] == "||dL/dh||" and lines[8].split()[:2] == ["ratio", "1"]
    assert lines[9:14:4] == ["  layer 1 (lstm) c", "parameter gradient norms (mean batch), "
                             f"global {diag.global_norm:.4g}:"]  # fmt: skip
    assert lines[10].split() == ["k", "0", "1", "2", "5", "10"]  # no sequences row again
    assert lines[11].split()[0] == "||dL/dc||" and lines[12].split()[:2] == ["ratio", "1"]
    assert any(line.split()[0] == "lstm.W" for line in lines[14:])
    assert "dL/dc" not in three[0].format() and "dL/dc" not in three[2].format()
    broken = diag.to_dict()
    del broken["state_norms"]
    with pytest.raises(DataError, match="'state_norms'"):
        GradientDiagnosis.from_dict(broken)


def test_plot_compares_models_in_one_png(tmp_path: Path, three):
    out = plot_gradients(three, str(tmp_path / "g.png"))
    assert out == tmp_path / "g.png"
    data = out.read_bytes()
    assert data.startswith(PNG_SIGNATURE) and len(data) > 5000
    assert [p.name for p in tmp_path.iterdir()] == ["g.png"]  # no temporary file left


def test_plot_refusals(tmp_path: Path, three, no_matplotlib):
    with pytest.raises(ConfigError, match="at least one"):
        plot_gradients([], tmp_path / "g.png")
    with pytest.raises(ConfigError, match="matplotlib") as exc:
        plot_gradients(three, tmp_path / "g.png")
    assert isinstance(exc.value.__cause__, ImportError)


def test_ratios_are_each_sequences_own_averaged_geometrically():
    """Sequences of different lengths and scales: the ratio row is the geometric mean
    of each sequence's own ||dL/dh|| at distance k over its ||dL/dh|| at distance 0."""
    net = _network("rnn", [Dense(1, "sigmoid")], "binary_crossentropy")
    rng = np.random.default_rng(9)
    lengths = [9, 4, 7]
    scales = (1.0, 3.0, 0.2)
    inputs = [rng.normal(size=(n, N_IN)) * s for n, s in zip(lengths, scales, strict=True)]
    data = SequenceDataset(inputs, np.array([0, 1, 1]))
    together = measure_gradients(net, [data.batch(np.arange(3))])
    name = "layer 1 (simple_rnn)"
    own = [measure_gradients(net, [data.batch(np.array([i]))]).state_norms[name] for i in range(3)]
    for k in range(9):
        reached = [n / n[0] for n in own if len(n) > k]
        want = np.exp(np.mean([np.log(r[k]) for r in reached]))
        assert together.state_ratios[name][k] == pytest.approx(want, rel=1e-9)
        assert together.counts[k] == len(reached)
