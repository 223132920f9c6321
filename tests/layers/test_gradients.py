"""Every hand-written gradient against central differences, in float64.

Each layer's backward pass, each loss and two whole models are checked entry by entry
with :func:`reference.check_gradients`: every parameter and, where it is real-valued,
the input. With a mask, pads must be invisible: zero gradient, and no change to the
outputs or the loss when a pad's input changes. The SimpleRNN's checks with tanh run
on both paths of the recurrence (the ``kernels`` fixture).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from reference import check_gradients
from rnnkit.core.losses import mse, sigmoid_binary_cross_entropy, softmax_cross_entropy
from rnnkit.layers import Dense, Dropout, Embedding, OneHot, SimpleRNN, Spec
from rnnkit.models import Sequential
from rnnkit.training import Batch, SequenceDataset

B, T = 3, 5
LENGTHS = np.array([5, 2, 4])
MASK = np.arange(T)[None, :] < LENGTHS[:, None]  # (B, T), False at pads
EPS = 1e-6  # the central-difference step of check_gradients

ACTIVATIONS = {
    "tanh": np.tanh,
    "relu": lambda a: np.maximum(a, 0.0),
    "sigmoid": lambda a: 1.0 / (1.0 + np.exp(-a)),
    "linear": lambda a: a,
}


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


def _assert_away_from_kink(a: np.ndarray) -> None:
    """relu has no derivative at 0: central differences need every a_t clear of it."""
    closest = np.abs(a).min()
    assert closest > 10 * EPS, f"a pre-activation is {closest:.2g} from relu's kink; change seed"


# -- SimpleRNN ------------------------------------------------------------------------


def _reference_rnn(x, U, W, b, activation, h0=None, mask=None):
    """The lecture's loop, one sequence and one step at a time, on real-valued x.

    Returns the per-step outputs (zero at pads), the pre-activations of the real steps
    (B, T, d) with NaN at pads, and the last real state (B, d).
    """
    f = ACTIVATIONS[activation]
    Bx, Tx = x.shape[:2]
    d = W.shape[0]
    seq = np.zeros((Bx, Tx, d))
    pre = np.full((Bx, Tx, d), np.nan)
    last = np.zeros((Bx, d))
    for i in range(Bx):
        h = np.zeros(d) if h0 is None else h0[i].copy()
        for t in range(Tx):
            if mask is not None and not mask[i, t]:
                continue  # a pad: the state is carried unchanged
            pre[i, t] = x[i, t] @ U + h @ W + b
            h = f(pre[i, t])
            seq[i, t] = h
        last[i] = h
    return seq, pre, last


def _rnn_case(activation: str, inputs: str, masked: bool, seed: int, n_in: int = 4, **kw):
    """A float64 SimpleRNN(3) with a nonzero bias and a batch of inputs.

    inputs: "ids" (B, T) ints, "onehot" the same ids as explicit (B, T, n_in) one-hot
    vectors, "features" real (B, T, n_in) vectors. Id n_in - 1 appears at pads only.
    """
    rng = np.random.default_rng(seed)
    layer = SimpleRNN(3, activation, dtype="float64", **kw)
    layer.build(Spec("ids" if inputs == "ids" else "features", n_in), rng)
    layer.params["b"][...] = rng.normal(scale=0.5, size=3)
    ids = rng.integers(0, n_in - 1, size=(B, T))
    mask = MASK if masked else None
    if masked:
        ids[~MASK] = n_in - 1
    if inputs == "ids":
        x = ids
    elif inputs == "onehot":
        x = np.eye(n_in)[ids]  # (B, T, n_in)
    else:
        x = rng.normal(size=(B, T, n_in))
    return layer, x, ids, mask, rng


def _check_rnn(layer: SimpleRNN, x, mask, rng, h0=None):
    """Gradient check of U, W, b, and of x and h0 where they are real-valued."""
    y, cache = layer.forward(x, mask=mask, initial_state=h0)
    R = _like(y, rng)

    def loss() -> float:
        return _dot(R, layer.forward(x, mask=mask, initial_state=h0)[0])

    layer.zero_grad()
    back = layer.backward(R, cache)
    dx, dh0 = back if h0 is not None else (back, None)
    params = dict(layer.params)
    analytic = {k: g.copy() for k, g in layer.grads.items()}
    if np.issubdtype(np.asarray(x).dtype, np.integer):
        assert dx is None, "ids have no gradient"
    else:
        params["x"], analytic["x"] = x, dx
    if h0 is not None:
        params["h0"], analytic["h0"] = h0, dh0
    check_gradients(loss, params, analytic)
    return y, dx


@pytest.mark.parametrize("masked", [False, True], ids=["full", "padded"])
@pytest.mark.parametrize("inputs", ["ids", "onehot", "features"])
@pytest.mark.parametrize("return_sequences", [False, True], ids=["last", "sequences"])
@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid", "linear"])
def test_simple_rnn_gradients(activation, return_sequences, inputs, masked):
    layer, x, ids, mask, rng = _rnn_case(
        activation, inputs, masked, seed=5, return_sequences=return_sequences
    )
    U, W, b = (layer.params[k] for k in "UWb")
    seq, pre, last = _reference_rnn(
        np.eye(4)[ids] if inputs == "ids" else x, U, W, b, activation, mask=mask
    )
    if activation == "relu":
        _assert_away_from_kink(pre[~np.isnan(pre)])
    y, dx = _check_rnn(layer, x, mask, rng)
    np.testing.assert_allclose(y, seq if return_sequences else last, rtol=1e-12, atol=1e-14)
    if not masked:
        return
    # pads: no gradient, no effect on any output
    if return_sequences:
        assert (y[~MASK] == 0).all(), "a pad step must output zero"
    if inputs == "ids":
        np.testing.assert_array_equal(layer.sparse_rows["U"], np.unique(ids[MASK]))
        assert (layer.grads["U"][3] == 0).all(), "the id seen only at pads got gradient"
        x2 = x.copy()
        x2[~MASK] = 0
    else:
        assert (dx[~MASK] == 0).all(), "a pad step's input got gradient"
        x2 = x.copy()
        x2[~MASK] = rng.normal(size=x2[~MASK].shape)
    np.testing.assert_array_equal(layer(x2, mask=mask), y)


@pytest.mark.parametrize("masked", [False, True], ids=["full", "padded"])
@pytest.mark.parametrize("return_sequences", [False, True], ids=["last", "sequences"])
def test_simple_rnn_return_state_gradients(return_sequences, masked, kernels):
    layer, x, _, mask, rng = _rnn_case(
        "tanh", "features", masked, seed=1, return_sequences=return_sequences, return_state=True
    )
    (y, h_last), _ = _check_rnn(layer, x, mask, rng)
    seq, _, last = _reference_rnn(x, *(layer.params[k] for k in "UWb"), "tanh", mask=mask)
    np.testing.assert_allclose(h_last, last, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(y, seq if return_sequences else last, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("masked", [False, True], ids=["full", "padded"])
@pytest.mark.parametrize("return_state", [False, True], ids=["", "state"])
@pytest.mark.parametrize("return_sequences", [False, True], ids=["last", "sequences"])
@pytest.mark.parametrize("inputs", ["ids", "features"])
def test_simple_rnn_initial_state_gradients(
    inputs, return_sequences, return_state, masked, kernels
):
    layer, x, ids, mask, rng = _rnn_case(
        "tanh",
        inputs,
        masked,
        seed=2,
        return_sequences=return_sequences,
        return_state=return_state,
    )
    h0 = rng.normal(size=(B, 3))
    y, _ = _check_rnn(layer, x, mask, rng, h0=h0)
    xs = np.eye(4)[ids] if inputs == "ids" else x
    seq, _, last = _reference_rnn(xs, *(layer.params[k] for k in "UWb"), "tanh", h0, mask)
    y = y[0] if return_state else y
    np.testing.assert_allclose(y, seq if return_sequences else last, rtol=1e-12, atol=1e-14)


def test_simple_rnn_ids_and_explicit_one_hot_agree():
    layer, ids, _, _, rng = _rnn_case("tanh", "ids", True, seed=3, return_sequences=True)
    R = rng.normal(size=(B, T, 3))
    grads = []
    for x in (ids, np.eye(4)[ids]):
        layer.zero_grad()
        y, cache = layer.forward(x, mask=MASK)
        layer.backward(R, cache)
        grads.append((y, {k: g.copy() for k, g in layer.grads.items()}))
    (y_ids, g_ids), (y_hot, g_hot) = grads
    np.testing.assert_allclose(y_ids, y_hot, rtol=1e-13, atol=1e-15)
    for k in g_ids:
        np.testing.assert_allclose(g_ids[k], g_hot[k], rtol=1e-12, atol=1e-15, err_msg=k)


# -- Dense ----------------------------------------------------------------------------

DENSE_INPUTS = ["batch", "steps", "ids_steps", "ids_batch"]


def _dense_case(activation: str, inputs: str, seed: int = 0):
    """Dense(3) on (B, n) or masked (B, T, n) features, or on (B, T) / (B,) ids."""
    rng = np.random.default_rng(seed)
    n = 4
    time = inputs in ("steps", "ids_steps")
    kind = "ids" if inputs.startswith("ids") else "features"
    layer = Dense(3, activation, dtype="float64")
    layer.build(Spec(kind, n, time=time), rng)
    layer.params["c"][...] = rng.normal(scale=0.5, size=3)
    lead = (B, T) if time else (B,)
    if kind == "ids":
        x = rng.integers(0, n - 1, size=lead)
        if time:
            x[~MASK] = n - 1  # id n - 1 appears at pads only
    else:
        x = rng.normal(size=(*lead, n))
    mask = MASK if time else None
    return layer, x, mask, rng


@pytest.mark.parametrize("logits", [False, True], ids=["", "logits"])
@pytest.mark.parametrize("inputs", DENSE_INPUTS)
@pytest.mark.parametrize("activation", ["linear", "sigmoid", "softmax", "tanh", "relu"])
def test_dense_gradients(activation, inputs, logits):
    layer, x, mask, rng = _dense_case(activation, inputs)
    ids = np.issubdtype(x.dtype, np.integer)
    y, cache = layer.forward(x, mask=mask, logits=logits)
    # NOTE: with a mask the loss ignores pads, as every rnnkit loss does
    keep = np.ones(y.shape[:-1]) if mask is None else mask.astype(float)
    R = rng.normal(size=y.shape) * keep[..., None]
    R_full = rng.normal(size=y.shape)  # what backward is given: pads nonzero too
    R_full[keep.astype(bool)] = R[keep.astype(bool)]

    def loss() -> float:
        return _dot(R, layer.forward(x, mask=mask, logits=logits)[0])

    if activation == "relu" and not logits:
        z = layer.forward(x, mask=mask, logits=True)[0]
        _assert_away_from_kink(z[keep.astype(bool)])
    dx = layer.backward(R_full, cache)
    params = dict(layer.params)
    analytic = {k: g.copy() for k, g in layer.grads.items()}
    if ids:
        assert dx is None, "ids have no gradient"
    else:
        params["x"], analytic["x"] = x, dx
    check_gradients(loss, params, analytic)
    if mask is not None and not ids:
        assert (dx[~MASK] == 0).all(), "a pad step's input got gradient"


@pytest.mark.parametrize("activation", ["sigmoid", "softmax"])
def test_dense_on_ids_lists_only_real_ids_as_touched_rows(activation):
    """A pad id's row must not be marked touched: lazy optimizers would move it."""
    layer, x, mask, rng = _dense_case(activation, "ids_steps")
    y, cache = layer.forward(x, mask=mask)
    layer.backward(rng.normal(size=y.shape), cache)
    assert (layer.grads["V"][3] == 0).all()
    np.testing.assert_array_equal(layer.sparse_rows["V"], np.unique(x[MASK]))


