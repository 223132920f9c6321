"""``rnnkit export`` and ``rnnkit import``: the files, the round trip, the refusals."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from exported import BIO, SENTENCES, TAGS, UNSEEN, same_bits, tagger_batch
from rnnkit.io import load_model_dir
from rnnkit.models import Seq2Seq, SequenceTagger, load_model

pytestmark = pytest.mark.filterwarnings(
    # Keras 3's PyTorch-backend Variable.__array__ takes no `copy` argument, which
    # NumPy 2 reports as a DeprecationWarning whenever get_weights() converts one
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning"
)


@pytest.fixture(scope="module")
def tagger_dir(tmp_path_factory):
    model = SequenceTagger(
        hidden=4, embed_dim=4, epochs=1, verbose=0, char_features=False, crf=False
    ).fit(SENTENCES, TAGS)
    return model.save(tmp_path_factory.mktemp("tagger") / "model")


@pytest.fixture(scope="module")
def cnn_tagger_dir(tmp_path_factory):
    model = SequenceTagger(
        hidden=4, embed_dim=4, epochs=1, verbose=0, char_cell="cnn", char_dim=3, crf=False
    ).fit(SENTENCES, TAGS)
    return model.save(tmp_path_factory.mktemp("cnn_tagger") / "model")


def test_export_onnx_writes_a_file_onnx_runtime_runs(cli, tagger_dir, tmp_path) -> None:
    ort = pytest.importorskip("onnxruntime", reason="the onnx extra")
    r = cli("export", tagger_dir, "--format", "onnx", "--out", tmp_path / "m.onnx")
    assert r.code == 0 and "m.onnx" in r.out
    session = ort.InferenceSession(str(tmp_path / "m.onnx"))
    model = load_model(tagger_dir)
    ids = model.encode([["the", "film", "was", "good"]])[0][None].astype(np.int64)
    (p,) = session.run(None, {"ids": ids, "lengths": np.array([4])})
    np.testing.assert_allclose(
        p[0], model.predict_proba([["the", "film", "was", "good"]])[0], atol=1e-5
    )


@pytest.mark.parametrize(("fmt", "name"), [("torch", "m.safetensors"), ("keras", "m.keras")])
def test_export_then_import_gives_the_same_model(cli, tagger_dir, tmp_path, fmt, name) -> None:
    if fmt == "torch":
        pytest.importorskip("torch", reason="PyTorch (the bench extra, in test)")
    else:
        pytest.importorskip("keras", reason="Keras (the keras extra, in test)")
    assert cli("export", tagger_dir, "--format", fmt, "--out", tmp_path / name).code == 0
    r = cli("import", tmp_path / name, "--out", tmp_path / "back")
    assert r.code == 0, r.err
    before, after = load_model_dir(tagger_dir), load_model_dir(tmp_path / "back")
    assert before.vocab == after.vocab
    assert all(np.array_equal(after.weights[k], v) for k, v in before.weights.items())


@pytest.mark.parametrize(("fmt", "name"), [("onnx", "m.onnx"), ("torch", "m.safetensors"),
                                           ("keras", "m.keras")])  # fmt: skip
def test_a_tagger_with_a_character_cnn_leaves_in_every_format(
    cli, cnn_tagger_dir, tmp_path, fmt, name
) -> None:
    if fmt == "onnx":
        pytest.importorskip("onnx", reason="the onnx extra")
    elif fmt == "keras":
        pytest.importorskip("keras", reason="Keras (the keras extra, in test)")
    r = cli("export", cnn_tagger_dir, "--format", fmt, "--out", tmp_path / name)
    assert r.code == 0 and name in r.out, r.err
    if fmt != "onnx":  # the weights come back bit for bit
        assert cli("import", tmp_path / name, "--out", tmp_path / "back").code == 0
        same_bits(cnn_tagger_dir, tmp_path / "back")


def test_a_seq2seq_model_leaves_as_two_onnx_graphs_and_no_other_file(cli, user_error, tmp_path):
    pytest.importorskip("onnx", reason="the onnx extra")
    words = [list("ab"), list("ba")] * 4
    Seq2Seq(hidden=4, embed_dim=4, epochs=1, verbose=0).fit(words, words).save(tmp_path / "m")
    r = cli("export", tmp_path / "m", "--format", "onnx", "--out", tmp_path / "m.onnx")
    assert r.code == 0 and r.out.count("wrote") == 2
    assert (tmp_path / "m.encoder.onnx").is_file() and (tmp_path / "m.decoder.onnx").is_file()
    r = cli("export", tmp_path / "m", "--format", "keras", "--out", tmp_path / "m.keras")
    assert user_error(r).startswith("error: cannot export to Keras: a seq2seq model")


def test_without_the_extra_the_command_names_it(cli, user_error, tagger_dir, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)  # import onnx now raises ImportError
    r = cli("export", tagger_dir, "--format", "onnx", "--out", tmp_path / "m.onnx")
    assert user_error(r) == "error: onnx is not installed: pip install 'rnnkit[onnx]'"


def test_import_refuses_a_file_it_does_not_read(cli, user_error, tmp_path) -> None:
    (tmp_path / "m.onnx").write_bytes(b"")
    r = cli("import", tmp_path / "m.onnx", "--out", tmp_path / "back")
    assert "give a .safetensors (PyTorch) or .keras file" in user_error(r)


@pytest.mark.parametrize("chars", [(), ("--char-cell", "cnn")], ids=["default", "cnn"])
def test_the_default_tagger_leaves_for_pytorch_and_comes_back(
    cli, user_error, tmp_path, chars
) -> None:
    """``rnnkit train --task tag`` with its defaults (character features, a CRF for BIO
    tags, here learnt as IOBES), only smaller, and with the character CNN: to PyTorch
    and back; Keras refuses its CRF."""
    torch = pytest.importorskip("torch", reason="PyTorch (the bench extra, in test)")
    from rnnkit.exchange import torch_module

    sentences = [list(zip(w, t, strict=True)) for w, t in zip(SENTENCES, BIO, strict=True)]
    text = "\n\n".join("\n".join(f"{w}\t{t}" for w, t in s) for s in sentences)
    (tmp_path / "train.conll").write_text(text + "\n")
    out = tmp_path / "m"
    tiny = ("--hidden", "8", "--embed", "8", "--epochs", "1", "--iobes", *chars)
    r = cli("train", "--task", "tag", "--data", tmp_path / "train.conll", "--out", out, *tiny)
    assert r.code == 0, r.err
    r = cli("export", out, "--format", "torch", "--out", tmp_path / "m.safetensors")
    assert r.code == 0, r.err
    model = load_model(out)
    net, meta = torch_module.load(str(tmp_path / "m.safetensors"))
    assert net.spec["char_features"] is not None and net.spec["crf"]
    assert meta["vocab"]["given_scheme"] == "BIO"
    x, lengths = tagger_batch(model, UNSEEN)
    with torch.no_grad():
        emissions = net(torch.from_numpy(x), torch.from_numpy(lengths)).numpy()
    np.testing.assert_allclose(emissions, model.model_.predict(model.encode(UNSEEN)), atol=1e-5)
    r = cli("import", tmp_path / "m.safetensors", "--out", tmp_path / "back")
    assert r.code == 0, r.err
    assert load_model_dir(tmp_path / "back").vocab == load_model_dir(out).vocab
    assert load_model(tmp_path / "back").predict(UNSEEN) == model.predict(UNSEEN)
    r = cli("export", out, "--format", "keras", "--out", tmp_path / "m.keras")
    assert user_error(r) == "error: cannot export to Keras: layer CRF has no counterpart there"
