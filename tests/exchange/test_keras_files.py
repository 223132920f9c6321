"""Keras files: ``keras.saving.load_model`` opens the exported file (Keras 3, torch
backend) and gives rnnkit's outputs on the real steps of padded batches; ``import``
gives back the same bits. At padded steps Keras differs, as documented in
rnnkit.exchange.keras_files: tested here for what it gives.
"""

from __future__ import annotations

import numpy as np
import pytest

from exported import CASES, POOLING, SENTENCES, TAGS, UNSEEN, char_tagger, same_bits, tagger_batch
from rnnkit.errors import ConfigError
from rnnkit.exchange import export_keras, import_keras
from rnnkit.io import load_model_dir
from rnnkit.models import SequenceTagger, load_model

pytestmark = pytest.mark.filterwarnings(
    # Keras 3's PyTorch-backend Variable.__array__ takes no `copy` argument, which
    # NumPy 2 reports as a DeprecationWarning whenever get_weights() converts one
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning",
    # GlobalMaxPooling1D drops the mask (why that is exact here: keras_files' docstring)
    "ignore:Layer 'global_max_pooling1d' .* does not support masking:UserWarning",
)

# NOTE: float32 on both sides, summed in different orders.
ATOL = 1e-5


def _refused(task: str, cell: str, bidirectional: bool) -> bool:
    """Max pooling after a bidirectional layer: Keras's pooling would see its zero pads."""
    pooled = task in ("classify", "frames-classify", "regress")
    return pooled and POOLING[cell] == "max" and bidirectional


def _real_steps(x: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Per-step outputs with the pad steps set to zero (rnnkit's convention)."""
    if x.ndim < 3:
        return x
    return x * (np.arange(x.shape[1])[None, :, None] < lengths[:, None, None])


#: the round trips through a file and back, a subset of CASES (Keras loads slowly):
#: ids and frames, every cell and direction, stacked
ROUND_TRIPS = [
    pytest.param(task, cell, bi, 2, id=f"{task}-{cell}-{'bi' if bi else 'uni'}-2")
    for task in ("tag", "frames-classify")
    for cell in ("rnn", "lstm", "gru")
    for bi in (False, True)
    if not _refused(task, cell, bi)
]


@pytest.mark.slow  # a Keras model built, saved and loaded for each of ~80 cases
@pytest.mark.parametrize(("task", "cell", "bidirectional", "layers"), CASES)
def test_keras_gives_rnnkits_outputs(
    keras, trained, tmp_path, task, cell, bidirectional, layers
) -> None:
    t = trained(task, cell, bidirectional, layers)
    path = tmp_path / "model.keras"
    if _refused(task, cell, bidirectional):
        with pytest.raises(ConfigError, match=r"^cannot export to Keras: max pooling after a bi"):
            export_keras(t.path, path)
        return
    export_keras(t.path, path)
    net = keras.saving.load_model(path)
    got = keras.ops.convert_to_numpy(net(t.x))
    np.testing.assert_allclose(_real_steps(got, t.lengths), t.expected, rtol=0, atol=ATOL)


@pytest.mark.parametrize(("task", "cell", "bidirectional", "layers"), ROUND_TRIPS)
def test_import_gives_back_the_same_bits(trained, tmp_path, task, cell, bidirectional, layers):
    t = trained(task, cell, bidirectional, layers)
    path = export_keras(t.path, tmp_path / "model.keras")
    same_bits(t.path, import_keras(path, tmp_path / "back"))


@pytest.mark.parametrize("bidirectional", [False, True])
def test_keras_masked_steps_carry_one_way_and_are_zero_both_ways(
    keras, trained, tmp_path, bidirectional
) -> None:
    t = trained("tag", "lstm", bidirectional, 1)
    export_keras(t.path, tmp_path / "m.keras")
    net = keras.saving.load_model(tmp_path / "m.keras")
    first = next(l for l in t.model.model_.layers if type(l).__name__ in ("LSTM", "Bidirectional"))
    rnn = net.get_layer(first.name)
    h = keras.ops.convert_to_numpy(keras.Model(net.input, rnn.output)(t.x))  # (B, T, D d)
    short = int(np.argmin(t.lengths))
    n = int(t.lengths[short])
    pads = h[short, n:]
    assert pads.size and np.abs(h[short, :n]).min() > 0
    if bidirectional:  # zeros at pads, as rnnkit and ONNX Runtime write
        np.testing.assert_array_equal(pads, 0.0)
    else:  # the last real output, carried on
        np.testing.assert_array_equal(pads, np.broadcast_to(h[short, n - 1], pads.shape))


@pytest.mark.parametrize("char_cell", ["rnn", "lstm", "gru", "cnn"])
def test_a_tagger_with_characters_in_keras_and_back(keras, tmp_path, char_cell) -> None:
    model = char_tagger(tmp_path / "m", char_cell, crf=False)
    path = export_keras(tmp_path / "m", tmp_path / "m.keras")
    net = keras.saving.load_model(path)
    x, lengths = tagger_batch(model, UNSEEN)  # (B, T, 1 + L), mixed words and sentences
    x[0, 1, 1:] = 0  # a real word of no characters: zero features, as in rnnkit
    expected = model.model_.predict([x[i, :n] for i, n in enumerate(lengths)])
    got = keras.ops.convert_to_numpy(net({"ids": x[:, :, 0], "chars": x[:, :, 1:]}))
    np.testing.assert_allclose(_real_steps(got, lengths), expected, rtol=0, atol=ATOL)
    back = import_keras(path, tmp_path / "back")
    same_bits(tmp_path / "m", back)
    assert load_model_dir(back).vocab["given_scheme"] == "BIO"
    assert load_model(back).predict(UNSEEN) == model.predict(UNSEEN)


def test_a_crf_is_refused_in_one_line(tmp_path) -> None:
    SequenceTagger(hidden=4, embed_dim=4, epochs=1, verbose=0, char_features=False, crf=True).fit(
        SENTENCES, TAGS
    ).save(tmp_path / "m")
    with pytest.raises(ConfigError, match=r"^cannot export to Keras: layer CRF has no counterpart"):
        export_keras(tmp_path / "m", tmp_path / "m.keras")


def test_the_file_name_must_end_in_keras(trained, tmp_path) -> None:
    t = trained("classify", "rnn", False, 1)
    with pytest.raises(ConfigError, match=r"must end in \.keras"):
        export_keras(t.path, tmp_path / "model.h5")
