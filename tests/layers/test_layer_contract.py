"""The layer protocol (DESIGN §2), checked on every class in ``rnnkit.layers.LAYERS``.

Each layer gets one example: a constructor call and the input it is built for. A layer
added to LAYERS without an example here fails :func:`test_every_layer_has_an_example`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import rnnkit
from rnnkit.layers import (
    CRF,
    GRU,
    LAYERS,
    LSTM,
    Bidirectional,
    CharCNN,
    CharEncoder,
    Dense,
    Dropout,
    Embedding,
    GlobalAveragePooling1D,
    GlobalMaxPooling1D,
    Layer,
    OneHot,
    SimpleRNN,
    Spec,
    TimeDistributed,
    WordCharEmbedding,
)

B, T = 3, 4
MASK = np.arange(T)[None, :] < np.array([4, 1, 3])[:, None]  # (B, T)

#: class name -> (a layer of that class for a dtype, the spec of its input)
EXAMPLES: dict[str, tuple[Callable[..., Layer], Spec]] = {
    "Dense": (lambda **kw: Dense(4, "tanh", **kw), Spec("features", 3)),
    # NOTE: a loss layer: forward passes the emissions through and backward passes dy
    # back; its own gradients come from CRF.loss (tests/layers/test_crf.py)
    "CRF": (lambda **kw: CRF(tags=["O", "B-X", "I-X"], scheme="BIO", **kw), Spec("features", 3)),
    "Dropout": (lambda **kw: Dropout(0.5, **kw), Spec("features", 3)),
    "Embedding": (lambda **kw: Embedding(6, 4, **kw), Spec("ids", 6)),
    "GlobalAveragePooling1D": (lambda **kw: GlobalAveragePooling1D(**kw), Spec("features", 3)),
    "GlobalMaxPooling1D": (lambda **kw: GlobalMaxPooling1D(**kw), Spec("features", 3)),
    "OneHot": (lambda **kw: OneHot(6, **kw), Spec("ids", 6)),
    "SimpleRNN": (lambda **kw: SimpleRNN(4, return_sequences=True, **kw), Spec("features", 3)),
    "LSTM": (lambda **kw: LSTM(4, return_sequences=True, **kw), Spec("features", 3)),
    "GRU": (lambda **kw: GRU(4, return_sequences=True, **kw), Spec("features", 3)),
    "Bidirectional": (
        lambda **kw: Bidirectional(SimpleRNN(4, return_sequences=True), **kw),
        Spec("features", 3),
    ),
    "TimeDistributed": (lambda **kw: TimeDistributed(Dense(4, "tanh"), **kw), Spec("features", 3)),
    "CharEncoder": (lambda **kw: CharEncoder(7, 3, 4, **kw), Spec("ids", 7)),
    "CharCNN": (lambda **kw: CharCNN(7, 3, 5, **kw), Spec("ids", 7)),
    "WordCharEmbedding": (
        lambda **kw: WordCharEmbedding(Embedding(6, 4), CharEncoder(7, 3, 2), **kw),
        Spec("ids", 6),
    ),
}
#: layers whose ids have a third axis: the characters of each word, (B, T, L)
CHARACTER_IDS = {"CharCNN", "CharEncoder", "WordCharEmbedding"}
NAMES = sorted(LAYERS)


def _built(name: str, seed: int = 0, **kw: Any) -> Layer:
    make, spec = EXAMPLES[name]
    layer = make(**kw)
    layer.build(spec, np.random.default_rng(seed))
    return layer


def _inputs(layer: Layer, dtype: str = "float32", seed: int = 1) -> np.ndarray:
    spec = layer.input_spec
    assert spec is not None
    rng = np.random.default_rng(seed)
    lead = (B, T) if spec.time else (B,)
    if type(layer).__name__ in CHARACTER_IDS:  # 1 to 5 characters a word, 0 = <pad> after
        L = 5
        n = rng.integers(1, L + 1, size=lead)
        chars = rng.integers(1, 7, size=(*lead, L))  # 7: the examples' characters
        chars = np.where(np.arange(L) < n[..., None], chars, 0)
        if type(layer).__name__ == "WordCharEmbedding":  # each word's id, then its characters
            return np.concatenate([rng.integers(0, spec.size, size=(*lead, 1)), chars], axis=-1)
        return chars
    if spec.kind == "ids":
        return rng.integers(0, spec.size, size=lead)
    return rng.normal(size=(*lead, spec.size)).astype(dtype)


def test_every_layer_has_an_example():
    assert set(EXAMPLES) == set(LAYERS)
    for name, cls in LAYERS.items():
        assert cls.__name__ == name and issubclass(cls, Layer)
        assert type(EXAMPLES[name][0]()) is cls


@pytest.mark.parametrize("name", NAMES)
def test_output_shape_matches_output_spec(name):
    layer = _built(name)
    spec = layer.output_spec
    x = _inputs(layer)
    for mask in (None, MASK):
        for training in (False, True):
            y = layer(x, mask=mask, training=training)
            want = tuple(
                B if i == 0 else T if spec.time and i == 1 else size
                for i, size in enumerate(spec.shape())
            )
            assert y.shape == want, f"{name}: output {y.shape}, spec {spec}"


@pytest.mark.parametrize("name", NAMES)
def test_backward_gives_gradients_of_the_right_shapes(name):
    layer = _built(name)
    x = _inputs(layer)
    y, cache = layer.forward(x, mask=MASK, training=True)
    dy = np.ones_like(y, dtype=np.float32)
    dy_copy = dy.copy()
    dx = layer.backward(dy, cache)
    np.testing.assert_array_equal(dy, dy_copy, err_msg="backward changed its dy")
    if layer.input_spec.kind == "ids":
        assert dx is None
    else:
        assert dx.shape == x.shape
    assert list(layer.grads) == list(layer.params)
    for k, g in layer.grads.items():
        assert g.shape == layer.params[k].shape and g.dtype == layer.params[k].dtype, k


@pytest.mark.parametrize("name", NAMES)
def test_count_params_is_the_sum_of_sizes(name):
    layer = _built(name)
    assert layer.count_params() == sum(p.size for p in layer.params.values())
    assert layer.count_params() == sum(w.size for w in layer.get_weights())
    if name in ("Dense", "Embedding", "SimpleRNN"):
        assert layer.count_params() > 0


@pytest.mark.parametrize("name", NAMES)
def test_config_round_trip_rebuilds_the_same_layer(name):
    layer = _built(name, seed=3)
    config = layer.get_config()
    assert json.loads(json.dumps(config)) == config, "get_config must be JSON-able"
    twin = type(layer)(**config)
    assert twin.get_config() == config
    twin.build(layer.input_spec, np.random.default_rng(3))
    assert twin.output_spec == layer.output_spec
    assert list(twin.params) == list(layer.params)
    for a, b in zip(twin.get_weights(), layer.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", NAMES)
def test_forward_does_not_change_its_input(name):
    layer = _built(name)
    x = _inputs(layer)
    x_copy, mask_copy = x.copy(), MASK.copy()
    for training in (False, True):
        layer.forward(x, mask=MASK, training=training)
        np.testing.assert_array_equal(x, x_copy)
        np.testing.assert_array_equal(MASK, mask_copy)


@pytest.mark.parametrize("name", NAMES)
def test_same_seed_same_layer(name):
    a, b = _built(name, seed=5), _built(name, seed=5)
    for wa, wb in zip(a.get_weights(), b.get_weights(), strict=True):
        np.testing.assert_array_equal(wa, wb)
    x = _inputs(a)
    # dropout's masks too come from the seed
    np.testing.assert_array_equal(a(x, training=True), b(x, training=True))
    if a.params:
        c = _built(name, seed=6)
        pairs = zip(a.get_weights(), c.get_weights(), strict=True)
        assert any(not np.array_equal(u, v) for u, v in pairs), "the seed is not used"


@pytest.mark.parametrize("dtype", [None, "float32", "float64"])
@pytest.mark.parametrize("name", NAMES)
def test_float32_by_default_float64_on_request(name, dtype):
    layer = _built(name) if dtype is None else _built(name, dtype=dtype)
    want = np.dtype(dtype or "float32")
    assert layer.dtype == want
    for k, p in layer.params.items():
        assert p.dtype == want, f"{name}.{k} is {p.dtype}"
    y = layer(_inputs(layer, dtype=want.name), mask=MASK, training=True)
    if layer.output_spec.kind == "features":
        assert y.dtype == want, f"{name} outputs {y.dtype}"


@pytest.mark.parametrize("name", NAMES)
def test_get_weights_returns_copies(name):
    layer = _built(name)
    before = [p.copy() for p in layer.params.values()]
    weights = layer.get_weights()
    for w, p in zip(weights, layer.params.values(), strict=True):
        assert not np.shares_memory(w, p)
        w += 1.0
    for b, p in zip(before, layer.params.values(), strict=True):
        np.testing.assert_array_equal(p, b)


@pytest.mark.parametrize("name", NAMES)
def test_cache_is_returned_not_kept(name):
    """Backward follows the cache it is given, whatever ran in between."""
    layer = _built(name)
    x1, x2 = _inputs(layer, seed=1), _inputs(layer, seed=2)
    y1, cache1 = layer.forward(x1, mask=MASK)
    dy = np.random.default_rng(3).normal(size=y1.shape).astype(np.float32)
    dx_alone = layer.backward(dy, cache1)
    grads_alone = {k: g.copy() for k, g in layer.grads.items()}
    layer.zero_grad()
    _, cache1 = layer.forward(x1, mask=MASK)
    layer.forward(x2, mask=None)  # a second forward pass must not disturb the first
    dx = layer.backward(dy, cache1)
    if dx_alone is None:
        assert dx is None
    else:
        np.testing.assert_array_equal(dx, dx_alone)
    for k, g in layer.grads.items():
        np.testing.assert_array_equal(g, grads_alone[k], err_msg=k)


# -- the package's public names ---------------------------------------------------------


def _isort_key(name: str) -> tuple[int, str]:
    """ruff's RUF022 order: CONSTANTS, then Classes, then everything else."""
    if re.fullmatch(r"[A-Z][A-Z0-9_]*", name):
        return (0, name)
    if name[0].isupper():
        return (1, name)
    return (2, name)


def test_package_all_is_sorted_unique_and_importable():
    names = rnnkit.__all__
    assert len(set(names)) == len(names), "rnnkit.__all__ repeats a name"
    assert names == sorted(names, key=_isort_key), "rnnkit.__all__ is not sorted"
    namespace: dict[str, Any] = {}
    exec("from rnnkit import *", namespace)
    assert set(namespace) - {"__builtins__"} == set(names)
    assert set(LAYERS) <= set(names), "every layer is public"
