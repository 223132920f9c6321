"""SequenceTagger(crf=True): emission scores and a CRF, trained on the path's NLL.

Specified here: on a toy NER task where a word's tag depends on its neighbour the CRF
tagger learns, its loss falls, and its Viterbi tags never hold a transition BIO
forbids, even on sentences of unknown words; the gradient of the whole tagger's loss
by every parameter (the CRF's A, start and end included) passes a numerical check in
float64 on a padded batch; predict_proba gives the CRF's marginals; a saved CRF
tagger loads and decodes the same paths; settings that do not fit are refused.
"""

from __future__ import annotations

import itertools
import json
import shutil

import numpy as np
import pytest

from reference import check_gradients
from rnnkit.errors import ConfigError, ModelFileError
from rnnkit.layers import CRF, Dense, Embedding, SimpleRNN
from rnnkit.metrics import tag_scheme
from rnnkit.models import FrameTagger, SequenceTagger, Sequential, load_model

NAMES, VERBS, OTHER = ("ann", "bob", "cy"), ("met", "saw"), ("then", "today", "home")


def _ner_corpus(n: int, seed: int):
    """Names of one or two words: a name after a name continues it (I-PER), a name
    after anything else begins one (B-PER); a word's tag depends on its neighbour."""
    rng = np.random.default_rng(seed)
    sentences, tags = [], []
    for _ in range(n):
        words, seq = [], []
        for _ in range(int(rng.integers(2, 5))):
            if rng.random() < 0.5:
                k = int(rng.integers(1, 3))
                words += [str(rng.choice(NAMES)) for _ in range(k)]
                seq += ["B-PER"] + ["I-PER"] * (k - 1)
            words.append(str(rng.choice(VERBS + OTHER)))
            seq.append("O")
        sentences.append(words)
        tags.append(seq)
    return sentences, tags


FAST = dict(
    hidden=12, embed_dim=12, lr=0.02, epochs=15, dropout=0, embed_dropout=0, verbose=0, seed=0
)


def _valid_bio(path: list[str]) -> bool:
    """Whether every I-X follows a B-X or an I-X."""
    return all(
        not t.startswith("I-") or (prev[2:] == t[2:] and prev[:2] in ("B-", "I-"))
        for prev, t in itertools.pairwise(["O", *path])
    )


@pytest.fixture(scope="module")
def tagger() -> SequenceTagger:
    x, y = _ner_corpus(300, seed=1)
    # iobes=False: the BIO tags as given, so that the CRF is the BIO one
    return SequenceTagger(crf=True, iobes=False, **FAST).fit(x, y, valid=_ner_corpus(40, seed=4))


def test_the_network_ends_in_linear_scores_and_a_bio_crf(tagger) -> None:
    dense, crf = tagger.model_.layers[-2:]
    assert isinstance(dense, Dense) and dense.activation == "linear"
    assert isinstance(crf, CRF) and crf.tags == tagger.labels_ and crf.scheme == "BIO"
    slots = [key for key, *_ in tagger.model_.param_slots()]  # what the optimizer updates
    assert {"crf.A", "crf.start", "crf.end"} <= set(slots)


def test_crf_tagger_learns_context_and_its_loss_falls(tagger) -> None:
    losses = [e["loss"] for e in tagger.history_.epochs]
    assert losses[-1] < 0.5 * losses[0]
    assert tagger.monitor_ == "val_entity_f1"  # BIO tags: early stopping follows entity F1
    x, y = _ner_corpus(200, seed=2)
    report = tagger.evaluate(x, y)
    assert report.accuracy > 0.97 and report.to_dict()["entity_f1"] > 0.95


def test_decoded_tags_never_break_bio(tagger) -> None:
    rng = np.random.default_rng(5)
    words = [*NAMES, *VERBS, *OTHER, "zzz", "qq"]  # unknown words too
    sentences = [[str(w) for w in rng.choice(words, size=rng.integers(1, 9))] for _ in range(300)]
    paths = tagger.predict(sentences)
    assert all(len(p) == len(s) for p, s in zip(paths, sentences, strict=True))
    assert all(_valid_bio(p) for p in paths)


