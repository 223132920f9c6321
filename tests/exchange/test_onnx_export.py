"""ONNX export, run in ONNX Runtime: rnnkit's outputs to 1e-5 on padded batches.

Every cell, one direction and both, one and two layers, every one-pass task; the
batches mix lengths, so ``sequence_lens`` and the masks of pooling and per-step
outputs are all exercised. The vocabulary and labels travel in the metadata.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from exported import CASES, UNSEEN, char_tagger, tagger_batch
from rnnkit.exchange import export_onnx, onnx_model, portable
from rnnkit.metrics import tag_scheme
from rnnkit.metrics.schemes import iobes_to_bio

onnx = pytest.importorskip("onnx", reason="the onnx extra (pip install 'rnnkit[onnx]')")
ort = pytest.importorskip("onnxruntime", reason="the onnx extra (pip install 'rnnkit[onnx]')")

# NOTE: both sides compute in float32 and add in different orders: a few units in the
# last place, about 1e-7 on outputs of order 1 (1e-5 is the target, with room).
ATOL = 1e-5


def _session(proto) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.log_severity_level = 3
    return ort.InferenceSession(proto.SerializeToString(), options)


@pytest.mark.parametrize(("task", "cell", "bidirectional", "layers"), CASES)
def test_onnx_runtime_gives_rnnkits_outputs(trained, task, cell, bidirectional, layers) -> None:
    t = trained(task, cell, bidirectional, layers)
    session = _session(onnx_model(portable(t.path, "ONNX")))
    (got,) = session.run(None, {t.inputs: t.x, "lengths": t.lengths})
    assert got.shape == t.expected.shape
    np.testing.assert_allclose(got, t.expected, rtol=0, atol=ATOL)


def test_the_file_runs_without_rnnkit_from_its_metadata(trained, tmp_path) -> None:
    t = trained("classify", "gru", True, 1)
    (path,) = export_onnx(t.path, tmp_path / "model.onnx")
    proto = onnx.load(str(path))
    meta = json.loads({p.key: p.value for p in proto.metadata_props}["rnnkit"])
    tokens = meta["vocab"]["tokens"]["tokens"]
    assert meta["vocab"]["labels"] == ["neg", "pos"] and meta["tokenizer"]["lower"] is True
    ids = np.array([[tokens.index(w) for w in "movie was good".split()]], dtype=np.int64)
    (p,) = _session(proto).run(None, {"ids": ids, "lengths": np.array([3])})
    np.testing.assert_allclose(p, t.model.predict_proba(["movie was good"])[:, 1:], atol=ATOL)
    names = [o.name for o in proto.graph.output]
    dims = [d.dim_param for d in proto.graph.input[0].type.tensor_type.shape.dim]
    assert names == ["probabilities"] and dims == ["batch", "time"]


def _viterbi(emissions: np.ndarray, A: np.ndarray, start: np.ndarray, end: np.ndarray) -> list:
    """The best path of one sentence's (T, K) scores: what a user runs on the outputs."""
    score, back = start + emissions[0], []
    for e in emissions[1:]:
        total = score[:, None] + A + e[None, :]  # (from, to)
        back.append(total.argmax(axis=0))
        score = total.max(axis=0)
    path = [int((score + end).argmax())]
    for b in reversed(back):
        path.append(int(b[path[-1]]))
    return path[::-1]


@pytest.mark.parametrize("char_cell", ["rnn", "lstm", "gru", "cnn"])
@pytest.mark.parametrize("crf", [False, True])
def test_a_tagger_with_characters_and_a_crf(tmp_path, char_cell, crf) -> None:
    model = char_tagger(tmp_path / "m", char_cell, crf=crf)
    x, lengths = tagger_batch(model, UNSEEN)
    outputs = _session(onnx_model(portable(tmp_path / "m", "ONNX"))).run(
        None, {"ids": x, "lengths": lengths}
    )
    expected = model.model_.predict(model.encode(UNSEEN))
    np.testing.assert_allclose(outputs[0], expected, rtol=0, atol=ATOL)
    if crf:
        emissions, A, start, end = outputs
        assert np.isneginf(A).any()  # the scheme's forbidden transitions
        paths = [_viterbi(emissions[i, :n], A, start, end) for i, n in enumerate(lengths)]
        # the BIO tags were learnt as IOBES (vocab.json's given_scheme): BIO comes back
        assert model.given_scheme_ == "BIO" and tag_scheme(model.labels_) == "IOBES"
        tags = [iobes_to_bio([model.labels_[k] for k in p]) for p in paths]
        assert tags == model.predict(UNSEEN)
    x[0, 1, 1:] = 0  # a real word of no characters: zero features, as in rnnkit
    expected = model.model_.predict([x[i, :n] for i, n in enumerate(lengths)])
    got = _session(onnx_model(portable(tmp_path / "m", "ONNX"))).run(
        ["emissions" if crf else "probabilities"], {"ids": x, "lengths": lengths}
    )[0]
    np.testing.assert_allclose(got, expected, rtol=0, atol=ATOL)
