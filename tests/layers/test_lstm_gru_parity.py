"""LSTM and GRU against PyTorch (values and gradients) and Keras (values, counts, shapes).

Weights cross to PyTorch through :mod:`rnnkit.io.interop` (DESIGN §4), so these tests
check the name and gate-order mapping as much as the cells. PyTorch runs the padded
batch packed (``pack_padded_sequence``), so it never sees a pad: rnnkit's masks must
give the same. Both sides compute in float64 and differ only in the order of their
sums: values agree to 1e-12 and gradients to 1e-10, relative (the defaults of
:func:`reference.check_against_torch`).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from reference import assert_close, check_against_torch
from rnnkit.errors import ConfigError, ShapeError
from rnnkit.io.interop import from_torch, to_torch
from rnnkit.layers import Dense, Embedding, SimpleRNN, Spec
from rnnkit.layers.gru import GRU
from rnnkit.layers.lstm import LSTM
from rnnkit.models import Sequential
from rnnkit.training import SequenceDataset

KERAS_WARNING = pytest.mark.filterwarnings(
    # Keras 3's PyTorch-backend Variable.__array__ takes no `copy` argument, which
    # NumPy 2 reports as a DeprecationWarning whenever get_weights() converts one
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning"
)
B, T, N_IN, UNITS = 4, 6, 3, 5
LENGTHS = np.array([6, 2, 5, 1])
VOCAB, EMBED = 8, 4
# ids 1..7 at real steps; SequenceDataset pads with id 0
SEQS = [np.array([1, 2, 3, 2, 5]), np.array([4, 1]), np.array([3, 3, 6, 7, 1, 2]), np.array([2])]
LAYER_CLASSES = {"lstm": LSTM, "gru": GRU, "rnn": SimpleRNN}


def _tensor(torch, a: np.ndarray):
    return torch.from_numpy(np.ascontiguousarray(a))


def _torch_cell(torch, cell: str, n_in: int, **kw):
    """nn.LSTM / nn.GRU / nn.RNN, batch-first, in float64."""
    module = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}[cell]
    return module(n_in, UNITS, batch_first=True, **kw).double()


def _load(torch, module, state_dict: dict[str, np.ndarray]) -> None:
    """load_state_dict with strict=True: every name and shape must match torch's."""
    module.load_state_dict({k: _tensor(torch, v) for k, v in state_dict.items()})


def _grads_from_torch(cell: str, module, suffix: str = "_l0") -> dict[str, np.ndarray]:
    """Torch's parameter gradients under rnnkit's names and layouts.

    The maps are linear, so from_torch carries gradients too, except that import sums
    the two biases of rnn and lstm, whose gradients are each db: bias_hh's is left out.
    """
    grads = {k: p.grad.numpy() for k, p in module.named_parameters()}
    if cell != "gru":
        grads["bias_hh" + suffix] = np.zeros_like(grads["bias_hh" + suffix])
    return from_torch(cell, grads, suffix)


# -- the layers against nn.LSTM and nn.GRU --------------------------------------------


@pytest.mark.parametrize("masked", [False, True], ids=["full", "padded"])
@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_layer_matches_torch(torch, cell, masked, kernels):
    """Real vectors from given initial states, every output and every gradient.

    Torch's weights (with nonzero bias_hh) are imported; h_n and c_n must be each
    sequence's last real state.
    """
    rng = np.random.default_rng(7)
    lengths = LENGTHS if masked else np.full(B, T)
    mask = np.arange(T)[None, :] < lengths[:, None]
    module = _torch_cell(torch, cell, N_IN)
    with torch.no_grad():
        for p in module.parameters():  # larger than torch's init: gates away from 0.5
            p.copy_(_tensor(torch, rng.normal(scale=0.6, size=tuple(p.shape))))
    layer = LAYER_CLASSES[cell](UNITS, return_sequences=True, return_state=True, dtype="float64")
    layer.build(Spec("features", N_IN), rng)
    layer.set_weights(list(from_torch(cell, module.state_dict()).values()))
    x = rng.normal(size=(B, T, N_IN))
    h0, c0 = rng.normal(size=(B, UNITS)), rng.normal(size=(B, UNITS))
    state = (h0, c0) if cell == "lstm" else h0
    outputs, cache = layer.forward(x, mask=mask if masked else None, initial_state=state)
    R = [rng.normal(size=y.shape) for y in outputs]  # the loss is sum(R * outputs)
    dx, dstate = layer.backward(tuple(R), cache)

    utils = torch.nn.utils.rnn
    tx, th0, tc0 = (_tensor(torch, a).requires_grad_() for a in (x, h0, c0))
    packed = utils.pack_padded_sequence(
        tx, torch.from_numpy(lengths), batch_first=True, enforce_sorted=False
    )
    out, t_state = module(packed, (th0[None], tc0[None]) if cell == "lstm" else th0[None])
    t_seq, _ = utils.pad_packed_sequence(out, batch_first=True, total_length=T)
    t_outputs = [t_seq, *(s[0] for s in (t_state if cell == "lstm" else (t_state,)))]
    t_loss = sum((y * _tensor(torch, r)).sum() for y, r in zip(t_outputs, R, strict=True))
    t_loss.backward()

    names = ["sequence", "h_n", "c_n"]
    values = dict(zip(names, zip(outputs, t_outputs, strict=True), strict=False))
    t_grads = _grads_from_torch(cell, module)
    grads = {k: (layer.grads[k], t_grads[k]) for k in layer.grads}
    grads["x"] = (dx, tx.grad)
    if cell == "lstm":
        grads["h0"], grads["c0"] = (dstate[0], th0.grad), (dstate[1], tc0.grad)
        grads["b vs bias_hh"] = (layer.grads["b"], module.bias_hh_l0.grad)
    else:
        grads["h0"] = (dstate, th0.grad)
    check_against_torch(values, grads)