# -- Embedding --------------------------------------------------------------------------


@pytest.mark.parametrize("masked", [False, True], ids=["full", "padded"])
def test_embedding_sparse_gradient(masked):
    rng = np.random.default_rng(4)
    N = 7
    layer = Embedding(N, 3, scale=0.5, dtype="float64")
    layer.build(Spec("ids", N), rng)
    ids = rng.integers(0, 4, size=(B, T))  # few ids, so they repeat
    ids[0, :2] = 5  # id 6 is never used; with a mask, id 4 appears at pads only
    mask = MASK if masked else None
    if masked:
        ids[~MASK] = 4
    keep = np.ones((B, T)) if mask is None else mask.astype(float)
    R = rng.normal(size=(B, T, 3))

    def loss() -> float:
        return _dot(R * keep[..., None], layer.forward(ids, mask=mask)[0])

    _, cache = layer.forward(ids, mask=mask)
    assert layer.backward(R, cache) is None
    check_gradients(loss, dict(layer.params), {"E": layer.grads["E"].copy()})
    real = ids if mask is None else ids[MASK]
    np.testing.assert_array_equal(layer.sparse_rows["E"], np.unique(real))
    assert (layer.grads["E"][6] == 0).all()
    if masked:
        assert (layer.grads["E"][4] == 0).all(), "the id seen only at pads got gradient"
    layer.zero_grad()
    assert (layer.grads["E"] == 0).all(), "zero_grad left a touched row nonzero"


