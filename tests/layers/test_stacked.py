"""Stacked RNNs for many-to-many tagging: a list of layers in a Sequential, no new class.

``Sequential([Embedding, SimpleRNN(d, return_sequences=True), Dropout,
SimpleRNN(d, return_sequences=True), ..., Dense(k, "softmax")])`` trained with the
masked per-step loss through ``train_batch``: Keras's parameter counts, float64
gradient checks of every weight with dropout active, PyTorch's ``nn.RNN(num_layers=2)``
on a packed batch; then the per-step output layer ``TimeDistributed``.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from reference import assert_close, check_against_torch, check_gradients
from rnnkit.errors import ShapeError
from rnnkit.layers import Dense, Dropout, Embedding, Layer, SimpleRNN, Spec
from rnnkit.layers.time_distributed import TimeDistributed
from rnnkit.models import Sequential
from rnnkit.training import SequenceDataset

VOCAB, EMBED, UNITS, CLASSES = 7, 4, 3, 4
# ids 1..6 at real steps; SequenceDataset pads with id 0
SEQS = [np.array([1, 2, 3, 2, 5]), np.array([4, 1]), np.array([3, 3, 6, 1]), np.array([2])]
KERAS_WARNING = pytest.mark.filterwarnings(
    # Keras 3's PyTorch-backend Variable.__array__ takes no `copy` argument, which
    # NumPy 2 reports as a DeprecationWarning whenever get_weights() converts one
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning"
)


def _tags(seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.integers(0, CLASSES, size=len(s)) for s in SEQS]


def _per_step_targets(tags: list[np.ndarray]) -> np.ndarray:
    """The ragged targets as a 1-D object array, the form SequenceDataset accepts today
    (see test_per_step_targets_as_a_plain_list_of_arrays)."""
    y = np.empty(len(tags), dtype=object)
    y[:] = tags
    return y


def _batch(seed: int = 0):
    return SequenceDataset(SEQS, _per_step_targets(_tags(seed))).batch(np.arange(len(SEQS)))


def _stack(n_layers: int, dropout: float | None = 0.3, seed: int = 0) -> Sequential:
    """Embedding, n SimpleRNN(return_sequences=True) with Dropout between, Dense softmax,
    in float64 with nonzero biases, compiled with the masked per-step loss."""
    layers: list[Layer] = [Embedding(VOCAB, EMBED, scale=0.5)]
    for i in range(n_layers):
        if i and dropout is not None:
            layers.append(Dropout(dropout))
        layers.append(SimpleRNN(UNITS, return_sequences=True))
    layers.append(Dense(CLASSES, "softmax"))
    model = Sequential(layers, dtype="float64", seed=seed)
    model.compile("sgd", "sparse_categorical_crossentropy")
    rng = np.random.default_rng(seed + 100)
    for layer in model.layers:
        for k in ("b", "c"):
            if k in layer.params:
                layer.params[k][...] = rng.normal(scale=0.5, size=layer.params[k].shape)
    return model


# -- building and counting --------------------------------------------------------------


@KERAS_WARNING
@pytest.mark.parametrize("n_layers", range(1, 7))
def test_stacks_count_parameters_like_keras(keras, n_layers):
    ours = _stack(n_layers)
    kl = keras.layers
    theirs_layers = [kl.Embedding(VOCAB, EMBED)]
    for i in range(n_layers):
        if i:
            theirs_layers.append(kl.Dropout(0.3))
        theirs_layers.append(kl.SimpleRNN(UNITS, return_sequences=True))
    theirs = keras.Sequential(
        [keras.Input((None,), dtype="int32"), *theirs_layers, kl.Dense(CLASSES, "softmax")]
    )
    # E, then U W b of the first RNN on the embedding, 2 d^2 + d for each further one
    want = VOCAB * EMBED + (EMBED + UNITS + 1) * UNITS
    want += (n_layers - 1) * (2 * UNITS + 1) * UNITS + (UNITS + 1) * CLASSES
    assert ours.count_params() == theirs.count_params() == want
    assert [l.count_params() for l in ours.layers] == [l.count_params() for l in theirs.layers]
    assert [w.shape for w in ours.get_weights()] == [w.shape for w in theirs.get_weights()]
    assert [l.output_spec.shape() for l in ours.layers[1:]] == [
        tuple(l.output.shape) for l in theirs.layers[1:]
    ]


# -- gradients through Sequential.train_batch ------------------------------------------


@pytest.mark.parametrize("n_layers", range(1, 7))
def test_stacked_gradients_through_train_batch(n_layers):
    """Every weight of the stack, with dropout active (the same masks at every call)."""
    model = _stack(n_layers)
    batch = _batch()
    drops = [l for l in model.layers if isinstance(l, Dropout)]
    assert len(drops) == n_layers - 1

    def step() -> float:
        for j, drop in enumerate(drops):
            drop.rng = np.random.default_rng(100 + j)
        model.zero_grad()
        r = model.train_batch(batch)
        return r.loss_sum / r.n_sequences

    loss = step()
    analytic = {k: g.copy() for k, _, g, _ in model.param_slots()}
    rows = {k: r for k, _, _, r in model.param_slots()}
    check_gradients(step, model.named_weights(), analytic)
    np.testing.assert_array_equal(rows["embedding.E"], np.unique(np.concatenate(SEQS)))
    assert (analytic["embedding.E"][0] == 0).all(), "the pad id got gradient"
    if drops:  # the check saw dropout at work
        eval_loss = model.eval_batch(batch).loss_sum / len(SEQS)
        assert abs(eval_loss - loss) > 1e-3


def test_two_stacked_layers_match_torch(torch):
    """nn.RNN(num_layers=2): layer 1 reads layer 0's states; the per-step loss is
    cross-entropy summed over the real steps, divided by the number of sequences."""
    model = _stack(2, dropout=None)
    batch = _batch()
    model.zero_grad()
    r = model.train_batch(batch)
    grads = {k: g.copy() for k, _, g, _ in model.param_slots()}
    logits = model.forward(batch.x, batch.mask, logits=True)[0]

    emb, rnn0, rnn1, out = model.layers
    nn, utils = torch.nn, torch.nn.utils.rnn
    t_emb = nn.Embedding(VOCAB, EMBED).double()
    t_rnn = nn.RNN(EMBED, UNITS, num_layers=2, batch_first=True).double()
    t_out = nn.Linear(UNITS, CLASSES).double()
    pairs = [(t_emb.weight, emb.params["E"]), (t_out.weight, out.params["V"].T)]
    pairs.append((t_out.bias, out.params["c"]))
    for i, layer in enumerate((rnn0, rnn1)):
        pairs += [
            (getattr(t_rnn, f"weight_ih_l{i}"), layer.params["U"].T),
            (getattr(t_rnn, f"weight_hh_l{i}"), layer.params["W"].T),
            (getattr(t_rnn, f"bias_ih_l{i}"), layer.params["b"]),
            (getattr(t_rnn, f"bias_hh_l{i}"), np.zeros(UNITS)),
        ]
    with torch.no_grad():
        for param, value in pairs:
            param.copy_(torch.from_numpy(np.ascontiguousarray(value)))
    packed = utils.pack_padded_sequence(
        t_emb(torch.from_numpy(batch.x)),
        torch.from_numpy(batch.lengths),
        batch_first=True,
        enforce_sorted=False,
    )
    seq, _ = utils.pad_packed_sequence(t_rnn(packed)[0], batch_first=True)
    t_logits = t_out(seq)
    m = torch.from_numpy(batch.mask)
    t_loss = nn.functional.cross_entropy(
        t_logits[m], torch.from_numpy(batch.y.astype(np.int64))[m], reduction="sum"
    ) / len(SEQS)
    t_loss.backward()
    t_grads = {"embedding.E": t_emb.weight.grad, "dense.V": t_out.weight.grad.T}
    t_grads["dense.c"] = t_out.bias.grad
    for i, name in enumerate(("simple_rnn", "simple_rnn_1")):
        t_grads[f"{name}.U"] = getattr(t_rnn, f"weight_ih_l{i}").grad.T
        t_grads[f"{name}.W"] = getattr(t_rnn, f"weight_hh_l{i}").grad.T
        t_grads[f"{name}.b"] = getattr(t_rnn, f"bias_ih_l{i}").grad
    assert set(t_grads) == set(grads)
    check_against_torch(
        {"logits": (logits, t_logits), "loss": (np.float64(r.loss_sum / len(SEQS)), t_loss)},
        {k: (grads[k], t_grads[k]) for k in grads},
    )


def test_a_stack_with_dropout_learns_a_tag_that_needs_memory():
    """Tag each token with the parity of the token before it (2 at the first token):
    end to end through fit, batches of per-step targets, dropout between the layers."""
    rng = np.random.default_rng(0)
    seqs = [rng.integers(1, 5, size=rng.integers(3, 9)) for _ in range(256)]
    tags = _per_step_targets([np.append(2, s[:-1] % 2) for s in seqs])
    model = Sequential(
        [
            Embedding(5, 8),
            SimpleRNN(8, return_sequences=True),
            Dropout(0.1),
            SimpleRNN(8, return_sequences=True),
            Dense(3, "softmax"),
        ],
        seed=0,
    ).compile("adam", "sparse_categorical_crossentropy", lr=0.03)
    history = model.fit(seqs, tags, epochs=15, batch_size=32, verbose=0)
    assert history.epochs[-1]["loss"] < history.epochs[0]["loss"]
    assert model.evaluate(seqs, tags)["accuracy"] > 0.97
    # without recurrence the task is out of reach: the tag is not in the token itself
    flat = Sequential([Embedding(5, 8), Dense(3, "softmax")], seed=0)
    flat.compile("adam", "sparse_categorical_crossentropy", lr=0.03)
    flat.fit(seqs, tags, epochs=15, batch_size=32, verbose=0)
    assert flat.evaluate(seqs, tags)["accuracy"] < 0.6


# -- the per-step targets SequenceDataset should accept ---------------------------------


def test_per_step_targets_as_a_plain_list_of_arrays():
    tags = _tags()
    b = SequenceDataset(SEQS, tags).batch(np.arange(len(SEQS)))
    np.testing.assert_array_equal(b.y[b.mask], np.concatenate(tags))


def test_padded_per_step_targets_are_cut_to_the_batch():
    x = np.zeros((len(SEQS), 5), dtype=np.int64)
    y = np.zeros((len(SEQS), 5), dtype=np.int64)
    for i, (s, t) in enumerate(zip(SEQS, _tags(), strict=True)):
        x[i, : len(s)], y[i, : len(t)] = s, t
    lengths = np.array([len(s) for s in SEQS])
    b = SequenceDataset(x, y, lengths).batch(np.array([1, 3]))  # the short sequences
    assert b.y.shape == b.mask.shape == (2, 2)


# -- TimeDistributed --------------------------------------------------------------------

B, T = 4, 5
LENGTHS = np.array([5, 2, 4, 1])
MASK = np.arange(T)[None, :] < LENGTHS[:, None]


def _td_case(inputs: str, seed: int = 0):
    rng = np.random.default_rng(seed)
    td = TimeDistributed(Dense(3, "tanh"), dtype="float64")
    td.build(Spec("ids" if inputs == "ids" else "features", 4), rng)
    td.params["c"][...] = rng.normal(scale=0.5, size=3)
    ids = rng.integers(0, 3, size=(B, T))
    ids[~MASK] = 3  # id 3 at pads only
    return td, (ids if inputs == "ids" else rng.normal(size=(B, T, 4))), rng


@pytest.mark.parametrize("masked", [False, True], ids=["full", "padded"])
@pytest.mark.parametrize("inputs", ["ids", "features"])
def test_time_distributed_gradients_and_pads(inputs, masked):
    td, x, rng = _td_case(inputs)
    mask = MASK if masked else None
    y, cache = td.forward(x, mask=mask)
    R = rng.normal(size=y.shape)  # nonzero at pads: they must be ignored
    dx = td.backward(R, cache)
    params, analytic = dict(td.params), {k: g.copy() for k, g in td.grads.items()}
    if inputs == "features":
        params["x"], analytic["x"] = x, dx
    else:
        assert dx is None
    check_gradients(lambda: float((R * td.forward(x, mask=mask)[0]).sum()), params, analytic)
    # the same as the Dense on each real step; zeros at pads
    keep = np.ones((B, T), bool) if mask is None else mask
    np.testing.assert_allclose(y[keep], td.layer(x[keep]), rtol=1e-14, atol=1e-15)
    assert (y[~keep] == 0).all()
    if masked and inputs == "ids":
        np.testing.assert_array_equal(td.sparse_rows["V"], np.unique(x[MASK]))
        assert td.sparse_rows is td.layer.sparse_rows
    if masked and inputs == "features":
        assert (dx[~MASK] == 0).all()


def test_time_distributed_shares_the_wrapped_layer_and_round_trips_its_config():
    dense = Dense(2, "softmax")
    td = TimeDistributed(dense)
    assert td.layer is dense and dense.name == "dense"
    model = Sequential([Embedding(5, 3), td], seed=0, dtype="float64")
    assert td.name == "time_distributed" and list(td.params) == ["V", "c"]
    assert td.params["V"] is dense.params["V"] and td.grads["c"] is dense.grads["c"]
    assert dense.dtype == np.float64 and list(model.named_weights())[1] == "time_distributed.V"
    config = td.get_config()
    assert json.loads(json.dumps(config)) == config
    assert config["layer"] == {"class": "Dense", "config": dense.get_config()}
    twin = TimeDistributed(**config)
    assert twin.get_config() == config
    assert twin.build(Spec("features", 3), np.random.default_rng(1)) == Spec("features", 2)
    with pytest.raises(ShapeError, match="TimeDistributed needs a time axis"):
        TimeDistributed(Dense(2)).build(Spec("features", 3, time=False), np.random.default_rng(0))


@KERAS_WARNING
def test_time_distributed_dense_matches_keras(keras):
    td = TimeDistributed(Dense(3, "softmax"))
    td.build(Spec("features", 4), np.random.default_rng(2))
    td.params["c"][...] = [0.5, -0.2, 0.1]
    theirs = keras.layers.TimeDistributed(keras.layers.Dense(3, activation="softmax"))
    theirs.build((None, None, 4))
    assert td.count_params() == theirs.count_params() == 15
    theirs.set_weights(td.get_weights())
    x = np.random.default_rng(3).normal(size=(B, T, 4)).astype(np.float32)
    want = keras.ops.convert_to_numpy(theirs(x))
    # NOTE: float32 on both sides, summed in different orders: a few ulps (see ATOL of
    # test_keras_parity.py)
    assert_close("outputs", td(x), want, rtol=0.0, atol=1e-6)
