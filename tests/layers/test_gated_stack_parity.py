"""Two bidirectional LSTM or GRU layers against nn.LSTM / nn.GRU(num_layers=2,
bidirectional=True) on a packed, padded, variable-length batch (float64)."""

from __future__ import annotations

import numpy as np
import pytest

from reference import check_against_torch
from rnnkit.io.interop import to_torch
from rnnkit.layers import GRU, LSTM, Bidirectional
from rnnkit.models.sequential import Sequential

B, T, N_IN, UNITS = 4, 6, 3, 5
LENGTHS = np.array([6, 2, 4, 1])
MASK = np.arange(T)[None, :] < LENGTHS[:, None]
CELLS = {"lstm": LSTM, "gru": GRU}


def _torch_layout(model: Sequential, cell: str, arrays: str) -> dict[str, np.ndarray]:
    """Every weight (or gradient) of the stack under PyTorch's names (DESIGN §4)."""
    out = {}
    for i, bi in enumerate(model.layers):
        for direction, suffix in (("forward", ""), ("backward", "_reverse")):
            source = getattr(bi, arrays)
            part = {k: source[f"{direction}_{k}"] for k in ("U", "W", "b")}
            out.update(to_torch(cell, part, suffix=f"_l{i}{suffix}"))
    return out


@pytest.mark.parametrize("masked", [False, True], ids=["full", "padded"])
@pytest.mark.parametrize("cell", sorted(CELLS))
def test_two_bidirectional_gated_layers_match_torch(torch, cell: str, masked: bool) -> None:
    rng = np.random.default_rng(7)
    model = Sequential(
        [
            Bidirectional(CELLS[cell](UNITS, return_sequences=True)),
            Bidirectional(CELLS[cell](UNITS, return_sequences=True)),
        ],
        input_dim=N_IN,
        dtype="float64",
        seed=0,
    )
    for bi in model.layers:  # nonzero biases everywhere, so every bias path is exercised
        for direction in ("forward", "backward"):
            b = bi.params[f"{direction}_b"]
            b[...] = rng.normal(scale=0.5, size=b.shape)
    x = rng.normal(size=(B, T, N_IN))
    mask = MASK if masked else None
    y, caches = model.forward(x, mask)
    R = rng.normal(size=y.shape) * (MASK[:, :, None] if masked else 1.0)
    model.zero_grad()
    dx = model.backward(R, caches)

    net_cls = torch.nn.LSTM if cell == "lstm" else torch.nn.GRU
    net = net_cls(N_IN, UNITS, num_layers=2, bidirectional=True, batch_first=True).double()
    weights = _torch_layout(model, cell, "params")
    with torch.no_grad():
        for name, param in net.named_parameters():
            param.copy_(torch.from_numpy(np.ascontiguousarray(weights[name])))
    utils = torch.nn.utils.rnn
    tx = torch.from_numpy(x.copy()).requires_grad_()
    lengths = torch.from_numpy(LENGTHS if masked else np.full(B, T))
    packed = utils.pack_padded_sequence(tx, lengths, batch_first=True, enforce_sorted=False)
    t_y, _ = utils.pad_packed_sequence(net(packed)[0], batch_first=True, total_length=T)
    (t_y * torch.from_numpy(R)).sum().backward()

    grads = _torch_layout(model, cell, "grads")
    compared = {
        name: (g, getattr(net, name).grad)
        for name, g in grads.items()
        # rnnkit's single LSTM bias b is exported as bias_ih (bias_hh = 0); its gradient
        # equals that of either torch bias, so bias_ih is compared and bias_hh skipped
        if not (cell == "lstm" and name.startswith("bias_hh"))
    }
    assert len(compared) == (12 if cell == "lstm" else 16)
    check_against_torch({"y": (y, t_y)}, {"x": (dx, tx.grad), **compared})
