"""A seq2seq model as two ONNX graphs, the encoder and one decoder step, run in ONNX
Runtime: the context, every step's log-probabilities, attention weights and states
agree with rnnkit's to 1e-5, and greedy decoding by the user's loop gives rnnkit's
translations.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from exported import padded
from rnnkit.errors import ConfigError
from rnnkit.exchange import export_onnx, export_torch
from rnnkit.models import Seq2Seq

ort = pytest.importorskip("onnxruntime", reason="the onnx extra (pip install 'rnnkit[onnx]')")

ATOL = 1e-5  # float32 on both sides, summed in different orders
WORDS = [list("abc"), list("ba"), list("abba"), list("cab"), list("bcca")] * 3
SOURCES = [list("abc"), list("b"), list("ccab")]  # mixed lengths: padded batches

#: (encoder cell, bidirectional, encoder layers, decoder layers, attention): every cell,
#: score and context (a bridge where the encoder is bidirectional, states as they are
#: where it is not), stacked on both sides
CASES = [
    ("gru", True, 2, 1, "dot"),
    ("lstm", False, 1, 2, "general"),
    ("rnn", True, 1, 1, "additive"),
    ("lstm", True, 2, 2, "none"),
    ("gru", False, 1, 1, "dot"),
]


def _session(path) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), options)


def _flat(states) -> list[np.ndarray]:
    return [s for st in states for s in (st if isinstance(st, tuple) else (st,))]


@pytest.mark.parametrize(("cell", "bidirectional", "layers", "decoder_layers", "attention"), CASES)
def test_encoder_and_decoder_step_give_rnnkits_numbers(
    tmp_path, cell, bidirectional, layers, decoder_layers, attention
) -> None:
    model = Seq2Seq(hidden=4, embed_dim=4, epochs=2, verbose=0, cell=cell, dropout=0.0,
                    bidirectional=bidirectional, layers=layers, decoder_layers=decoder_layers,
                    attention=attention).fit(WORDS, [w[::-1] for w in WORDS])  # fmt: skip
    model.save(tmp_path / "m")
    encoder_path, decoder_path = export_onnx(tmp_path / "m", tmp_path / "m.onnx")
    assert (encoder_path.name, decoder_path.name) == ("m.encoder.onnx", "m.decoder.onnx")
    encoder, decoder = _session(encoder_path), _session(decoder_path)
    x, lengths = padded(model.encode(SOURCES), "ids")
    enc_out, *states = encoder.run(None, {"source": x, "source_lengths": lengths})
    state = model.model_.begin(x, np.arange(x.shape[1]) < lengths[:, None])
    np.testing.assert_allclose(enc_out, state[0], atol=ATOL)
    for got, want in zip(states, _flat(state[2]), strict=True):
        np.testing.assert_allclose(got, want, atol=ATOL)

    # the user's greedy loop, each step checked against rnnkit's
    names = [i.name for i in decoder.get_inputs()][3:]
    eos = model.vocab_["<eos>"]
    tokens = np.full(len(SOURCES), model.vocab_["<sos>"], dtype=np.int64)
    out: list[list[str]] = [[] for _ in SOURCES]
    done = np.zeros(len(SOURCES), dtype=bool)
    for _ in range(int(2 * lengths.max() + 10)):  # rnnkit's longest output: 2 S + 10
        feed = {"tokens": tokens, "encoder_outputs": enc_out, "source_lengths": lengths}
        result = dict(
            zip([o.name for o in decoder.get_outputs()],
                decoder.run(None, {**feed, **dict(zip(names, states, strict=True))}),
                strict=True)
        )  # fmt: skip
        logp, state, alpha = model.model_.step(tokens, state)
        np.testing.assert_allclose(result["log_probs"], logp, atol=ATOL)
        if alpha is not None:
            np.testing.assert_allclose(result["attention"], alpha, atol=ATOL)
        states = [result[f"next_{n}"] for n in names]
        tokens = result["log_probs"].argmax(axis=1)
        for i, k in enumerate(tokens):
            done[i] |= k == eos or len(out[i]) >= 2 * lengths[i] + 10
            if not done[i]:
                out[i].append(model.vocab_.token(int(k)))
    assert out == model.translate(SOURCES)


def test_the_vocabularies_travel_in_both_files(tmp_path) -> None:
    model = Seq2Seq(hidden=4, embed_dim=4, epochs=1, verbose=0).fit(WORDS, WORDS)
    model.save(tmp_path / "m")
    for path in export_onnx(tmp_path / "m", tmp_path / "m.onnx"):
        meta = json.loads(_session(path).get_modelmeta().custom_metadata_map["rnnkit"])
        assert meta["vocab"]["source"] == model.source_vocab_.to_dict()
        assert meta["vocab"]["tokens"] == model.vocab_.to_dict()
        assert meta["sos"] == model.vocab_["<sos>"] and meta["eos"] == model.vocab_["<eos>"]


def test_pytorch_and_keras_refuse_a_seq2seq_model_in_one_line(tmp_path) -> None:
    Seq2Seq(hidden=4, embed_dim=4, epochs=1, verbose=0).fit(WORDS, WORDS).save(tmp_path / "m")
    with pytest.raises(ConfigError, match=r"^cannot export to PyTorch: a seq2seq model is two"):
        export_torch(tmp_path / "m", tmp_path / "m.safetensors")
