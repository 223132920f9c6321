"""The same computation in PyTorch, float64: the same values and the same gradients.

The weights are mapped as DESIGN §4 says: ``nn.Embedding.weight = E``,
``nn.RNN.weight_ih_l0 = U.T``, ``weight_hh_l0 = W.T``, ``bias_ih_l0 + bias_hh_l0 = b``,
``nn.Linear.weight = V.T`` and ``bias = c``. PyTorch runs the padded batch packed
(``pack_padded_sequence``), so it never sees a pad: rnnkit's masks must give the same.
Both sides compute in float64 and differ only in the order of their sums, so values
agree to 1e-12 and gradients to 1e-10, relative.
"""

from __future__ import annotations

import numpy as np
import pytest

from reference import check_against_torch
from rnnkit.core.clipping import clip_by_global_norm
from rnnkit.core.losses import mse, sigmoid_binary_cross_entropy, softmax_cross_entropy
from rnnkit.layers import Dense, Embedding, SimpleRNN, Spec
from rnnkit.models import Sequential
from rnnkit.training import SGD, Adagrad, Adam, Momentum, SequenceDataset

VOCAB, EMBED, UNITS, CLASSES = 7, 4, 3, 4
# ids 1..6 at real steps; SequenceDataset pads with id 0
SEQS = [np.array([1, 2, 3, 2, 5]), np.array([4, 1]), np.array([3, 3, 6, 1]), np.array([2])]


def _batch(per_step: bool, seed: int = 0):
    rng = np.random.default_rng(seed)
    if per_step:
        y = np.empty(len(SEQS), dtype=object)
        y[:] = [rng.integers(0, CLASSES, size=len(s)) for s in SEQS]
    else:
        y = np.array([1, 0, 1, 0])
    return SequenceDataset(SEQS, y).batch(np.arange(len(SEQS)))


def _model(activation: str, per_step: bool, seed: int = 0) -> Sequential:
    """Embedding -> SimpleRNN -> Dense in float64, with nonzero biases."""
    head = Dense(CLASSES, "softmax") if per_step else Dense(1, "sigmoid")
    model = Sequential(
        [
            Embedding(VOCAB, EMBED, scale=0.5),
            SimpleRNN(UNITS, activation, return_sequences=per_step),
            head,
        ],
        dtype="float64",
        seed=seed,
    )
    loss = "sparse_categorical_crossentropy" if per_step else "binary_crossentropy"
    model.compile("sgd", loss)
    rng = np.random.default_rng(seed + 100)
    model.layers[1].params["b"][...] = rng.normal(scale=0.5, size=UNITS)
    model.layers[2].params["c"][...] = rng.normal(scale=0.5, size=head.units)
    return model


