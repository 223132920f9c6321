"""CharCNN: gradients, PyTorch parity with Conv1d and a masked max, padded word slots."""

from __future__ import annotations

import numpy as np
import pytest

from reference import check_against_torch, check_gradients
from rnnkit.errors import ConfigError, ShapeError
from rnnkit.layers import CharCNN, Embedding, Spec, WordCharEmbedding
from rnnkit.layers.registry import layer_from_config
from rnnkit.text import char_vocabulary, encode_chars, lengths_to_mask

N_CHARS, CHAR_DIM, FILTERS = 10, 3, 5
MAX_CHARS = 6  # L, as max_word_chars would cut the words
# (B, T, L) = (2, 4, 6): words of 1 to 6 characters (one fills all L, one has a single
# character), a padded word slot in each sentence, a repeated character (a sparse row
# gradient that sums), 0 = <pad>. No two windows of a word are alike, so each max has
# one winner and the loss is differentiable.
IDS = np.array(
    [
        [[3, 4, 5, 6, 7, 2], [2, 0, 0, 0, 0, 0], [8, 8, 1, 0, 0, 0], [0, 0, 0, 0, 0, 0]],
        [[5, 3, 0, 0, 0, 0], [9, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0]],
    ]
)
MASK = np.array([[True, True, True, False], [True, True, False, False]])
LENGTHS = (IDS != 0).sum(axis=-1)  # (B, T)


def _cnn(window: int = 3, seed: int = 0) -> CharCNN:
    cnn = CharCNN(N_CHARS, CHAR_DIM, FILTERS, window=window, scale=0.5, dtype="float64")
    cnn.build(Spec("ids", N_CHARS), np.random.default_rng(seed))
    b = cnn.params["b"]  # nonzero biases, so the bias path runs
    b[...] = np.random.default_rng(seed + 1).normal(scale=0.5, size=b.shape)
    return cnn


@pytest.mark.parametrize("window", [1, 3, 5])
def test_gradients_match_central_differences(window: int) -> None:
    cnn = _cnn(window)
    R = np.random.default_rng(2).normal(size=(*IDS.shape[:2], FILTERS))

    def loss() -> float:
        return float((cnn(IDS, mask=MASK) * R).sum())

    _, cache = cnn.forward(IDS, mask=MASK, training=True)
    cnn.zero_grad()
    assert cnn.backward(R, cache) is None  # character ids have no gradient
    check_gradients(loss, cnn.params, {k: g.copy() for k, g in cnn.grads.items()})


