"""WordCharEmbedding: gradients, PyTorch parity, word dropout, its parameters and config."""

from __future__ import annotations

import numpy as np
import pytest

from reference import check_against_torch, check_gradients
from rnnkit.errors import ConfigError, ShapeError
from rnnkit.io.interop import to_torch
from rnnkit.layers import CharEncoder, Dense, Embedding, Spec, WordCharEmbedding
from rnnkit.layers.registry import layer_from_config
from rnnkit.layers.word_chars import word_char_ids

N_WORDS, WORD_DIM, N_CHARS, CHAR_DIM, UNITS = 7, 3, 10, 3, 2
# (B, T, 1 + L) = (2, 3, 1 + 4): word ids, then characters (0 = <pad>); a padded word
# slot in each sentence, a repeated word (a sparse row gradient that sums)
X = np.array(
    [
        [[4, 3, 4, 5, 6], [2, 2, 0, 0, 0], [4, 8, 8, 1, 0]],
        [[5, 5, 3, 0, 0], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0]],
    ]
)
MASK = np.array([[True, True, True], [True, False, False]])


def _layer(cell: str = "lstm", seed: int = 0, **words: object) -> WordCharEmbedding:
    layer = WordCharEmbedding(
        Embedding(N_WORDS, WORD_DIM, scale=0.5, **words),  # type: ignore[arg-type]
        CharEncoder(N_CHARS, CHAR_DIM, UNITS, cell=cell, scale=0.5),
        dtype="float64",
    )
    layer.build(Spec("ids", N_WORDS), np.random.default_rng(seed))
    rng = np.random.default_rng(seed + 1)
    for key in ("char_forward_b", "char_backward_b"):  # nonzero biases: every bias path runs
        layer.params[key][...] = rng.normal(scale=0.5, size=layer.params[key].shape)
    return layer


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_gradients_match_central_differences(cell: str) -> None:
    layer = _layer(cell)
    R = np.random.default_rng(2).normal(size=(2, 3, WORD_DIM + 2 * UNITS))
    R[~MASK] = 0.0  # what follows ignores the pads (the word embedding gives E[0] there)

    def loss() -> float:
        return float((layer(X, mask=MASK) * R).sum())

    _, cache = layer.forward(X, mask=MASK, training=True)
    layer.zero_grad()
    assert layer.backward(R, cache) is None  # ids have no gradient
    check_gradients(loss, layer.params, {k: g.copy() for k, g in layer.grads.items()})
    # the word rows a padded slot holds (and the <pad> row) take no gradient
    assert not layer.grads["E"][0].any() and not layer.grads["E"][[1, 3, 6]].any()


def test_matches_torch_embedding_and_packed_char_lstm(torch) -> None:
    layer = _layer("lstm", seed=3)
    y, cache = layer.forward(X, mask=MASK)
    R = np.random.default_rng(4).normal(size=y.shape)
    layer.zero_grad()
    layer.backward(R, cache)

    words = torch.nn.Embedding(N_WORDS, WORD_DIM).double()
    chars = torch.nn.Embedding(N_CHARS, CHAR_DIM).double()
    lstm = torch.nn.LSTM(CHAR_DIM, UNITS, bidirectional=True, batch_first=True).double()
    p = layer.params
    weights = {}
    for direction, suffix in (("forward", "_l0"), ("backward", "_l0_reverse")):
        part = {k: p[f"char_{direction}_{k}"] for k in "UWb"}
        weights.update(to_torch("lstm", part, suffix=suffix))
    with torch.no_grad():
        words.weight.copy_(torch.from_numpy(p["E"]))
        chars.weight.copy_(torch.from_numpy(p["char_E"]))
        for name, param in lstm.named_parameters():
            param.copy_(torch.from_numpy(np.ascontiguousarray(weights[name])))

    ids = torch.from_numpy(X)
    n = (X[:, :, 1:] != 0).sum(axis=-1)
    keep = torch.from_numpy(MASK & (n > 0))
    packed = torch.nn.utils.rnn.pack_padded_sequence(
        chars(ids[:, :, 1:][keep]),
        torch.from_numpy(n[MASK & (n > 0)]),
        batch_first=True,
        enforce_sorted=False,
    )
    h_n = lstm(packed)[1][0]  # (2, N, units)
    feats = torch.zeros((2, 3, 2 * UNITS), dtype=torch.float64)
    feats[keep] = torch.cat([h_n[0], h_n[1]], dim=-1)
    t_y = torch.cat([words(ids[:, :, 0]), feats], dim=-1) * torch.from_numpy(MASK)[:, :, None]
    (t_y * torch.from_numpy(R)).sum().backward()
    # rnnkit's pads output the word embedding of <pad>; compare the real word slots
    check_against_torch(
        {"y": (y[MASK], t_y[torch.from_numpy(MASK)])},
        {
            "E": (layer.grads["E"], words.weight.grad),
            "char_E": (layer.grads["char_E"], chars.weight.grad),
        },
    )
    g = torch.cat([lstm.weight_ih_l0.grad, lstm.weight_ih_l0_reverse.grad], dim=0)
    ours = np.concatenate(
        [
            to_torch("lstm", {k: layer.grads[f"char_{d}_{k}"] for k in "UWb"}, suffix="")[
                "weight_ih"
            ]
            for d in ("forward", "backward")
        ]
    )
    np.testing.assert_allclose(ours, g.numpy(), rtol=1e-10, atol=1e-13)


def test_a_dropped_word_keeps_its_characters() -> None:
    layer = _layer(word_dropout=0.999)
    y = layer.forward(X, mask=MASK, training=True)[0]
    kept = layer(X, mask=MASK)
    unk = layer.params["E"][1]
    np.testing.assert_allclose(y[MASK][:, :WORD_DIM], np.broadcast_to(unk, (4, WORD_DIM)))
    np.testing.assert_array_equal(y[:, :, WORD_DIM:], kept[:, :, WORD_DIM:])


def test_parameters_config_and_rebuild() -> None:
    layer = _layer("gru")
    assert list(layer.params) == ["E", "char_E"] + [
        f"char_{d}_{k}" for d in ("forward", "backward") for k in "UWb"
    ]
    assert layer.params["E"] is layer.words.params["E"]
    assert layer.params["char_E"] is layer.chars.params["E"]
    copy = layer_from_config({"class": "WordCharEmbedding", "config": layer.get_config()})
    assert isinstance(copy, WordCharEmbedding)
    copy.build(Spec("ids", N_WORDS), np.random.default_rng(9))
    copy.set_weights(layer.get_weights())
    np.testing.assert_array_equal(copy(X, mask=MASK), layer(X, mask=MASK))
    assert layer.count_params() == layer.words.count_params() + layer.chars.count_params()


def test_word_char_ids_and_bad_inputs() -> None:
    assert word_char_ids(np.array([3]), np.array([[5, 6]])).tolist() == [[3, 5, 6]]
    with pytest.raises(ShapeError, match="expected"):
        word_char_ids(np.array([3, 4]), np.array([[5, 6]]))
    with pytest.raises(ShapeError, match=r"\(B, T, 1 \+ L\)"):
        _layer()(X[:, :, 0])
    with pytest.raises(ShapeError, match=r"\(B, T, 1 \+ L\)"):
        _layer()(X.astype(np.float64))
    with pytest.raises(ConfigError, match="an Embedding and a CharEncoder"):
        WordCharEmbedding(Dense(3), CharEncoder(5))