class TorchTwin:
    """nn.Embedding + nn.RNN(batch_first=True) + nn.Linear holding rnnkit's weights."""

    def __init__(self, torch, model: Sequential, bias_hh: np.ndarray | None = None) -> None:
        emb, rnn, out = model.layers
        nn = torch.nn
        self.torch = torch
        self.embedding = nn.Embedding(VOCAB, EMBED).double()
        self.rnn = nn.RNN(EMBED, UNITS, nonlinearity=rnn.activation, batch_first=True).double()
        self.linear = nn.Linear(UNITS, out.units).double()
        b_hh = np.zeros(UNITS) if bias_hh is None else bias_hh
        with torch.no_grad():
            for param, value in [
                (self.embedding.weight, emb.params["E"]),
                (self.rnn.weight_ih_l0, rnn.params["U"].T),
                (self.rnn.weight_hh_l0, rnn.params["W"].T),
                (self.rnn.bias_ih_l0, rnn.params["b"] - b_hh),
                (self.rnn.bias_hh_l0, b_hh),
                (self.linear.weight, out.params["V"].T),
                (self.linear.bias, out.params["c"]),
            ]:
                param.copy_(torch.from_numpy(np.ascontiguousarray(value)))

    def forward(self, x: np.ndarray, lengths: np.ndarray, per_step: bool):
        """Logits (B, k) from each sequence's last real state, or (B, T, k) per step."""
        torch = self.torch
        utils = torch.nn.utils.rnn
        e = self.embedding(torch.from_numpy(x))  # (B, T, e)
        packed = utils.pack_padded_sequence(
            e, torch.from_numpy(lengths), batch_first=True, enforce_sorted=False
        )
        out, h_n = self.rnn(packed)
        if per_step:
            seq, _ = utils.pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])
            return self.linear(seq), seq  # (B, T, k), (B, T, d) with zeros at pads
        return self.linear(h_n[0]), h_n[0]  # (B, k), (B, d)

    def grads(self) -> dict[str, object]:
        """Torch's gradients under rnnkit's names and layouts."""
        rnn = self.rnn
        return {
            "embedding.E": self.embedding.weight.grad,
            "simple_rnn.U": rnn.weight_ih_l0.grad.T,
            "simple_rnn.W": rnn.weight_hh_l0.grad.T,
            "simple_rnn.b": rnn.bias_ih_l0.grad,
            "dense.V": self.linear.weight.grad.T,
            "dense.c": self.linear.bias.grad,
        }


def _torch_loss(torch, logits, batch, per_step: bool, reduction: str = "sequence_mean"):
    F = torch.nn.functional
    B = len(batch.lengths)
    if not per_step:
        return F.binary_cross_entropy_with_logits(
            logits[:, 0], torch.from_numpy(batch.y.astype(np.float64))
        )  # mean over the sequences
    mask = torch.from_numpy(batch.mask)
    ce = F.cross_entropy(
        logits[mask], torch.from_numpy(batch.y.astype(np.int64))[mask], reduction="sum"
    )
    return ce / (B if reduction == "sequence_mean" else int(batch.mask.sum()))


def _rnnkit_step(model: Sequential, batch):
    """Loss, gradients by name and the logits of one train_batch."""
    model.zero_grad()
    r = model.train_batch(batch)
    grads = {k: g.copy() for k, _, g, _ in model.param_slots()}
    logits = model.forward(batch.x, batch.mask, logits=True)[0]
    return r.loss_sum / r.n_sequences, grads, logits


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_many_to_one_matches_torch(torch, activation):
    model = _model(activation, per_step=False)
    batch = _batch(per_step=False)
    loss, grads, logits = _rnnkit_step(model, batch)
    twin = TorchTwin(torch, model)
    t_logits, _ = twin.forward(batch.x, batch.lengths, per_step=False)
    t_loss = _torch_loss(torch, t_logits, batch, per_step=False)
    t_loss.backward()
    t_grads = twin.grads()
    check_against_torch(
        {"logits": (logits, t_logits), "loss": (np.float64(loss), t_loss)},
        {k: (grads[k], t_grads[k]) for k in grads},
    )
    assert (grads["embedding.E"][0] == 0).all(), "the pad id got gradient"


@pytest.mark.parametrize("reduction", ["sequence_mean", "token_mean"])
@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_many_to_many_matches_torch(torch, activation, reduction):
    model = _model(activation, per_step=True)
    model.reduction = reduction
    batch = _batch(per_step=True)
    loss, grads, logits = _rnnkit_step(model, batch)
    emb, rnn, _ = model.layers
    states = rnn(emb(batch.x), mask=batch.mask)  # (B, T, d)
    twin = TorchTwin(torch, model)
    t_logits, t_states = twin.forward(batch.x, batch.lengths, per_step=True)
    t_loss = _torch_loss(torch, t_logits, batch, per_step=True, reduction=reduction)
    t_loss.backward()
    t_grads = twin.grads()
    check_against_torch(
        {
            "states": (states, t_states),
            "logits": (logits, t_logits),
            "loss": (np.float64(loss), t_loss),
        },
        {k: (grads[k], t_grads[k]) for k in grads},
    )