def test_predict_proba_gives_the_crf_marginals(tagger) -> None:
    sentences = [["ann", "bob", "met", "cy"], ["home"]]
    probs = tagger.predict_proba(sentences)
    for words, p in zip(sentences, probs, strict=True):
        assert p.shape == (len(words), 3)
        np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-5)
    i_per, o = tagger.labels_.index("I-PER"), tagger.labels_.index("O")
    assert probs[0][0, i_per] == 0.0  # no path begins with I-PER
    assert probs[1][0, o] > 0.9


def test_gradients_of_the_whole_tagger_match_numerical_ones() -> None:
    x, y = _ner_corpus(6, seed=3)
    tiny = dict(hidden=3, embed_dim=4, epochs=1, dropout=0, embed_dropout=0, word_dropout=0,
                char_features=False, verbose=0)  # fmt: skip
    tagger = SequenceTagger(crf=True, dtype="float64", cell="lstm", seed=0, **tiny).fit(x, y)
    net = tagger.model_
    data = tagger.training_data(x, y)
    batch = data.batch(np.arange(len(x)))
    assert not batch.mask.all()  # sentences of mixed lengths: pads in the batch
    net.zero_grad()
    net.train_batch(batch)
    params = {f"{l.name}.{k}": p for l in net.layers for k, p in l.params.items()}
    grads = {f"{l.name}.{k}": l.grads[k].copy() for l in net.layers for k in l.params}
    assert {"crf.A", "crf.start", "crf.end"} <= set(params)

    def loss() -> float:
        return net.eval_batch(batch).loss_sum / len(x)  # sequence_mean

    check_gradients(loss, params, grads)


def test_save_and_load_give_the_same_paths(tagger, tmp_path) -> None:
    x, _ = _ner_corpus(50, seed=6)
    tagger.save(tmp_path / "m")
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    layers = config["architecture"]["layers"]
    assert layers[-1] == {
        "class": "CRF",
        "config": {"tags": tagger.labels_, "scheme": "BIO", "name": "crf", "dtype": "float32"},
    }
    assert config["architecture"]["loss"] == "crf"
    assert config["training"]["settings"]["crf"] is True
    loaded = load_model(tmp_path / "m")
    assert isinstance(loaded, SequenceTagger)
    assert loaded.predict(x) == tagger.predict(x)
    for a, b in zip(loaded.predict_proba(x), tagger.predict_proba(x), strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    ("change", "words"),
    [
        pytest.param(lambda c: c["training"]["settings"].update(crf="yes"),
                     "crf='yes' is not one of True, False, 'auto'", id="crf-not-a-choice"),
        pytest.param(lambda c: c["training"]["settings"].update(crf=False),
                     "the CRF layer does not fit", id="crf-setting-off"),
        pytest.param(lambda c: c["architecture"].update(loss="sparse_categorical_crossentropy"),
                     "a final CRF layer and loss 'crf' go together", id="softmax-loss"),
    ],
)  # fmt: skip
def test_a_crf_tagger_directory_that_does_not_fit_is_refused(tagger, tmp_path, change, words):
    directory = tmp_path / "m"
    tagger.save(directory)
    path = directory / "config.json"
    config = json.loads(path.read_text())
    change(config)
    path.write_text(json.dumps(config))
    with pytest.raises(ModelFileError, match="^" + str(path)) as info:
        load_model(directory)
    assert words in str(info.value) and "\n" not in str(info.value)


def test_a_softmax_tagger_saved_with_crf_true_is_refused(tmp_path) -> None:
    x, y = _ner_corpus(20, seed=7)
    SequenceTagger(**{**FAST, "epochs": 1, "crf": False}).fit(x, y).save(tmp_path / "m")
    shutil.copytree(tmp_path / "m", tmp_path / "forged")
    path = tmp_path / "forged" / "config.json"
    config = json.loads(path.read_text())
    config["training"]["settings"]["crf"] = True
    path.write_text(json.dumps(config))
    with pytest.raises(ModelFileError, match="the CRF layer does not fit"):
        load_model(tmp_path / "forged")
    assert load_model(tmp_path / "m").settings["crf"] is False


def test_settings_that_do_not_fit_a_crf_are_refused() -> None:
    with pytest.raises(ConfigError, match="reduction='token_mean' does not apply with crf"):
        SequenceTagger(crf=True, reduction="token_mean")
    with pytest.raises(ConfigError, match="unknown setting 'crf'"):
        FrameTagger(crf=True)