@pytest.mark.parametrize("window", [3, 5])
def test_matches_torch_conv1d_and_a_masked_max(torch, window: int) -> None:
    cnn = _cnn(window, seed=3)
    y, cache = cnn.forward(IDS, mask=MASK)
    R = np.random.default_rng(4).normal(size=y.shape)
    cnn.zero_grad()
    cnn.backward(R, cache)

    emb = torch.nn.Embedding(N_CHARS, CHAR_DIM).double()
    conv = torch.nn.Conv1d(CHAR_DIM, FILTERS, window, padding=window // 2).double()
    with torch.no_grad():
        emb.weight.copy_(torch.from_numpy(cnn.params["E"]))
        # rnnkit's kernel is Keras's (window, char_dim, F); torch's is (F, char_dim, window)
        conv.weight.copy_(torch.from_numpy(cnn.params["W"].transpose(2, 1, 0).copy()))
        conv.bias.copy_(torch.from_numpy(cnn.params["b"]))
    keep = MASK & (LENGTHS > 0)
    words = torch.from_numpy(IDS[keep])  # (N, L) the real words
    real = words != 0  # (N, L)
    e = emb(words) * real[..., None]  # the pad positions are zero vectors, like the padding
    z = conv(e.transpose(1, 2))  # (N, F, L)
    h = z.masked_fill(~real[:, None, :], float("-inf")).max(dim=2).values  # (N, F)
    t_y = torch.zeros(y.shape, dtype=torch.float64)
    t_y[torch.from_numpy(keep)] = h
    (t_y * torch.from_numpy(R)).sum().backward()

    grads = {
        "E": (cnn.grads["E"], emb.weight.grad),
        "W": (cnn.grads["W"].transpose(2, 1, 0), conv.weight.grad),
        "b": (cnn.grads["b"], conv.bias.grad),
    }
    check_against_torch({"y": (y, t_y)}, grads)


def test_a_word_alone_gives_the_same_vector_as_in_a_batch() -> None:
    cnn = _cnn()
    y = cnn(IDS, mask=MASK)
    for b, t in zip(*np.nonzero(MASK), strict=True):
        n = LENGTHS[b, t]
        alone = cnn(IDS[b, t, :n][None, None])  # (1, 1, n): no pad anywhere
        # NOTE: not bit for bit: the GEMM may block a longer matrix's sums differently
        np.testing.assert_allclose(y[b, t], alone[0, 0], rtol=1e-13, atol=1e-15)


def test_a_one_character_word_is_its_centre_column() -> None:
    cnn = _cnn()
    y = cnn(np.array([[[4]]]))  # the window sees zeros on both sides of the character
    W, b, E = cnn.params["W"], cnn.params["b"], cnn.params["E"]
    np.testing.assert_allclose(y[0, 0], E[4] @ W[1] + b, rtol=1e-14)


def test_padded_word_slots_output_zero_and_take_no_gradient() -> None:
    cnn = _cnn()
    noisy = IDS.copy()
    noisy[0, 3, :2] = [9, 9]  # characters in a masked slot: still a pad word
    y, cache = cnn.forward(noisy, mask=MASK)
    assert not y[~MASK].any()
    np.testing.assert_array_equal(y, cnn(IDS, mask=MASK))
    dy = np.zeros_like(y)
    dy[~MASK] = 1.0  # gradient on the pads alone
    cnn.zero_grad()
    cnn.backward(dy, cache)
    for key, g in cnn.grads.items():
        assert not g.any(), key
    cnn.backward(np.ones_like(y), cache)
    assert not cnn.grads["E"][0].any(), "the <pad> row took gradient"


def test_gradients_accumulate_and_zero_grad_clears_them() -> None:
    cnn = _cnn()
    y, cache = cnn.forward(IDS, mask=MASK)
    cnn.zero_grad()
    assert set(cnn.sparse_rows) == {"E", "W", "b"} and not cnn.sparse_rows["W"].size
    cnn.backward(np.ones_like(y), cache)
    once = {k: g.copy() for k, g in cnn.grads.items()}
    assert set(cnn.sparse_rows) == {"E"}, "W and b are dense once they took gradient"
    cnn.backward(np.ones_like(y), cache)
    for key, g in cnn.grads.items():
        np.testing.assert_allclose(g, 2 * once[key], rtol=1e-14)
    cnn.zero_grad()
    assert not any(g.any() for g in cnn.grads.values())


def test_empty_words_and_an_empty_batch_give_zeros() -> None:
    cnn = _cnn()
    y, cache = cnn.forward(np.zeros((2, 3, 4), dtype=np.int64))
    assert y.shape == (2, 3, FILTERS) and not y.any()
    assert cnn.backward(np.ones_like(y), cache) is None
    assert not any(g.any() for g in cnn.grads.values())


@pytest.mark.parametrize(
    "x, match",
    [
        (np.zeros((2, 3), dtype=np.int64), "must be"),
        (np.zeros((1, 2, 3)), "must be"),
        (np.full((1, 2, 3), N_CHARS), "must lie in"),
        (np.array([[[5, 0, 3]]]), r"word \(0, 0\) has a <pad>"),
    ],
)
def test_bad_inputs_are_refused(x: np.ndarray, match: str) -> None:
    with pytest.raises(ShapeError, match=match):
        _cnn()(x)


def test_bad_sizes_are_refused() -> None:
    with pytest.raises(ShapeError, match="sizes must be positive"):
        CharCNN(9, 3, 0)
    with pytest.raises(ConfigError, match="odd number"):
        CharCNN(9, 3, 4, window=2)


def test_parameters_and_config() -> None:
    cnn = CharCNN(50, filters=100)
    assert cnn.build(Spec("ids", 50), np.random.default_rng(0)).size == 100
    assert list(cnn.params) == ["E", "W", "b"]
    assert cnn.params["E"] is cnn.embedding.params["E"]
    assert cnn.params["W"].shape == (3, 30, 100)
    assert cnn.count_params() == 50 * 30 + 3 * 30 * 100 + 100
    again = layer_from_config({"class": "CharCNN", "config": cnn.get_config()})
    assert again.get_config() == cnn.get_config()


def test_word_char_embedding_joins_its_features_and_rebuilds_it() -> None:
    layer = WordCharEmbedding(Embedding(10, 4), CharCNN(20, char_dim=3, filters=6))
    assert layer.build(Spec("ids", 10), np.random.default_rng(0)).size == 10
    assert list(layer.params) == ["E", "char_E", "char_W", "char_b"]
    config = layer.get_config()
    assert config["chars"]["class"] == "CharCNN"
    again = WordCharEmbedding(**{k: v for k, v in config.items() if k != "name"})
    assert isinstance(again.chars, CharCNN)


def test_reads_the_ids_of_encode_chars() -> None:
    sentences = [["EU", "rejects", "German", "call"], ["Peter", "Blackburn"]]
    chars = char_vocabulary(sentences)
    ids, _ = encode_chars(sentences, chars, max_chars=MAX_CHARS)
    mask = lengths_to_mask([len(s) for s in sentences], T=ids.shape[1])
    cnn = CharCNN(len(chars), filters=8)
    cnn.build(Spec("ids", len(chars)), np.random.default_rng(0))
    y = cnn(ids, mask=mask)
    assert y.shape == (2, 4, 8) and y.dtype == np.float32
    assert not y[1, 2:].any() and np.abs(y[mask]).min(axis=-1).all()