def test_split_torch_biases_import_as_their_sum(torch):
    """Torch's bias_ih and bias_hh both feed every step: rnnkit's b is their sum, and
    the gradient of b is the gradient of each."""
    model = _model("tanh", per_step=False, seed=1)
    batch = _batch(per_step=False)
    bias_hh = np.random.default_rng(5).normal(size=UNITS)
    twin = TorchTwin(torch, model, bias_hh=bias_hh)  # bias_ih = b - bias_hh
    assert np.abs(twin.rnn.bias_hh_l0.detach().numpy()).min() > 0.01
    loss, grads, logits = _rnnkit_step(model, batch)
    t_logits, _ = twin.forward(batch.x, batch.lengths, per_step=False)
    t_loss = _torch_loss(torch, t_logits, batch, per_step=False)
    t_loss.backward()
    rnn = twin.rnn
    check_against_torch(
        {
            "b": (model.layers[1].params["b"], rnn.bias_ih_l0 + rnn.bias_hh_l0),
            "logits": (logits, t_logits),
            "loss": (np.float64(loss), t_loss),
        },
        {
            "b vs bias_ih": (grads["simple_rnn.b"], rnn.bias_ih_l0.grad),
            "b vs bias_hh": (grads["simple_rnn.b"], rnn.bias_hh_l0.grad),
        },
    )


@pytest.mark.parametrize("per_step", [False, True], ids=["last", "sequences"])
def test_padded_batch_gives_each_sequence_what_it_gets_alone(per_step):
    """Each row of a padded batch equals a batch of that sequence alone, unpadded, and
    the batch gradient is the mean of the sequences' own gradients.

    NOTE: not bit for bit: BLAS may add up a product with one row in another order than
    one with four, so the two agree to a few ulps (1e-13); a pad that leaked into a
    state would change it by far more.
    """
    model = _model("tanh", per_step=per_step)
    batch = _batch(per_step=per_step)
    B = len(SEQS)
    _, grads, logits = _rnnkit_step(model, batch)
    mean = {k: np.zeros_like(g) for k, g in grads.items()}
    for i, n in enumerate(batch.lengths):
        y_i = batch.y[i : i + 1, :n] if per_step else batch.y[i : i + 1]
        one = SequenceDataset([SEQS[i]], y_i).batch(np.array([0]))
        assert one.mask.all() and one.x.shape[1] == n
        _, grads_i, logits_i = _rnnkit_step(model, one)
        row = logits[i, :n] if per_step else logits[i]
        np.testing.assert_allclose(row, logits_i[0], rtol=1e-13, atol=1e-15)
        for k in mean:
            mean[k] += grads_i[k] / B
    assert model.reduction == "sequence_mean"  # the batch loss is the mean of theirs
    for k, g in grads.items():
        np.testing.assert_allclose(g, mean[k], rtol=1e-12, atol=1e-16, err_msg=k)