def test_the_scheme_follows_the_tags_and_other_tags_are_unconstrained() -> None:
    assert tag_scheme(["B-X", "I-X", "O"]) == "BIO"
    assert tag_scheme(["B-X", "E-X", "O", "S-Y"]) == "IOBES"
    assert tag_scheme(["DET", "NOUN"]) is None and tag_scheme(["O", "B-"]) is None
    assert tag_scheme(["O", "S-X"]) == "IOBES" and tag_scheme(["O"]) == "BIO"
    x = [["the", "cat", "runs"], ["a", "dog", "sits"]] * 10
    y = [["DET", "NOUN", "VERB"]] * 20
    tagger = SequenceTagger(crf=True, **FAST).fit(x, y)
    crf = tagger.model_.output_layer
    assert crf.scheme is None and crf.constraints is None
    assert tagger.predict([["a", "cat", "sits"]]) == [["DET", "NOUN", "VERB"]]
    ids = [np.arange(3)] * 20  # DET, NOUN, VERB in the order of labels_
    scores = tagger.model_.evaluate(tagger.encode(x), ids)  # counted on the Viterbi tags
    assert scores["accuracy"] == 1.0 and scores["loss"] > 0


def test_iobes_tags_get_iobes_constraints_and_entity_f1() -> None:
    x, y = _ner_corpus(40, seed=0)
    iobes = [[_iobes_tag(seq, i) for i in range(len(seq))] for seq in y]
    tagger = SequenceTagger(crf=True, **{**FAST, "epochs": 2}).fit(x, iobes, valid=(x, iobes))
    crf = tagger.model_.output_layer
    assert crf.scheme == "IOBES" and tagger.monitor_ == "val_entity_f1"
    assert "val_entity_f1" in tagger.history_.epochs[0]
    for path in tagger.predict(x):  # every path well-formed: I- and E- only inside
        for prev, tag in itertools.pairwise(["O", *path, "O"]):
            assert (tag[:2] in ("I-", "E-")) == (prev[:2] in ("B-", "I-"))


def _iobes_tag(tags: list[str], i: int) -> str:
    """Tag i of well-formed BIO `tags`, written as IOBES."""
    ends = i + 1 == len(tags) or tags[i + 1][:2] != "I-"
    tag = tags[i]
    if tag == "O":
        return tag
    if tag[:2] == "B-":
        return ("S-" if ends else "B-") + tag[2:]
    return ("E-" if ends else "I-") + tag[2:]


def test_a_final_crf_and_the_crf_loss_go_together() -> None:
    layers = [Embedding(5, 3), SimpleRNN(4, return_sequences=True), Dense(3), CRF()]
    with pytest.raises(ConfigError, match="a final CRF layer and loss='crf' go together"):
        Sequential(layers, seed=0).compile("adam", "sparse_categorical_crossentropy")
    softmax = [Embedding(5, 3), SimpleRNN(4, return_sequences=True), Dense(3, "softmax")]
    with pytest.raises(ConfigError, match="a final CRF layer and loss='crf' go together"):
        Sequential(softmax, seed=0).compile("adam", "crf")
    assert Sequential(layers, seed=0).compile("adam", "crf").loss == "crf"


def test_crf_auto_is_a_crf_for_entity_tags_alone(tmp_path) -> None:
    x, y = _ner_corpus(30, seed=7)
    fast = {**FAST, "epochs": 1}
    ner = SequenceTagger(crf="auto", **fast).fit(x, y)
    assert isinstance(ner.model_.output_layer, CRF)
    pos = SequenceTagger(crf="auto", **fast).fit([["a", "cat"]] * 4, [["DET", "NOUN"]] * 4)
    assert not isinstance(pos.model_.output_layer, CRF)
    per_token = SequenceTagger(crf="auto", reduction="token_mean", **fast).fit(x, y)
    assert not isinstance(per_token.model_.output_layer, CRF)  # a CRF's loss is per sentence
    ner.save(tmp_path / "ner")
    pos.save(tmp_path / "pos")
    assert load_model(tmp_path / "ner").predict(x) == ner.predict(x)
    assert isinstance(load_model(tmp_path / "pos"), SequenceTagger)
    with pytest.raises(ConfigError, match="crf='yes'"):
        SequenceTagger(crf="yes")