class TorchTwin:
    """nn.Embedding + nn.LSTM or nn.GRU (batch_first) + nn.Linear, holding a model's
    weights exported by :func:`rnnkit.io.interop.to_torch`."""

    def __init__(self, torch, model: Sequential, cell: str) -> None:
        emb, rnn, out = model.layers
        nn = torch.nn
        self.torch, self.cell = torch, cell
        self.embedding = nn.Embedding(VOCAB, EMBED).double()
        self.rnn = _torch_cell(torch, cell, EMBED)
        self.linear = nn.Linear(UNITS, 1).double()
        _load(torch, self.rnn, to_torch(cell, rnn.params))
        _load(torch, self.embedding, {"weight": emb.params["E"]})
        _load(torch, self.linear, {"weight": out.params["V"].T, "bias": out.params["c"]})

    def logits(self, x: np.ndarray, lengths: np.ndarray):
        """(B, 1) logits from each sequence's last real state."""
        torch = self.torch
        e = self.embedding(torch.from_numpy(x))  # (B, T, e)
        packed = torch.nn.utils.rnn.pack_padded_sequence(
            e, torch.from_numpy(lengths), batch_first=True, enforce_sorted=False
        )
        _, state = self.rnn(packed)
        h_n = state[0] if self.cell == "lstm" else state
        return self.linear(h_n[0])

    def grads(self, layer: str) -> dict[str, object]:
        """Torch's gradients under the model's names and layouts."""
        rnn = {f"{layer}.{k}": v for k, v in _grads_from_torch(self.cell, self.rnn).items()}
        return {
            "embedding.E": self.embedding.weight.grad,
            **rnn,
            "dense.V": self.linear.weight.grad.T,
            "dense.c": self.linear.bias.grad,
        }


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_embedding_model_matches_torch(torch, cell):
    """Many-to-one on a padded batch of ids: loss, logits and every parameter's
    gradient, the embedding's sparse rows included."""
    model = Sequential(
        [Embedding(VOCAB, EMBED, scale=0.5), LAYER_CLASSES[cell](UNITS), Dense(1, "sigmoid")],
        dtype="float64",
        seed=3,
    ).compile("sgd", "binary_crossentropy")
    rng = np.random.default_rng(3)
    b = model.layers[1].params["b"]
    b[...] = rng.normal(scale=0.5, size=b.shape)
    model.layers[2].params["c"][...] = 0.3
    batch = SequenceDataset(SEQS, np.array([1, 0, 1, 0])).batch(np.arange(len(SEQS)))
    assert not batch.mask.all()
    model.zero_grad()
    result = model.train_batch(batch)
    slots = model.param_slots()
    grads = {k: g.copy() for k, _, g, _ in slots}
    logits = model.forward(batch.x, batch.mask, logits=True)[0]

    twin = TorchTwin(torch, model, cell)
    t_logits = twin.logits(batch.x, batch.lengths)
    t_loss = torch.nn.functional.binary_cross_entropy_with_logits(
        t_logits[:, 0], torch.from_numpy(batch.y.astype(np.float64))
    )
    t_loss.backward()
    t_grads = twin.grads(model.layers[1].name)
    check_against_torch(
        {
            "logits": (logits, t_logits),
            "loss": (np.float64(result.loss_sum / result.n_sequences), t_loss),
        },
        {k: (grads[k], t_grads[k]) for k in grads},
    )
    rows = {k: r for k, _, _, r in slots}["embedding.E"]
    np.testing.assert_array_equal(rows, np.unique(np.concatenate(SEQS)))  # 0 is a pad only
    assert (grads["embedding.E"][0] == 0).all(), "the pad id got gradient"


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_reverse_direction_of_a_bidirectional_torch_layer(torch, cell):
    """The ``_l0_reverse`` weights run on the time-reversed sequence give torch's
    backward half of a bidirectional layer."""
    rng = np.random.default_rng(11)
    module = _torch_cell(torch, cell, N_IN, bidirectional=True)
    layer = LAYER_CLASSES[cell](UNITS, return_sequences=True, dtype="float64")
    layer.build(Spec("features", N_IN), rng)
    layer.set_weights(list(from_torch(cell, module.state_dict(), "_l0_reverse").values()))
    x = rng.normal(size=(B, T, N_IN))
    backward_half = module(_tensor(torch, x))[0][:, :, UNITS:]  # (B, T, d)
    check_against_torch({"reverse": (layer(x[:, ::-1])[:, ::-1], backward_half)})