@pytest.mark.parametrize("masked", [False, True], ids=["full", "padded"])
@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_initial_state_and_input_gradients_match_torch(torch, activation, masked, kernels):
    """SimpleRNN on real vectors from a given h0: dL/dx and dL/dh0 as torch has them."""
    rng = np.random.default_rng(7)
    B, T, n = 4, 5, 3
    lengths = np.array([5, 2, 4, 1]) if masked else np.full(B, T)
    mask = np.arange(T)[None, :] < lengths[:, None]
    layer = SimpleRNN(UNITS, activation, return_state=True, return_sequences=True, dtype="float64")
    layer.build(Spec("features", n), rng)
    layer.params["b"][...] = rng.normal(scale=0.5, size=UNITS)
    x = rng.normal(size=(B, T, n))
    h0 = rng.normal(size=(B, UNITS))
    R_seq, R_last = rng.normal(size=(B, T, UNITS)), rng.normal(size=(B, UNITS))
    (seq, last), cache = layer.forward(x, mask=mask if masked else None, initial_state=h0)
    dx, dh0 = layer.backward((R_seq, R_last), cache)

    nn, utils = torch.nn, torch.nn.utils.rnn
    rnn = nn.RNN(n, UNITS, nonlinearity=activation, batch_first=True).double()
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(torch.from_numpy(layer.params["U"].T.copy()))
        rnn.weight_hh_l0.copy_(torch.from_numpy(layer.params["W"].T.copy()))
        rnn.bias_ih_l0.copy_(torch.from_numpy(layer.params["b"]))
        rnn.bias_hh_l0.zero_()
    tx = torch.from_numpy(x.copy()).requires_grad_()
    th0 = torch.from_numpy(h0.copy()).requires_grad_()
    packed = utils.pack_padded_sequence(
        tx, torch.from_numpy(lengths), batch_first=True, enforce_sorted=False
    )
    out, h_n = rnn(packed, th0[None])
    t_seq, _ = utils.pad_packed_sequence(out, batch_first=True, total_length=T)
    t_loss = (t_seq * torch.from_numpy(R_seq)).sum() + (h_n[0] * torch.from_numpy(R_last)).sum()
    t_loss.backward()
    check_against_torch(
        {"sequence": (seq, t_seq), "last state": (last, h_n[0])},
        {
            "x": (dx, tx.grad),
            "h0": (dh0, th0.grad),
            "U": (layer.grads["U"], rnn.weight_ih_l0.grad.T),
            "W": (layer.grads["W"], rnn.weight_hh_l0.grad.T),
            "b": (layer.grads["b"], rnn.bias_ih_l0.grad),
        },
    )


# -- losses ---------------------------------------------------------------------------


@pytest.mark.parametrize("reduction", ["sequence_mean", "token_mean"])
@pytest.mark.parametrize("loss", ["bce", "ce", "mse"])
def test_masked_losses_match_torch(torch, loss, reduction):
    """Per-step losses summed over the real steps, then a mean over the sequences
    (or a mean over the real steps): torch's sum over the masked entries, divided."""
    rng = np.random.default_rng(3)
    B, T, K = 4, 5, 3
    mask = np.arange(T)[None, :] < np.array([5, 2, 4, 1])[:, None]
    denom = B if reduction == "sequence_mean" else int(mask.sum())
    F = torch.nn.functional
    m = torch.from_numpy(mask)
    if loss == "bce":
        z, t = rng.normal(scale=3.0, size=(B, T)), rng.integers(0, 2, size=(B, T))
        value, dz = sigmoid_binary_cross_entropy(z, t, mask, reduction)
        tz = torch.from_numpy(z).requires_grad_()
        per = F.binary_cross_entropy_with_logits(
            tz, torch.from_numpy(t.astype(np.float64)), reduction="none"
        )
        t_value = per[m].sum() / denom
    elif loss == "ce":
        z, t = rng.normal(scale=3.0, size=(B, T, K)), rng.integers(0, K, size=(B, T))
        value, dz = softmax_cross_entropy(z, t, mask, reduction)
        tz = torch.from_numpy(z).requires_grad_()
        t_value = F.cross_entropy(tz[m], torch.from_numpy(t)[m], reduction="sum") / denom
    else:
        z, t = rng.normal(size=(B, T, K)), rng.normal(size=(B, T, K))
        value, dz = mse(z, t, mask, reduction)
        tz = torch.from_numpy(z).requires_grad_()
        per = F.mse_loss(tz, torch.from_numpy(t), reduction="none").sum(-1)  # over features
        t_value = per[m].sum() / denom
    t_value.backward()
    check_against_torch({"loss": (np.float64(value), t_value)}, {"dz": (dz, tz.grad)})


