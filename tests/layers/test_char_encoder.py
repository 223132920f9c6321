"""CharEncoder: gradients, PyTorch parity over packed words, and padded word slots."""

from __future__ import annotations

import numpy as np
import pytest

from reference import check_against_torch, check_gradients
from rnnkit.errors import ShapeError
from rnnkit.io.interop import to_torch
from rnnkit.layers import CharEncoder, Spec, char_encoder
from rnnkit.text import char_vocabulary, encode_chars, lengths_to_mask

N_CHARS, CHAR_DIM, UNITS = 10, 3, 4
CELLS = ("rnn", "lstm", "gru")
# (B, T, L) = (2, 4, 5): words of 1 to 5 characters, a padded word slot in each
# sentence, a repeated character (a sparse row gradient that sums), 0 = <pad>
IDS = np.array(
    [
        [[3, 4, 5, 6, 7], [2, 0, 0, 0, 0], [8, 8, 1, 0, 0], [0, 0, 0, 0, 0]],
        [[5, 3, 0, 0, 0], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0]],
    ]
)
MASK = np.array([[True, True, True, False], [True, False, False, False]])
LENGTHS = (IDS != 0).sum(axis=-1)  # (B, T)


@pytest.fixture(params=["one bucket", "a bucket per length"])
def buckets(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Read the words of a batch as one bucket, or one bucket for each word length
    (the cost of a step set to 10**9 words or to none)."""
    monkeypatch.setattr(char_encoder, "STEP_ROWS", 10**9 if request.param == "one bucket" else 0)
    return request.param


def _encoder(cell: str, seed: int = 0) -> CharEncoder:
    enc = CharEncoder(N_CHARS, CHAR_DIM, UNITS, cell=cell, scale=0.5, dtype="float64")
    enc.build(Spec("ids", N_CHARS), np.random.default_rng(seed))
    rng = np.random.default_rng(seed + 1)
    for key in ("forward_b", "backward_b"):  # nonzero biases, so every bias path runs
        b = enc.params[key]
        b[...] = rng.normal(scale=0.5, size=b.shape)
    return enc


@pytest.mark.parametrize("cell", CELLS)
def test_gradients_match_central_differences(cell: str, buckets: str) -> None:
    enc = _encoder(cell)
    R = np.random.default_rng(2).normal(size=(*IDS.shape[:2], 2 * UNITS))

    def loss() -> float:
        return float((enc(IDS, mask=MASK) * R).sum())

    _, cache = enc.forward(IDS, mask=MASK, training=True)
    enc.zero_grad()
    assert enc.backward(R, cache) is None  # character ids have no gradient
    check_gradients(loss, enc.params, {k: g.copy() for k, g in enc.grads.items()})


@pytest.mark.parametrize("cell", CELLS)
def test_matches_torch_over_packed_words(torch, cell: str, buckets: str) -> None:
    enc = _encoder(cell, seed=3)
    y, cache = enc.forward(IDS, mask=MASK)
    R = np.random.default_rng(4).normal(size=y.shape)
    enc.zero_grad()
    enc.backward(R, cache)

    net_cls = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell]
    emb = torch.nn.Embedding(N_CHARS, CHAR_DIM).double()
    net = net_cls(CHAR_DIM, UNITS, bidirectional=True, batch_first=True).double()
    weights = {"weight": enc.params["E"]}
    for direction, suffix in (("forward", "_l0"), ("backward", "_l0_reverse")):
        part = {k: enc.params[f"{direction}_{k}"] for k in "UWb"}
        weights.update(to_torch(cell, part, suffix=suffix))
    with torch.no_grad():
        for module in (emb, net):
            for name, param in module.named_parameters():
                param.copy_(torch.from_numpy(np.ascontiguousarray(weights[name])))

    keep = MASK & (LENGTHS > 0)
    words = torch.from_numpy(IDS[keep])  # (N, L) the real words, one sequence each
    lengths = torch.from_numpy(LENGTHS[keep])
    utils = torch.nn.utils.rnn
    packed = utils.pack_padded_sequence(emb(words), lengths, batch_first=True, enforce_sorted=False)
    h_n = net(packed)[1]
    h_n = h_n[0] if cell == "lstm" else h_n  # (2, N, units): forward, backward
    t_y = torch.zeros(y.shape, dtype=torch.float64)
    t_y[torch.from_numpy(keep)] = torch.cat([h_n[0], h_n[1]], dim=-1)
    (t_y * torch.from_numpy(R)).sum().backward()

    grads = {"weight": enc.grads["E"]}
    for direction, suffix in (("forward", "_l0"), ("backward", "_l0_reverse")):
        part = {k: enc.grads[f"{direction}_{k}"] for k in "UWb"}
        grads.update(to_torch(cell, part, suffix=suffix))
    modules = {"weight": emb}
    compared = {
        name: (g, getattr(modules.get(name, net), name).grad)
        for name, g in grads.items()
        # one bias b in rnnkit, exported as bias_ih (bias_hh = 0): its gradient equals
        # either torch bias's, so bias_ih is compared and bias_hh skipped
        if not (cell != "gru" and name.startswith("bias_hh"))
    }
    assert len(compared) == (7 if cell != "gru" else 9)
    check_against_torch({"y": (y, t_y)}, compared)


@pytest.mark.parametrize("cell", CELLS)
def test_a_word_alone_gives_the_same_vector_as_in_a_batch(cell: str, buckets: str) -> None:
    enc = _encoder(cell)
    y = enc(IDS, mask=MASK)
    for b, t in zip(*np.nonzero(MASK), strict=True):
        n = LENGTHS[b, t]
        alone = enc(IDS[b, t, :n][None, None])  # (1, 1, n): no pad anywhere
        np.testing.assert_allclose(y[b, t], alone[0, 0], rtol=1e-13, atol=1e-15)


def test_padded_word_slots_output_zero_and_take_no_gradient(buckets: str) -> None:
    enc = _encoder("lstm")
    noisy = IDS.copy()
    noisy[0, 3, :2] = [9, 9]  # characters in a masked slot: still a pad word
    y, cache = enc.forward(noisy, mask=MASK)
    assert not y[~MASK].any()
    np.testing.assert_array_equal(y, enc(IDS, mask=MASK))
    dy = np.zeros_like(y)
    dy[~MASK] = 1.0  # gradient on the pads alone
    enc.zero_grad()
    enc.backward(dy, cache)
    for key, g in enc.grads.items():
        assert not g.any(), key
    dy = np.ones_like(y)
    enc.backward(dy, cache)
    assert not enc.grads["E"][0].any(), "the <pad> row took gradient"
    assert not enc.grads["E"][9].any(), "a character seen only in a pad slot took gradient"


def test_empty_words_and_an_empty_batch_give_zeros() -> None:
    enc = _encoder("gru")
    empty = np.zeros((2, 3, 4), dtype=np.int64)
    y, cache = enc.forward(empty)
    assert y.shape == (2, 3, 2 * UNITS) and not y.any()
    assert enc.backward(np.ones_like(y), cache) is None
    assert not any(g.any() for g in enc.grads.values())


def test_no_mask_means_every_word_with_characters() -> None:
    enc = _encoder("lstm")
    np.testing.assert_array_equal(enc(IDS), enc(IDS, mask=MASK))


def test_a_pad_before_a_character_is_refused() -> None:
    enc = _encoder("lstm")
    bad = IDS.copy()
    bad[1, 0] = [5, 0, 3, 0, 0]
    with pytest.raises(ShapeError, match=r"word \(1, 0\) has a <pad>"):
        enc(bad)


@pytest.mark.parametrize(
    "x, match",
    [
        (np.zeros((2, 3), dtype=np.int64), "must be"),
        (np.zeros((1, 2, 3)), "must be"),
        (np.full((1, 2, 3), N_CHARS), "must lie in"),
    ],
)
def test_bad_inputs_are_refused(x: np.ndarray, match: str) -> None:
    with pytest.raises(ShapeError, match=match):
        _encoder("rnn")(x)


def test_parameters_are_the_sublayers_arrays() -> None:
    enc = CharEncoder(50, cell="lstm")
    assert enc.build(Spec("ids", 50), np.random.default_rng(0)).size == 100
    assert list(enc.params) == [
        "E",
        *(f"{d}_{k}" for d in ("forward", "backward") for k in "UWb"),
    ]
    assert enc.params["E"] is enc.embedding.params["E"]
    # 50 x 30 + 2 x (30 x 200 + 50 x 200 + 200)
    assert enc.count_params() == 1500 + 2 * (6000 + 10000 + 200)
    assert enc.get_config()["scale"] == pytest.approx((3 / 30) ** 0.5)


def test_reads_the_ids_of_encode_chars() -> None:
    sentences = [["EU", "rejects", "German", "call"], ["Peter", "Blackburn"]]
    chars = char_vocabulary(sentences)
    ids, _ = encode_chars(sentences, chars, max_chars=6)
    mask = lengths_to_mask([len(s) for s in sentences], T=ids.shape[1])
    enc = CharEncoder(len(chars), units=5)
    enc.build(Spec("ids", len(chars)), np.random.default_rng(0))
    y = enc(ids, mask=mask)
    assert y.shape == (2, 4, 10) and y.dtype == np.float32
    assert not y[1, 2:].any() and np.abs(y[mask]).min(axis=-1).all()


@pytest.mark.parametrize("sizes", [(0, 3, 4), (9, 0, 4), (9, 3, 0)])
def test_sizes_must_be_positive(sizes: tuple[int, int, int]) -> None:
    with pytest.raises(ShapeError, match="sizes must be positive"):
        CharEncoder(*sizes)