# -- Dropout ----------------------------------------------------------------------------


def _dropout(seed: int = 0) -> tuple[Dropout, np.ndarray]:
    layer = Dropout(0.5, dtype="float64")
    layer.build(Spec("features", 4), np.random.default_rng(seed))
    return layer, np.random.default_rng(seed + 1).normal(size=(B, T, 4))


def test_dropout_backward_uses_the_forward_mask():
    layer, x = _dropout()
    R = np.random.default_rng(9).normal(size=x.shape)

    def forward():
        layer.rng = np.random.default_rng(123)  # the same mask at every call
        return layer.forward(x, training=True)

    def loss() -> float:
        return _dot(R, forward()[0])

    y, cache = forward()
    dropped = y == 0
    assert 0.2 < dropped.mean() < 0.8, "the mask should drop some entries and keep others"
    dx = layer.backward(R, cache)
    check_gradients(loss, {"x": x}, {"x": dx})


def test_dropout_gradient_follows_its_own_cache():
    """Two forward passes, then the first one's backward: its own mask, not the last."""
    layer, x = _dropout(seed=2)
    R = np.random.default_rng(8).normal(size=x.shape)
    y1, cache1 = layer.forward(x, training=True)
    y2, _ = layer.forward(x, training=True)
    assert ((y1 == 0) != (y2 == 0)).any(), "two draws gave the same mask"
    dx1 = layer.backward(R, cache1)
    np.testing.assert_array_equal(dx1, np.where(y1 == 0, 0.0, 2.0 * R))


