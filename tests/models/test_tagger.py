"""SequenceTagger: many-to-many labelling that learns, pads that never count, files."""

from __future__ import annotations

import numpy as np
import pytest

from rnnkit.errors import ConfigError, DataError, ModelFileError
from rnnkit.layers import Bidirectional, Dense
from rnnkit.models import SequenceTagger, load_model

DET, NOUN, VERB = ("the", "a", "this"), ("cat", "dog", "film", "plot"), ("runs", "ends", "sits")


def _context_corpus(n: int, seed: int):
    """'saw' is tagged NOUN after a determiner and VERB after a noun: context decides."""
    rng = np.random.default_rng(seed)
    sentences, tags = [], []
    for _ in range(n):
        if rng.random() < 0.5:
            words, seq = [rng.choice(DET), "saw", rng.choice(VERB)], ["DET", "NOUN", "VERB"]
        else:
            words, seq = [rng.choice(DET), rng.choice(NOUN), "saw"], ["DET", "NOUN", "VERB"]
        sentences.append([str(w) for w in words])
        tags.append(seq)
    return sentences, tags


FAST = dict(
    hidden=16, embed_dim=16, lr=0.02, epochs=12, dropout=0, embed_dropout=0, verbose=0, seed=0
)


@pytest.fixture(scope="module")
def tagger() -> SequenceTagger:
    x, y = _context_corpus(400, seed=1)
    return SequenceTagger(**FAST).fit(x, y)


def test_tagger_learns_tags_that_depend_on_context(tagger) -> None:
    x, y = _context_corpus(300, seed=2)
    report = tagger.evaluate(x, y)
    assert report.accuracy > 0.97
    saw = [t[s.index("saw")] for s, t in zip(x, tagger.predict(x), strict=True)]
    truth = [t[s.index("saw")] for s, t in zip(x, y, strict=True)]
    assert np.mean(np.array(saw) == np.array(truth)) > 0.95  # the ambiguous word itself


def test_default_network_is_bidirectional_with_a_per_step_softmax(tagger) -> None:
    layers = tagger.model_.layers
    assert any(isinstance(layer, Bidirectional) for layer in layers)
    assert isinstance(layers[-1], Dense) and layers[-1].activation == "softmax"
    assert layers[-1].units == len(tagger.labels_) == 3


def test_predictions_have_one_tag_per_token_and_rows_sum_to_one(tagger) -> None:
    sentences = [["the", "cat"], ["a", "dog", "runs", "the", "film", "ends"], ["cat"]]
    for words, tags, p in zip(
        sentences, tagger.predict(sentences), tagger.predict_proba(sentences), strict=True
    ):
        assert len(tags) == len(words) and p.shape == (len(words), 3)
        np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-5)


def test_a_sentence_tags_the_same_alone_and_in_a_padded_batch(tagger) -> None:
    sentences = [["the", "cat", "runs"], ["a", "saw", "ends", "the", "dog", "sits", "a", "cat"]]
    batch = tagger.predict_proba(sentences)
    for sentence, p in zip(sentences, batch, strict=True):
        np.testing.assert_allclose(tagger.predict_proba([sentence])[0], p, rtol=1e-5, atol=1e-6)


def test_unknown_gold_tags_are_counted_never_a_crash(tagger) -> None:
    x, y = _context_corpus(20, seed=3)
    y[0] = ["DET", "NOUN", "ADV"]  # ADV was never seen in training
    report = tagger.evaluate(x, y)
    assert report.to_dict()["unknown_tags"] == 1
    assert report.n == sum(len(s) for s in x)


@pytest.mark.parametrize("crf", [False, True])
def test_validation_tags_never_seen_in_training_score_as_wrong(crf: bool) -> None:
    x, y = _context_corpus(40, seed=1)
    vx, vy = _context_corpus(10, seed=4)
    vy[0][1] = "B-city"  # one token of 30 carries a tag the training tags lack
    model = SequenceTagger(**{**FAST, "epochs": 1, "crf": crf}).fit(x, y, valid=(vx, vy))
    record = model.history_.epochs[-1]  # one epoch: its weights are the model's
    predicted = model.predict(vx)
    pairs = zip(predicted, vy, strict=True)
    right = sum(p == t for ps, ts in pairs for p, t in zip(ps, ts, strict=True))
    assert record["val_accuracy"] == pytest.approx(right / 30, abs=1e-9)
    assert predicted[0][1] != "B-city" and np.isfinite(record["val_loss"])


def test_save_and_load_give_the_same_tags(tagger, tmp_path) -> None:
    tagger.save(tmp_path / "m")
    again = load_model(tmp_path / "m")
    assert isinstance(again, SequenceTagger)
    x, _ = _context_corpus(30, seed=4)
    assert again.predict(x) == tagger.predict(x)


def test_loading_a_classifier_directory_as_a_tagger_is_refused(tagger, tmp_path) -> None:
    tagger.save(tmp_path / "m")
    config = (
        (tmp_path / "m" / "config.json").read_text().replace('"task": "tag"', '"task": "classify"')
    )
    (tmp_path / "m" / "config.json").write_text(config)
    with pytest.raises(ModelFileError, match=r"config\.json: task is 'classify', not 'tag'"):
        SequenceTagger.load(tmp_path / "m")


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_gated_cells_tag_too(cell: str) -> None:
    x, y = _context_corpus(300, seed=5)
    tagger = SequenceTagger(**{**FAST, "cell": cell, "layers": 2}).fit(x, y)
    assert tagger.evaluate(*_context_corpus(200, seed=6)).accuracy > 0.95


def test_bad_input_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="unknown setting"):
        SequenceTagger(hiden=3)
    with pytest.raises(ConfigError, match="not trained"):
        SequenceTagger().predict([["a"]])
    with pytest.raises(DataError, match="2 tokens but 1 tags"):
        SequenceTagger(**FAST).fit([["a", "b"]], [["X"]])
    with pytest.raises(DataError, match="only one tag"):
        SequenceTagger(**FAST).fit([["a", "b"]], [["X", "X"]])
    with pytest.raises(ConfigError, match="cell"):
        SequenceTagger(**{**FAST, "cell": "transformer"}).fit([["a", "b"]], [["X", "Y"]])
