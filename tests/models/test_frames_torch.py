"""The frame models' networks against PyTorch on padded batches of real-valued frames.

A FrameClassifier (h_T -> softmax, cross-entropy averaged over sequences) and a
FrameRegressor (both directions, a linear output at every frame, squared error summed
over outputs and frames, averaged over sequences) as built by ``fit``, against
nn.RNN/LSTM/GRU on packed sequences with the same weights (float64): the loss, every
parameter's gradient and dL/dx of the standardised input frames.
"""

from __future__ import annotations

import numpy as np
import pytest

from reference import check_against_torch
from rnnkit.io.interop import to_torch
from rnnkit.layers import Bidirectional
from rnnkit.models import FrameClassifier, FrameRegressor
from rnnkit.models.heads import compute_loss
from rnnkit.training import SequenceDataset

LENGTHS = (6, 2, 5, 1, 4)
F, D = 3, 4


def _frames(seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(n, F)) * [1.0, 4.0, 0.5] + 2.0 for n in LENGTHS]


def _ours(model, xs, targets):
    """Loss, parameter gradients and dL/dx of one padded batch of the model's network."""
    net = model.model_
    rng = np.random.default_rng(9)
    for _, p, _, _ in net.param_slots():  # every bias nonzero
        if p.ndim == 1 or p.shape[0] == 2:
            p[...] = rng.normal(scale=0.4, size=p.shape)
    data = SequenceDataset(model._frames(xs), targets, per_step=net.output_spec.time)
    batch = data.batch(np.arange(len(LENGTHS)))
    net.zero_grad()
    out, caches = net.forward(batch.x, batch.mask, training=True, logits=True)
    mask = batch.mask if net.output_spec.time else None
    loss, dout, _, _ = compute_loss(net.loss, out, batch.y, mask, net.reduction)
    dx = net.backward(dout, caches)
    return batch, loss, dx


def _torch_rnn(torch, cell: str, layer, bidirectional: bool):
    cls = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell]
    rnn = cls(F, D, batch_first=True, bidirectional=bidirectional).double()
    names = {}
    if bidirectional:
        for direction, suffix in (("forward", "_l0"), ("backward", "_l0_reverse")):
            part = {k: layer.params[f"{direction}_{k}"] for k in "UWb"}
            names.update(to_torch(cell, part, suffix=suffix))
    else:
        names = to_torch(cell, layer.params)
    with torch.no_grad():
        for name, value in names.items():
            getattr(rnn, name).copy_(torch.from_numpy(value))
    return rnn


def _torch_linear(torch, dense):
    """nn.Linear with the Dense layer's weights: weight = V.T, bias = c."""
    linear = torch.nn.Linear(*dense.params["V"].shape).double()
    with torch.no_grad():
        linear.weight.copy_(torch.from_numpy(dense.params["V"].T))
        linear.bias.copy_(torch.from_numpy(dense.params["c"]))
    return linear


def _packed(torch, batch):
    """The padded frames as a leaf tensor (for dL/dx), and packed by their lengths."""
    tx = torch.from_numpy(batch.x.copy()).requires_grad_()
    lengths = torch.from_numpy(batch.lengths)
    return tx, torch.nn.utils.rnn.pack_padded_sequence(tx, lengths, True, enforce_sorted=False)


def _rnn_grads(cell: str, layer, bidirectional: bool) -> dict[str, np.ndarray]:
    if not bidirectional:
        return to_torch(cell, layer.grads)
    out = {}
    for direction, suffix in (("forward", "_l0"), ("backward", "_l0_reverse")):
        out.update(to_torch(cell, {k: layer.grads[f"{direction}_{k}"] for k in "UWb"}, suffix))
    return out


def _compare(torch, cell, layer, rnn, dense, t_dense, bidirectional, loss, t_loss, dx, tx, mask):
    ours = _rnn_grads(cell, layer, bidirectional)
    # b = bias_ih + bias_hh for rnn and lstm: its gradient is either one's (DESIGN §4)
    keep = [n for n in ours if cell == "gru" or not n.startswith("bias_hh")]
    grads = {name: (ours[name], getattr(rnn, name).grad) for name in keep}
    grads["V"] = (dense.grads["V"].T, t_dense.weight.grad)
    grads["c"] = (dense.grads["c"], t_dense.bias.grad)
    grads["x"] = (dx * mask[:, :, None], tx.grad)
    check_against_torch({"loss": (np.float64(loss), t_loss)}, grads)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_frame_classifier_matches_torch(torch, cell: str) -> None:
    xs = _frames(0)
    labels = ["a", "b", "c", "b", "a"]
    model = FrameClassifier(cell=cell, hidden=D, epochs=1, seed=0, verbose=0, dtype="float64")
    model.fit(xs, labels)
    batch, loss, dx = _ours(model, xs, model._label_ids(labels))
    layer, dense = model.model_.layers[0], model.model_.layers[-1]
    rnn = _torch_rnn(torch, cell, layer, False)
    t_dense = _torch_linear(torch, dense)
    tx, packed = _packed(torch, batch)
    _, h = rnn(packed)
    h_T = (h[0] if cell == "lstm" else h)[-1]
    t_loss = torch.nn.functional.cross_entropy(t_dense(h_T), torch.from_numpy(batch.y))
    t_loss.backward()
    _compare(torch, cell, layer, rnn, dense, t_dense, False, loss, t_loss, dx, tx, batch.mask)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_frame_regressor_per_frame_matches_torch(torch, cell: str) -> None:
    xs = _frames(1)
    rng = np.random.default_rng(1)
    targets = [rng.normal(size=(len(x), 2)) for x in xs]
    model = FrameRegressor(
        cell=cell, hidden=D, bidirectional=True, epochs=1, seed=0, verbose=0, dtype="float64"
    ).fit(xs, targets)
    batch, loss, dx = _ours(model, xs, model._scaled_targets(targets))
    layer, dense = model.model_.layers[0], model.model_.layers[-1]
    assert isinstance(layer, Bidirectional)
    rnn = _torch_rnn(torch, cell, layer, True)
    t_dense = _torch_linear(torch, dense)
    tx, packed = _packed(torch, batch)
    hs, _ = rnn(packed)
    hs, _ = torch.nn.utils.rnn.pad_packed_sequence(hs, True, total_length=batch.x.shape[1])
    y = t_dense(hs)
    mask = torch.from_numpy(batch.mask)[:, :, None]
    err = (y - torch.from_numpy(batch.y)) ** 2 * mask  # (B, T, 2), zero at pads
    t_loss = err.sum() / len(LENGTHS)  # summed over outputs and frames, mean over sequences
    t_loss.backward()
    _compare(torch, cell, layer, rnn, dense, t_dense, True, loss, t_loss, dx, tx, batch.mask)