def test_dropout_is_the_identity_at_inference():
    layer, x = _dropout()
    y, cache = layer.forward(x, training=False)
    np.testing.assert_array_equal(y, x)
    R = np.ones_like(x)
    np.testing.assert_array_equal(layer.backward(R, cache), R)


# -- losses -----------------------------------------------------------------------------

LOSSES = {
    "bce": sigmoid_binary_cross_entropy,
    "ce": softmax_cross_entropy,
    "mse": mse,
}


def _loss_case(kind: str, time: bool, seed: int = 0):
    """Outputs, targets and the element losses computed the plain way."""
    rng = np.random.default_rng(seed)
    lead = (B, T) if time else (B,)
    if kind == "bce":
        z = rng.normal(scale=2.0, size=lead)
        t = rng.integers(0, 2, size=lead)
    elif kind == "ce":
        z = rng.normal(scale=2.0, size=(*lead, 4))
        t = rng.integers(0, 4, size=lead)
    else:
        z = rng.normal(size=(*lead, 3))
        t = rng.normal(size=(*lead, 3))
    return z, t


def _element_losses(kind: str, z: np.ndarray, t: np.ndarray) -> np.ndarray:
    """One loss per output (per sequence, or per step), straight from the definitions."""
    if kind == "bce":
        s = 1.0 / (1.0 + np.exp(-z))
        return -(t * np.log(s) + (1 - t) * np.log(1 - s))
    if kind == "ce":
        p = np.exp(z) / np.exp(z).sum(axis=-1, keepdims=True)
        return -np.log(np.take_along_axis(p, t[..., None], axis=-1)[..., 0])
    return ((z - t) ** 2).sum(axis=-1)  # squared error summed over features


LOSS_SHAPES = [  # (time axis, mask)
    pytest.param(False, False, id="batch"),
    pytest.param(True, False, id="steps"),
    pytest.param(True, True, id="padded"),
]


