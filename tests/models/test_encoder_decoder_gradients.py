"""The encoder-decoder's backward pass against central differences, in float64.

Every parameter of the encoder, the bridge, the decoder, the attention and the output
layer is checked entry by entry, on a padded batch whose sources and targets have
different lengths, for each score function and for contexts with and without a bridge.
"""

from __future__ import annotations

import numpy as np
import pytest

from reference import check_gradients
from rnnkit.models.encoder_decoder import EncoderDecoder

SRC_LENGTHS = np.array([4, 2, 3])
TGT_LENGTHS = np.array([3, 5, 1])

CONFIGS = {
    "bi-gru, dot, bridge": dict(cell="gru", bidirectional=True, attention="dot"),
    "lstm, general, no bridge": dict(cell="lstm", bidirectional=False, attention="general"),
    "bi-rnn x2 -> lstm x2, additive": dict(
        cell="rnn",
        layers=2,
        bidirectional=True,
        decoder_cell="lstm",
        decoder_layers=2,
        decoder_hidden=5,
        attention="additive",
    ),
    "gru -> gru, no attention, forced bridge": dict(
        cell="gru", bidirectional=False, attention="none", bridge=True
    ),
    "rnn -> rnn x2, dot, shared context": dict(
        cell="rnn", bidirectional=False, decoder_layers=2, attention="dot"
    ),
}


def _batch(rng: np.random.Generator, n_source: int, n_target: int):
    S, T = SRC_LENGTHS.max(), TGT_LENGTHS.max()
    src_mask = np.arange(S)[None] < SRC_LENGTHS[:, None]
    y_mask = np.arange(T)[None] < TGT_LENGTHS[:, None]
    x = rng.integers(1, n_source, size=(3, S)) * src_mask
    y_in = rng.integers(1, n_target, size=(3, T)) * y_mask
    return x, src_mask, y_in, y_mask


@pytest.mark.parametrize("config", list(CONFIGS), ids=list(CONFIGS))
def test_every_parameter_matches_central_differences(config: str) -> None:
    rng = np.random.default_rng(3)
    net = EncoderDecoder(
        n_source=7,
        n_target=6,
        embed_dim=3,
        hidden=4,
        embed_scale=0.5,
        seed=1,
        dtype="float64",
        **CONFIGS[config],
    )
    x, src_mask, y_in, y_mask = _batch(rng, 7, 6)
    R = rng.normal(size=(3, y_in.shape[1], 6)) * y_mask[:, :, None]

    def loss() -> float:
        logits = net.forward(x, src_mask, y_in, y_mask)[0]
        return float((R * logits).sum())

    net.zero_grad()
    _, _, cache = net.forward(x, src_mask, y_in, y_mask, training=True)
    net.backward(R, cache)
    params = {key: p for key, p, _, _ in net.param_slots()}
    grads = {key: g for key, _, g, _ in net.param_slots()}
    assert len(params) >= 10
    check_gradients(loss, params, grads)


@pytest.mark.parametrize("config", list(CONFIGS), ids=list(CONFIGS))
def test_a_training_step_moves_every_weight_and_starts_from_zero_gradients(config) -> None:
    """zero_grad clears every gradient and SGD updates every parameter that has one.

    A layer that adds a dense gradient without saying so keeps its gradients across
    steps and is skipped by the optimizers, which update the rows they are told of.
    """
    from rnnkit.training.optimizers import SGD

    rng = np.random.default_rng(5)
    net = EncoderDecoder(n_source=7, n_target=6, embed_dim=3, hidden=4, seed=2, **CONFIGS[config])
    x, src_mask, y_in, y_mask = _batch(rng, 7, 6)
    R = (rng.normal(size=(3, y_in.shape[1], 6)) * y_mask[:, :, None]).astype(np.float32)

    def step() -> dict[str, np.ndarray]:
        net.zero_grad()
        _, _, cache = net.forward(x, src_mask, y_in, y_mask, training=True)
        net.backward(R, cache)
        return {key: g.copy() for key, _, g, _ in net.param_slots()}

    first, second = step(), step()
    for key in first:
        np.testing.assert_array_equal(second[key], first[key], err_msg=key)
    before = {key: p.copy() for key, p, _, _ in net.param_slots()}
    SGD(lr=0.1).step(net.param_slots())
    for key, p, g, _ in net.param_slots():
        if np.any(g != 0):
            assert np.any(p != before[key]), f"{key} has a gradient but did not move"
