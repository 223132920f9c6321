"""PyTorch files: the exported state_dict in the module of rnnkit.exchange.torch_module
gives rnnkit's outputs on padded batches, and ``import`` gives back the same bits.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from exported import BIO, CASES, SENTENCES, UNSEEN, char_tagger, padded, same_bits, tagger_batch
from rnnkit.errors import ConfigError, ModelFileError
from rnnkit.exchange import export_torch, import_torch
from rnnkit.exchange.stack import stack_of
from rnnkit.exchange.torch_files import torch_state_dict
from rnnkit.io import load_model_dir, load_weights, read_weights_metadata, save_weights
from rnnkit.layers import GRU, Dense, Embedding
from rnnkit.metrics.schemes import iobes_to_bio
from rnnkit.models import SequenceTagger, Sequential, load_model

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
    same_bits(t.path, import_torch(path, tmp_path / "back"))


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
    assert torch.isneginf(net.crf.constrained()[0]).any()  # O then I-X
    paths = _decode(emissions, lengths, net.crf)
    # the BIO tags were learnt as IOBES (vocab.json's given_scheme): BIO comes back
    tags = [iobes_to_bio([model.labels_[k] for k in p]) for p in paths]
    assert tags == model.predict(SENTENCES[:3])
    assert [list(p) for p in model.predict_ids(SENTENCES[:3])] == paths


def _decode(emissions, lengths: np.ndarray, crf) -> list[list[int]]:
    """pytorch-crf's Viterbi on the exported scores (-inf where the scheme forbids)."""
    torchcrf = pytest.importorskip("torchcrf", reason="pytorch-crf (in the test extra)")
    decoder = torchcrf.CRF(emissions.shape[-1], batch_first=True)
    transitions, start, end = crf.constrained()
    decoder.load_state_dict(
        {"transitions": transitions, "start_transitions": start, "end_transitions": end}
    )
    mask = torch.from_numpy(np.arange(emissions.shape[1]) < lengths[:, None])
    with torch.no_grad():
        return decoder.decode(torch.from_numpy(emissions), mask=mask)


@pytest.mark.parametrize("char_cell", ["rnn", "lstm", "gru", "cnn"])
@pytest.mark.parametrize("crf", [False, True])
def test_a_tagger_with_characters_in_pytorch_and_back(tmp_path, char_cell, crf) -> None:
    model = char_tagger(tmp_path / "m", char_cell, crf=crf)
    path = export_torch(tmp_path / "m", tmp_path / "m.safetensors")
    weights = load_weights(path)
    if char_cell == "cnn":  # W (k, c, F) as nn.Conv1d's (F, c, k)
        W = model.model_.layers[0].chars.params["W"]
        np.testing.assert_array_equal(weights["char_conv.weight"], W.transpose(2, 1, 0))
        assert {"char_embedding.weight", "char_conv.bias"} <= set(weights)
    else:
        assert {"char_embedding.weight", "char_rnn.weight_hh_l0_reverse"} <= set(weights)
    net, info = torch_module.load(str(path))
    assert info["vocab"]["given_scheme"] == "BIO"  # the labels are IOBES
    x, lengths = tagger_batch(model, UNSEEN)  # (B, T, 1 + L), mixed words and sentences
    outputs = _outputs(net, x, lengths)
    np.testing.assert_allclose(outputs, model.model_.predict(model.encode(UNSEEN)), atol=ATOL)
    if crf:  # the BIO tags were learnt as IOBES: BIO comes back
        paths = _decode(outputs, lengths, net.crf)
        tags = [iobes_to_bio([model.labels_[k] for k in p]) for p in paths]
        assert tags == model.predict(UNSEEN)
    x[0, 1, 1:] = 0  # a real word of no characters: zero features, as in rnnkit
    expected = model.model_.predict([x[i, :n] for i, n in enumerate(lengths)])
    np.testing.assert_allclose(_outputs(net, x, lengths), expected, rtol=0, atol=ATOL)
    back = import_torch(path, tmp_path / "back")
    same_bits(tmp_path / "m", back)
    assert load_model_dir(back).vocab["given_scheme"] == "BIO"
    assert load_model(back).predict(UNSEEN) == model.predict(UNSEEN)


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
