"""Pooling over time: gradients, masks, and the same numbers as PyTorch and Keras."""

from __future__ import annotations

import numpy as np
import pytest

from reference import check_against_torch, check_gradients
from rnnkit.layers import GlobalAveragePooling1D, GlobalMaxPooling1D, Spec
from rnnkit.models.sequential import Sequential

POOLS = {"max": GlobalMaxPooling1D, "mean": GlobalAveragePooling1D}
LENGTHS = np.array([5, 2, 4])


def _case(kind: str, seed: int = 0):
    rng = np.random.default_rng(seed)
    layer = POOLS[kind](dtype="float64")
    layer.build(Spec("features", 3), rng)
    x = rng.normal(size=(3, 5, 3))
    mask = np.arange(5)[None, :] < LENGTHS[:, None]
    return layer, x, mask, rng.normal(size=(3, 3))


@pytest.mark.parametrize("masked", [False, True], ids=["full", "padded"])
@pytest.mark.parametrize("kind", sorted(POOLS))
def test_pooling_gradients(kind: str, masked: bool) -> None:
    layer, x, mask, R = _case(kind)
    m = mask if masked else None
    _y, cache = layer.forward(x, m)
    dx = layer.backward(R, cache)
    check_gradients(lambda: float((layer.forward(x, m)[0] * R).sum()), {"x": x}, {"x": dx})
    if masked:
        assert not dx[~mask].any(), "a pad step received gradient"


@pytest.mark.parametrize("kind", sorted(POOLS))
def test_pads_never_change_the_pooled_vector(kind: str) -> None:
    layer, x, mask, _ = _case(kind)
    y = layer(x, mask)
    x2 = x.copy()
    x2[~mask] = 1e6  # huge values at pads would win a max or move a mean
    np.testing.assert_array_equal(layer(x2, mask), y)
    for i, n in enumerate(LENGTHS):  # each sequence alone, unpadded
        np.testing.assert_allclose(layer(x[i : i + 1, :n])[0], y[i], rtol=1e-15)


@pytest.mark.parametrize("kind", sorted(POOLS))
def test_pooling_matches_torch(kind: str, torch) -> None:
    layer, x, mask, R = _case(kind, seed=1)
    y, cache = layer.forward(x, mask)
    dx = layer.backward(R, cache)
    xt = torch.tensor(x, requires_grad=True)
    rows = []
    for i, n in enumerate(LENGTHS):
        steps = xt[i, :n]
        rows.append(steps.max(dim=0).values if kind == "max" else steps.mean(dim=0))
    yt = torch.stack(rows)
    (yt * torch.tensor(R)).sum().backward()
    check_against_torch({"y": (y, yt)}, {"x": (dx, xt.grad)})


def test_mean_pooling_matches_keras(keras) -> None:
    layer, x, mask, _ = _case("mean", seed=2)
    theirs = keras.layers.GlobalAveragePooling1D()(x.astype("float32"), mask=mask)
    # float32 on the Keras side: agreement to float32 rounding
    np.testing.assert_allclose(layer(x, mask), np.asarray(theirs), rtol=1e-6, atol=1e-7)


def test_pooled_classifier_trains_through_every_step() -> None:
    """Mean pooling sends gradient to every real step of every sequence."""
    from rnnkit.layers import Dense, Embedding, SimpleRNN
    from rnnkit.training import SequenceDataset

    model = Sequential(
        [
            Embedding(10, 4),
            SimpleRNN(5, return_sequences=True),
            GlobalAveragePooling1D(),
            Dense(1, "sigmoid"),
        ],
        seed=0,
        dtype="float64",
    )
    model.compile("sgd", "binary_crossentropy")
    data = SequenceDataset([np.array([1, 2, 3, 4]), np.array([5, 6])], np.array([1, 0]))
    model.zero_grad()
    model.train_batch(data.batch(np.array([0, 1])))
    touched = model.layers[0].sparse_rows["E"]
    assert touched.tolist() == [1, 2, 3, 4, 5, 6]
    assert np.abs(model.layers[0].grads["E"][[1, 2, 3, 4, 5, 6]]).min() > 0