# -- io.interop -----------------------------------------------------------------------


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_interop_round_trip_and_torch_names(torch, cell):
    """to_torch gives names and shapes torch loads (strict) and the same outputs;
    from_torch gives the parameters back."""
    rng = np.random.default_rng(5)
    layer = LAYER_CLASSES[cell](UNITS, return_sequences=True, dtype="float64")
    layer.build(Spec("features", N_IN), rng)
    b = layer.params["b"]
    b[...] = rng.normal(size=b.shape)
    state_dict = to_torch(cell, layer.params)
    module = _torch_cell(torch, cell, N_IN)
    _load(torch, module, state_dict)
    x = rng.normal(size=(B, T, N_IN))
    check_against_torch({"outputs": (layer(x), module(_tensor(torch, x))[0])})
    back = from_torch(cell, state_dict)
    assert list(back) == ["U", "W", "b"]
    for k, v in layer.params.items():
        np.testing.assert_array_equal(back[k], v, err_msg=k)
        assert not np.shares_memory(back[k], v)
    if cell != "gru":  # export puts b in bias_ih and zeros in bias_hh
        np.testing.assert_array_equal(state_dict["bias_ih_l0"], b)
        assert (state_dict["bias_hh_l0"] == 0).all()


def test_interop_gate_orders():
    """LSTM: i, f, c, o in both; GRU: Keras z, r, h becomes torch r, z, n."""
    d = 2
    blocks = np.repeat(np.arange(4.0), d)  # block k holds the number k
    lstm = to_torch("lstm", {"U": blocks[None], "W": np.tile(blocks, (d, 1)), "b": blocks})
    np.testing.assert_array_equal(lstm["weight_ih_l0"][:, 0], blocks)
    gru = to_torch("gru", {"U": blocks[None, :6], "W": np.zeros((d, 6)), "b": np.zeros((2, 6))})
    np.testing.assert_array_equal(gru["weight_ih_l0"][:, 0], [1, 1, 0, 0, 2, 2])


def test_interop_errors():
    rng = np.random.default_rng(0)
    lstm = {"U": rng.normal(size=(3, 8)), "W": rng.normal(size=(2, 8)), "b": np.zeros(8)}
    with pytest.raises(ConfigError, match="cell='cnn' is not one of gru, lstm, rnn"):
        to_torch("cnn", lstm)
    with pytest.raises(ConfigError, match="cell='cnn'"):
        from_torch("cnn", {})
    with pytest.raises(ShapeError, match=r"W: expected shape \(2, 8\), got \(2, 6\)"):
        to_torch("lstm", {**lstm, "W": np.zeros((2, 6))})
    with pytest.raises(ShapeError, match=r"U: expected shape \(n_in, 3 \* d\)"):
        to_torch("gru", lstm)
    with pytest.raises(ShapeError, match=r"b: expected shape \(8,\)"):
        to_torch("lstm", {**lstm, "b": np.zeros(4)})
    with pytest.raises(ConfigError, match="reset_after=False"):
        to_torch("gru", {"U": np.zeros((3, 6)), "W": np.zeros((2, 6)), "b": np.zeros(6)})
    with pytest.raises(ConfigError, match="no 'b'"):
        to_torch("lstm", {"U": lstm["U"], "W": lstm["W"]})
    state_dict = to_torch("lstm", lstm, suffix="_l0_reverse")
    with pytest.raises(ConfigError, match="no 'weight_ih_l0'"):
        from_torch("lstm", state_dict)
    bad = {**state_dict, "bias_hh_l0_reverse": np.zeros(6)}
    with pytest.raises(ShapeError, match=r"bias_hh_l0_reverse: expected shape \(8,\)"):
        from_torch("lstm", bad, suffix="_l0_reverse")
    bad = {**state_dict, "weight_hh_l0_reverse": np.zeros((8, 3))}
    with pytest.raises(ShapeError, match=r"weight_hh_l0_reverse: expected shape \(8, 2\)"):
        from_torch("lstm", bad, suffix="_l0_reverse")


