"""The inputs the grid of the other tests leaves out: one-hot ids (the lecture's
network) and float64 models, through each of the three files.

A float64 model leaves ONNX as float32, compared at 1e-5; PyTorch and Keras files
keep float64, and the round trip keeps every bit.
"""

from __future__ import annotations

import numpy as np
import pytest

from exported import LABELS, TEXTS, frames, padded, same_bits
from rnnkit.exchange import (
    export_keras,
    export_torch,
    import_keras,
    import_torch,
    onnx_model,
    portable,
)
from rnnkit.models import FrameRegressor, SequenceClassifier

pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning"
)
ATOL = 1e-5  # float32 on at least one side


@pytest.fixture(scope="module")
def one_hot(tmp_path_factory):
    """The lecture's network: one-hot ids, a SimpleRNN, a sigmoid."""
    model = SequenceClassifier(hidden=3, one_hot=True, min_freq=1, epochs=1, verbose=0)
    model.fit(TEXTS, LABELS)
    x, lengths = padded(model.encode(TEXTS[:4]), "ids")
    path = model.save(tmp_path_factory.mktemp("one_hot") / "m")
    return path, x, lengths, model.model_.predict(model.encode(TEXTS[:4]))


@pytest.fixture(scope="module")
def float64(tmp_path_factory):
    """A float64 regressor over frames, one value per frame."""
    xs = frames()
    model = FrameRegressor(hidden=4, cell="lstm", epochs=1, verbose=0, dtype="float64")
    model.fit(xs, [x.sum(axis=1) for x in xs])
    _, lengths = padded(xs[:4], "frames")
    x = np.zeros((4, lengths.max(), 3))  # float64: the frames exactly as rnnkit read them
    for i, frames_i in enumerate(xs[:4]):
        x[i, : len(frames_i)] = frames_i
    out = model.target_scaler_.inverse(model.model_.predict(model._frames(xs[:4])))
    out *= np.arange(out.shape[1])[None, :, None] < lengths[:, None, None]
    return model.save(tmp_path_factory.mktemp("f64") / "m"), x, lengths, out


@pytest.mark.parametrize("case", ["one_hot", "float64"])
def test_onnx(request, case) -> None:
    ort = pytest.importorskip("onnxruntime", reason="the onnx extra")
    path, x, lengths, expected = request.getfixturevalue(case)
    session = ort.InferenceSession(onnx_model(portable(path, "ONNX")).SerializeToString())
    first = "ids" if case == "one_hot" else "frames"
    (got,) = session.run(
        None, {first: x.astype(np.float32) if case == "float64" else x, "lengths": lengths}
    )
    np.testing.assert_allclose(got, expected, rtol=0, atol=ATOL)


@pytest.mark.parametrize("case", ["one_hot", "float64"])
def test_pytorch(request, tmp_path, case) -> None:
    torch = pytest.importorskip("torch", reason="PyTorch (the torch extra)")
    from rnnkit.exchange import torch_module

    path, x, lengths, expected = request.getfixturevalue(case)
    net, _ = torch_module.load(str(export_torch(path, tmp_path / "m.safetensors")))
    with torch.no_grad():
        got = net(torch.from_numpy(x), torch.from_numpy(lengths)).numpy()  # fmt: skip
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12 if case == "float64" else ATOL)
    same_bits(path, import_torch(tmp_path / "m.safetensors", tmp_path / "back"))


@pytest.mark.parametrize("case", ["one_hot", "float64"])
def test_keras(request, keras, tmp_path, case) -> None:
    path, x, lengths, expected = request.getfixturevalue(case)
    net = keras.saving.load_model(export_keras(path, tmp_path / "m.keras"))
    got = keras.ops.convert_to_numpy(net(x))
    if got.ndim == 3:  # Keras carries the last output through the pads
        got = got * (np.arange(got.shape[1])[None, :, None] < lengths[:, None, None])
    # NOTE: Keras's float64 recurrent layers agree with rnnkit's to about 2e-7, not to
    # float64 precision as PyTorch's do (measured on each cell's layer outputs alone:
    # some of Keras's recurrent arithmetic runs in float32), so ATOL here too
    np.testing.assert_allclose(got, expected, rtol=0, atol=ATOL)
    same_bits(path, import_keras(tmp_path / "m.keras", tmp_path / "back"))