@pytest.mark.parametrize("reduction", ["sequence_mean", "token_mean"])
@pytest.mark.parametrize(("time", "masked"), LOSS_SHAPES)
@pytest.mark.parametrize("kind", sorted(LOSSES))
def test_loss_value_is_the_notes_reduction(kind, time, masked, reduction):
    """sequence_mean: sum over real steps, mean over sequences; token_mean: mean over
    real steps. Without a time axis each sequence is one step, so the two agree."""
    z, t = _loss_case(kind, time)
    mask = MASK if masked else None
    value, _ = LOSSES[kind](z, t, mask, reduction)
    elem = _element_losses(kind, z, t)
    w = np.ones(elem.shape) if mask is None else mask.astype(float)
    want = (elem * w).sum() / (B if reduction == "sequence_mean" else w.sum())
    np.testing.assert_allclose(value, want, rtol=1e-12)


@pytest.mark.parametrize("reduction", ["sequence_mean", "token_mean"])
@pytest.mark.parametrize("kind", sorted(LOSSES))
def test_loss_without_mask_equals_all_true_mask(kind, reduction):
    z, t = _loss_case(kind, time=True)
    value, grad = LOSSES[kind](z, t, None, reduction)
    value_m, grad_m = LOSSES[kind](z, t, np.ones((B, T), dtype=bool), reduction)
    np.testing.assert_allclose(value, value_m, rtol=1e-14)
    np.testing.assert_allclose(grad, grad_m, rtol=1e-14)


@pytest.mark.parametrize("reduction", ["sequence_mean", "token_mean"])
@pytest.mark.parametrize(("time", "masked"), LOSS_SHAPES)
@pytest.mark.parametrize("kind", sorted(LOSSES))
def test_loss_gradients(kind, time, masked, reduction):
    z, t = _loss_case(kind, time, seed=1)
    mask = MASK if masked else None
    fn = LOSSES[kind]
    value, dz = fn(z, t, mask, reduction)
    assert dz.shape == z.shape and dz.dtype == z.dtype
    check_gradients(lambda: fn(z, t, mask, reduction)[0], {"outputs": z}, {"outputs": dz})
    if not masked:
        return
    assert (dz[~MASK] == 0).all(), "a pad's output got gradient"
    z2, t2 = z.copy(), t.copy()
    z2[~MASK] = 1e3  # huge outputs at pads, and different targets
    t2[~MASK] = 1 if kind != "mse" else -7.0
    value2, dz2 = fn(z2, t2, mask, reduction)
    assert value2 == value, "a pad changed the loss"
    np.testing.assert_array_equal(dz2, dz)


@pytest.mark.parametrize("reduction", ["sequence_mean", "token_mean"])
def test_sigmoid_cross_entropy_is_finite_at_extreme_logits(reduction):
    z = np.array([[50.0, -50.0, 50.0, -50.0]])
    t = np.array([[1, 0, 0, 1]])
    value, dz = sigmoid_binary_cross_entropy(z, t, reduction=reduction)
    assert np.isfinite(value) and np.isfinite(dz).all()
    # the two wrong answers cost 50 + log(1 + e^-50) each, the right ones log(1 + e^-50)
    per_step = np.array([0.0, 0.0, 50.0, 50.0]) + np.log1p(np.exp(-50.0))
    want = per_step.sum() / (1 if reduction == "sequence_mean" else 4)
    np.testing.assert_allclose(value, want, rtol=1e-14)
    np.testing.assert_allclose(
        dz * (1 if reduction == "sequence_mean" else 4), [[0.0, 0.0, 1.0, -1.0]], atol=1e-20
    )
    check_gradients(
        lambda: sigmoid_binary_cross_entropy(z, t, reduction=reduction)[0], {"z": z}, {"z": dz}
    )


@pytest.mark.parametrize("reduction", ["sequence_mean", "token_mean"])
def test_softmax_cross_entropy_is_finite_at_extreme_logits(reduction):
    z = np.array([[50.0, -50.0, 0.0]] * 3)
    t = np.array([0, 1, 2])
    value, dz = softmax_cross_entropy(z, t, reduction=reduction)
    assert np.isfinite(value) and np.isfinite(dz).all()
    # -log softmax: about 0, 100 and 50
    lse = 50.0 + np.log1p(np.exp(-50.0) + np.exp(-100.0))
    want = np.array([lse - 50.0, lse + 50.0, lse]).mean()
    np.testing.assert_allclose(value, want, rtol=1e-14)
    np.testing.assert_allclose(dz.sum(axis=-1), 0.0, atol=1e-15)
    check_gradients(
        lambda: softmax_cross_entropy(z, t, reduction=reduction)[0], {"z": z}, {"z": dz}
    )


