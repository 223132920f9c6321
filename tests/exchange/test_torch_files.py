"""PyTorch files: the exported state_dict in the module of rnnkit.exchange.torch_module
gives rnnkit's outputs on padded batches, and ``import`` gives back the same bits.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from exported import CASES, SENTENCES, padded
from rnnkit.errors import ConfigError, ModelFileError
from rnnkit.exchange import export_torch, import_torch
from rnnkit.exchange.stack import stack_of
from rnnkit.exchange.torch_files import torch_state_dict
from rnnkit.io import load_model_dir, load_weights, read_weights_metadata, save_weights
from rnnkit.layers import GRU, Dense, Embedding
from rnnkit.metrics.schemes import iobes_to_bio
from rnnkit.models import SequenceTagger, Sequential

torch = pytest.importorskip("torch", reason="PyTorch (the bench extra, in test)")

from rnnkit.exchange import torch_module  # noqa: E402  (it imports torch)

# NOTE: float32 on both sides, summed in different orders (and PyTorch's packed
# sequences): a few units in the last place on outputs of order 1.
ATOL = 1e-5


def _outputs(net, x: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return net(torch.from_numpy(x), torch.from_numpy(lengths)).numpy()


@pytest.mark.parametrize(("task", "cell", "bidirectional", "layers"), CASES)
def test_pytorch_gives_rnnkits_outputs_and_import_the_same_bits(
    trained, tmp_path, task, cell, bidirectional, layers
) -> None:
    t = trained(task, cell, bidirectional, layers)
    path = export_torch(t.path, tmp_path / "model.safetensors")
    net, info = torch_module.load(str(path))
    assert info["task"] == t.model.task
    np.testing.assert_allclose(_outputs(net, t.x, t.lengths), t.expected, rtol=0, atol=ATOL)
    before = load_model_dir(t.path).weights
    after = load_model_dir(import_torch(path, tmp_path / "back")).weights
    assert sorted(after) == sorted(before)
    for name, value in before.items():
        assert after[name].dtype == value.dtype and after[name].tobytes() == value.tobytes(), name


def test_state_dict_names_are_pytorchs(trained, tmp_path) -> None:
    t = trained("tag", "lstm", True, 2)
    path = export_torch(t.path, tmp_path / "model.safetensors")
    names = set(load_weights(path))
    assert {
        "embedding.weight",
        "rnn.weight_ih_l1_reverse",
        "rnn.bias_hh_l0",
        "linear.weight",
    } <= names
    reference = torch.nn.LSTM(4, 4, num_layers=2, bidirectional=True, batch_first=True)
    assert {f"rnn.{k}" for k in reference.state_dict()} == {
        n for n in names if n.startswith("rnn.")
    }


#: BIO tags: the CRF's scheme forbids O then I-X
BIO = [["B-X", "I-X", "O", "O"], ["B-X", "I-X", "O", "O", "B-Y"], ["O"]] * 3


def test_a_crf_taggers_transitions_decode_in_pytorch_crf(tmp_path) -> None:
    model = SequenceTagger(
        hidden=4, embed_dim=4, epochs=1, verbose=0, char_features=False, crf=True
    ).fit(SENTENCES, BIO)
    model.save(tmp_path / "m")
    path = export_torch(tmp_path / "m", tmp_path / "m.safetensors")
    net, _ = torch_module.load(str(path))
    x, lengths = padded(model.encode(SENTENCES[:3]), "ids")
    expected = model.model_.predict(model.encode(SENTENCES[:3]))
    emissions = _outputs(net, x, lengths)
    np.testing.assert_allclose(emissions, expected, atol=ATOL)
    torchcrf = pytest.importorskip("torchcrf", reason="pytorch-crf (in the test extra)")
    crf = torchcrf.CRF(len(model.labels_), batch_first=True)
    transitions, start, end = net.crf.constrained()
    assert torch.isneginf(transitions).any()  # O then I-X
    crf.load_state_dict(
        {"transitions": transitions, "start_transitions": start, "end_transitions": end}
    )
    mask = torch.from_numpy(np.arange(x.shape[1]) < lengths[:, None])
    with torch.no_grad():
        paths = crf.decode(torch.from_numpy(emissions), mask=mask)
    # the labels are IOBES (BIO tags are learnt so), predict gives BIO back
    assert [list(p) for p in model.predict_ids(SENTENCES[:3])] == paths
    assert [iobes_to_bio([model.labels_[k] for k in p]) for p in paths] == model.predict(
        SENTENCES[:3]
    )


def test_import_refuses_a_file_without_the_rnnkit_metadata(tmp_path) -> None:
    save_weights(tmp_path / "w.safetensors", {"linear.weight": np.zeros((2, 2))})
    with pytest.raises(ModelFileError, match="no 'rnnkit' metadata"):
        import_torch(tmp_path / "w.safetensors", tmp_path / "out")


def test_import_names_a_tensor_of_the_wrong_shape(trained, tmp_path) -> None:
    t = trained("classify", "gru", False, 1)
    path = export_torch(t.path, tmp_path / "m.safetensors")
    weights = load_weights(path)
    weights["linear.bias"] = np.zeros(7, dtype=np.float32)
    save_weights(tmp_path / "bad.safetensors", weights, metadata=read_weights_metadata(path))
    with pytest.raises(ModelFileError, match=r"linear.bias is float32 \(7,\)"):
        import_torch(tmp_path / "bad.safetensors", tmp_path / "out")


def test_import_refuses_a_size_larger_than_any_tensor_before_building(trained, tmp_path) -> None:
    t = trained("classify", "rnn", False, 1)
    path = export_torch(t.path, tmp_path / "m.safetensors")
    metadata = read_weights_metadata(path)
    meta = json.loads(metadata["rnnkit"])
    meta["config"]["architecture"]["layers"][1]["config"]["units"] = 2**40
    metadata["rnnkit"] = json.dumps(meta)
    save_weights(tmp_path / "huge.safetensors", load_weights(path), metadata=metadata)
    with pytest.raises(ModelFileError, match=r"units=1099511627776: no tensor in the file is"):
        import_torch(tmp_path / "huge.safetensors", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_gru_without_reset_after_is_refused(tmp_path) -> None:

    net = Sequential([Embedding(5, 3), GRU(2, reset_after=False), Dense(2, "softmax")], seed=0)
    with pytest.raises(ConfigError, match="reset_after=False"):
        torch_state_dict(stack_of(net, "PyTorch"))