# -- Keras ----------------------------------------------------------------------------

# NOTE: Keras computes in float32 (its default floatx), and so does rnnkit by default.
# Two float32 implementations that add up in different orders agree to a few units in
# the last place, about 1e-7 on these outputs of order 1 after six steps: hence 1e-6.
KERAS_ATOL = 1e-6
KERAS_CASES = {  # name -> (rnnkit layer, keras layer) for `units`
    "lstm": (lambda d, **kw: LSTM(d, **kw), lambda keras, d, **kw: keras.layers.LSTM(d, **kw)),
    "gru": (lambda d, **kw: GRU(d, **kw), lambda keras, d, **kw: keras.layers.GRU(d, **kw)),
    "gru_reset_before": (
        lambda d, **kw: GRU(d, reset_after=False, **kw),
        lambda keras, d, **kw: keras.layers.GRU(d, reset_after=False, **kw),
    ),
}


def _keras_model(keras, case: str, n_in: int, units: int, **kw):
    return keras.Sequential([keras.Input((None, n_in)), KERAS_CASES[case][1](keras, units, **kw)])


@KERAS_WARNING
@pytest.mark.parametrize(("n_in", "units"), [(5, 3), (100, 128)])
@pytest.mark.parametrize("case", sorted(KERAS_CASES))
def test_keras_parameter_counts_and_shapes(keras, case, n_in, units):
    ours = KERAS_CASES[case][0](units)
    ours.build(Spec("features", n_in), np.random.default_rng(0))
    theirs = _keras_model(keras, case, n_in, units)
    gates = 4 if case == "lstm" else 3
    biases = 2 if case == "gru" else 1
    assert ours.count_params() == theirs.count_params() == gates * units * (n_in + units + biases)
    assert [w.shape for w in ours.get_weights()] == [w.shape for w in theirs.get_weights()]
    # the same initial bias: zeros, and ones for the LSTM's forget gate (unit_forget_bias)
    np.testing.assert_array_equal(ours.get_weights()[2], theirs.get_weights()[2])


@KERAS_WARNING
@pytest.mark.parametrize("return_sequences", [False, True], ids=["last", "sequences"])
@pytest.mark.parametrize("case", sorted(KERAS_CASES))
def test_keras_weights_give_the_same_outputs(keras, case, return_sequences):
    """Keras's get_weights() into rnnkit's set_weights(): Keras sees each sequence
    alone, rnnkit the padded batch with a mask."""
    rng = np.random.default_rng(1)
    theirs = _keras_model(keras, case, N_IN, UNITS, return_sequences=return_sequences)
    theirs.set_weights(
        [rng.normal(scale=0.6, size=w.shape).astype(np.float32) for w in theirs.get_weights()]
    )
    ours = KERAS_CASES[case][0](UNITS, return_sequences=return_sequences)
    ours.build(Spec("features", N_IN), rng)
    ours.set_weights(theirs.get_weights())
    x = rng.normal(size=(B, T, N_IN)).astype(np.float32)
    mask = np.arange(T)[None, :] < LENGTHS[:, None]
    y = ours(x, mask=mask)
    assert y.dtype == np.float32
    for i, n in enumerate(LENGTHS):
        want = keras.ops.convert_to_numpy(theirs(x[i : i + 1, :n]))[0]
        assert_close(f"sequence {i}", y[i, :n] if return_sequences else y[i], want, 0.0, KERAS_ATOL)


@pytest.mark.parametrize("case", sorted(KERAS_CASES))
def test_config_round_trip(case):
    """get_config is JSON-able and rebuilds the same layer, as a model file needs."""
    layer = KERAS_CASES[case][0](UNITS, return_state=True, name="rec", dtype="float64")
    config = layer.get_config()
    assert json.loads(json.dumps(config)) == config
    twin = type(layer)(**config)
    assert twin.get_config() == config
    for a in (layer, twin):
        a.build(Spec("features", N_IN), np.random.default_rng(2))
    for a, b in zip(layer.get_weights(), twin.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