def test_check_gradients_catches_a_small_mistake():
    """The checker itself: a gradient off by 1e-4 relative must not pass."""
    w = np.array([[0.3, -1.2], [0.7, 2.0]])
    wrong = 2 * w
    wrong[1, 0] *= 1 + 1e-4
    with pytest.raises(AssertionError, match=r"'w' is wrong at \(1, 0\)"):
        check_gradients(lambda: float((w**2).sum()), {"w": w}, {"w": wrong})


# -- whole models through train_batch -----------------------------------------------------

SEQS = [np.array([1, 2, 3, 2, 5]), np.array([4, 1]), np.array([3, 3, 5, 1]), np.array([2])]


def _check_model(model: Sequential, batch: Batch) -> dict[str, np.ndarray]:
    """Gradient check of model.param_slots() after train_batch; returns the gradients."""
    model.zero_grad()
    model.train_batch(batch)
    slots = model.param_slots()
    params = {k: p for k, p, _, _ in slots}
    analytic = {k: g.copy() for k, _, g, _ in slots}

    def loss() -> float:
        return model.eval_batch(batch).loss_sum / len(batch.lengths)

    check_gradients(loss, params, analytic)
    return analytic


def _assert_pads_change_nothing(model: Sequential, batch: Batch, grads, per_step: bool):
    x2 = batch.x.copy()
    x2[~batch.mask] = 3  # another id at every pad
    y2 = batch.y.copy()
    if per_step:
        y2[~batch.mask] = 2  # another target at every pad
    other = dataclasses.replace(batch, x=x2, y=y2)
    assert model.eval_batch(other).loss_sum == model.eval_batch(batch).loss_sum
    np.testing.assert_array_equal(model(other.x, other.mask), model(batch.x, batch.mask))
    model.zero_grad()
    model.train_batch(other)
    for k, _, g, _ in model.param_slots():
        np.testing.assert_array_equal(g, grads[k], err_msg=f"{k}: a pad changed the gradient")


def test_sequential_embedding_rnn_sigmoid_gradients():
    model = Sequential(
        [Embedding(7, 4, scale=0.5), SimpleRNN(3), Dense(1, "sigmoid")], dtype="float64", seed=3
    ).compile("sgd", "binary_crossentropy")
    rng = np.random.default_rng(3)
    model.layers[1].params["b"][...] = rng.normal(scale=0.5, size=3)
    model.layers[2].params["c"][...] = 0.3
    batch = SequenceDataset(SEQS, np.array([1, 0, 1, 0])).batch(np.arange(len(SEQS)))
    assert not batch.mask.all() and (batch.x[~batch.mask] == 0).all()
    grads = _check_model(model, batch)
    rows = {k: r for k, _, _, r in model.param_slots()}["embedding.E"]
    np.testing.assert_array_equal(rows, np.unique(np.concatenate(SEQS)))  # 0 is a pad only
    assert (grads["embedding.E"][0] == 0).all() and (grads["embedding.E"][6] == 0).all()
    _assert_pads_change_nothing(model, batch, grads, per_step=False)


@pytest.mark.parametrize("reduction", ["sequence_mean", "token_mean"])
def test_sequential_one_hot_rnn_softmax_per_step_gradients(reduction):
    model = Sequential(
        [OneHot(6), SimpleRNN(4, return_sequences=True), Dense(3, "softmax")],
        dtype="float64",
        seed=4,
    ).compile("sgd", "sparse_categorical_crossentropy")
    model.reduction = reduction
    rng = np.random.default_rng(4)
    model.layers[1].params["b"][...] = rng.normal(scale=0.5, size=4)
    model.layers[2].params["c"][...] = rng.normal(scale=0.5, size=3)
    tags = np.empty(len(SEQS), dtype=object)
    tags[:] = [rng.integers(0, 3, size=len(s)) for s in SEQS]
    batch = SequenceDataset(SEQS, tags).batch(np.arange(len(SEQS)))
    grads = _check_model(model, batch)
    rows = {k: r for k, _, _, r in model.param_slots()}["simple_rnn.U"]
    np.testing.assert_array_equal(rows, np.unique(np.concatenate(SEQS)))
    _assert_pads_change_nothing(model, batch, grads, per_step=True)