def test_binary_cross_entropy_matches_torch_at_extreme_logits(torch):
    z = np.array([50.0, -50.0, 50.0, -50.0, 0.0])
    t = np.array([1, 0, 0, 1, 1])
    value, dz = sigmoid_binary_cross_entropy(z, t)
    tz = torch.from_numpy(z.copy()).requires_grad_()
    t_value = torch.nn.functional.binary_cross_entropy_with_logits(
        tz, torch.from_numpy(t.astype(np.float64))
    )
    t_value.backward()
    check_against_torch({"loss": (np.float64(value), t_value)}, {"dz": (dz, tz.grad)})


# -- optimizers and clipping ------------------------------------------------------------

OPTIMIZERS = {
    "sgd": (lambda: SGD(lr=0.1), lambda optim, p: optim.SGD(p, lr=0.1)),
    "momentum": (
        lambda: Momentum(lr=0.1, momentum=0.9),
        lambda optim, p: optim.SGD(p, lr=0.1, momentum=0.9),
    ),
    "nesterov": (
        lambda: Momentum(lr=0.1, momentum=0.8, nesterov=True),
        lambda optim, p: optim.SGD(p, lr=0.1, momentum=0.8, nesterov=True),
    ),
    "adagrad": (
        lambda: Adagrad(lr=0.1, eps=1e-10),
        lambda optim, p: optim.Adagrad(p, lr=0.1, initial_accumulator_value=0.0, eps=1e-10),
    ),
    "adam": (lambda: Adam(lr=0.01), lambda optim, p: optim.Adam(p, lr=0.01)),
    "adam_betas": (
        lambda: Adam(lr=0.05, beta1=0.5, beta2=0.9, eps=1e-6),
        lambda optim, p: optim.Adam(p, lr=0.05, betas=(0.5, 0.9), eps=1e-6),
    ),
}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_optimizer_matches_torch_optim(torch, name):
    make_ours, make_theirs = OPTIMIZERS[name]
    rng = np.random.default_rng(11)
    params = {"U": rng.normal(size=(4, 3)), "b": rng.normal(size=3)}
    theirs = {k: torch.nn.Parameter(torch.from_numpy(v.copy())) for k, v in params.items()}
    ours, opt = make_ours(), make_theirs(torch.optim, list(theirs.values()))
    for step in range(6):
        grads = {k: rng.normal(scale=2.0, size=v.shape) for k, v in params.items()}
        ours.step([(k, params[k], grads[k], None) for k in params])
        for k, p in theirs.items():
            p.grad = torch.from_numpy(grads[k].copy())
        opt.step()
        check_against_torch(
            {f"{k} after step {step + 1}": (params[k], theirs[k]) for k in params},
            rtol=1e-10,
            atol=1e-14,
        )


@pytest.mark.parametrize("max_norm", [0.5, 100.0], ids=["clipped", "unclipped"])
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
def test_clip_by_global_norm_matches_torch(torch, max_norm, sparse):
    rng = np.random.default_rng(12)
    grads = [rng.normal(size=(5, 3)), rng.normal(size=3), rng.normal(size=(2, 2))]
    rows: list[np.ndarray | None] = [None] * 3
    if sparse:  # only rows 1 and 3 of the first gradient were touched
        grads[0][[0, 2, 4]] = 0.0
        rows[0] = np.array([1, 3])
    params = [torch.nn.Parameter(torch.zeros(g.shape, dtype=torch.float64)) for g in grads]
    for p, g in zip(params, grads, strict=True):
        p.grad = torch.from_numpy(g.copy())
    norm = clip_by_global_norm(grads, max_norm, rows=rows)
    t_norm = torch.nn.utils.clip_grad_norm_(params, max_norm)
    assert (norm > max_norm) == (max_norm == 0.5)
    check_against_torch(
        {"norm": (np.float64(norm), t_norm)},
        {f"grad {i}": (g, p.grad) for i, (g, p) in enumerate(zip(grads, params, strict=True))},
    )
