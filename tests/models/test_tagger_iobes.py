"""SequenceTagger(iobes=...): BIO tags learnt as IOBES, predicted in BIO.

Specified here: by default BIO tags are learnt as IOBES when the words start from
pretrained vectors (as given without them), which is exactly training on the converted
tags (the same weights) and giving the predictions back in BIO; the reports, the
Viterbi paths and a saved and loaded tagger all speak BIO; IOBES tags and tags of no
scheme are learnt as given; iobes=True refuses tags of no scheme; a vocab.json that
names another scheme is refused.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from rnnkit.errors import ConfigError, ModelFileError
from rnnkit.metrics import tag_scheme
from rnnkit.metrics.schemes import bio_to_iobes, iobes_to_bio
from rnnkit.models import SequenceTagger, load_model

NAMES, OTHER = ("ann", "bob", "cy"), ("met", "saw", "then", "home")
FAST = dict(hidden=8, embed_dim=8, char_dim=4, char_units=4, lr=0.02, epochs=6, dropout=0,
            embed_dropout=0, word_dropout=0, verbose=0, seed=0)  # fmt: skip


def _corpus(n: int, seed: int) -> tuple[list[list[str]], list[list[str]]]:
    """Names of one to three words (B-PER I-PER ...) between other words."""
    rng = np.random.default_rng(seed)
    sentences, tags = [], []
    for _ in range(n):
        words, seq = [], []
        for _ in range(int(rng.integers(1, 4))):
            k = int(rng.integers(1, 4))
            words += [str(rng.choice(NAMES)) for _ in range(k)] + [str(rng.choice(OTHER))]
            seq += ["B-PER"] + ["I-PER"] * (k - 1) + ["O"]
        sentences.append(words)
        tags.append(seq)
    return sentences, tags


@pytest.fixture(scope="module")
def data():
    return _corpus(120, 0), _corpus(30, 1)


@pytest.fixture(scope="module")
def vectors(tmp_path_factory) -> str:
    """A GloVe file of 8-d vectors for every word of the corpus."""
    rng = np.random.default_rng(2)
    path = tmp_path_factory.mktemp("vectors") / "glove.txt"
    lines = [f"{w} " + " ".join(f"{v:.4f}" for v in rng.normal(size=8)) for w in NAMES + OTHER]
    path.write_text("\n".join(lines) + "\n")
    return str(path)


@pytest.fixture(scope="module")
def tagger(data, vectors) -> SequenceTagger:
    (x, y), valid = data
    return SequenceTagger(embeddings=vectors, **FAST).fit(x, y, valid=valid)


def test_bio_tags_are_learnt_as_iobes_and_predicted_in_bio(tagger, data) -> None:
    assert tagger.given_scheme_ == "BIO" and tag_scheme(tagger.labels_) == "IOBES"
    assert tagger.labels_ == ["B-PER", "E-PER", "I-PER", "O", "S-PER"]
    assert tagger.tags_ == ["B-PER", "I-PER", "O"]
    assert tagger.model_.output_layer.scheme == "IOBES"  # the CRF forbids O -> E-PER
    x, y = data[1]
    predicted = tagger.predict(x)
    assert {t for seq in predicted for t in seq} <= set(tagger.tags_)
    report = tagger.evaluate(x, y)
    assert report.labels == tagger.tags_ and report.to_dict()["entity_f1"] > 0.9
    assert all(p.shape == (len(s), 5) for p, s in zip(tagger.predict_proba(x), x, strict=True))
    learnt = [[tagger.labels_[k] for k in ids] for ids in tagger.predict_ids(x)]
    assert predicted == [iobes_to_bio(seq) for seq in learnt]


def test_it_is_training_on_the_converted_tags(tagger, data, vectors) -> None:
    (x, y), (vx, vy) = data
    convert = lambda tags: [bio_to_iobes(seq) for seq in tags]  # noqa: E731
    as_given = SequenceTagger(iobes=False, embeddings=vectors, **FAST)
    as_given.fit(x, convert(y), valid=(vx, convert(vy)))
    assert as_given.given_scheme_ is None and as_given.labels_ == tagger.labels_
    for a, b in zip(as_given.model_.get_weights(), tagger.model_.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert tagger.predict(vx) == [iobes_to_bio(seq) for seq in as_given.predict(vx)]


def test_a_saved_tagger_still_predicts_bio(tagger, data, tmp_path) -> None:
    tagger.save(tmp_path / "m")
    vocab = json.loads((tmp_path / "m" / "vocab.json").read_text())
    assert vocab["given_scheme"] == "BIO" and vocab["labels"] == tagger.labels_
    loaded = load_model(tmp_path / "m")
    x = data[1][0]
    assert loaded.given_scheme_ == "BIO" and loaded.predict(x) == tagger.predict(x)
    vocab["given_scheme"] = "IOB1"
    (tmp_path / "m" / "vocab.json").write_text(json.dumps(vocab))
    with pytest.raises(ModelFileError, match=r"vocab.json: given_scheme 'IOB1'"):
        load_model(tmp_path / "m")


def test_without_vectors_bio_tags_are_learnt_as_given(data) -> None:
    (x, y), _ = data
    auto = SequenceTagger(**{**FAST, "epochs": 1}).fit(x, y)
    assert auto.given_scheme_ is None and auto.labels_ == auto.tags_ == ["B-PER", "I-PER", "O"]
    on = SequenceTagger(iobes=True, **{**FAST, "epochs": 1}).fit(x, y)
    assert on.given_scheme_ == "BIO" and on.labels_ == ["B-PER", "E-PER", "I-PER", "O", "S-PER"]


def test_other_tags_are_learnt_as_given(data) -> None:
    (x, y), _ = data
    off = SequenceTagger(iobes=False, **{**FAST, "epochs": 1}).fit(x, y)
    assert off.given_scheme_ is None and off.labels_ == off.tags_ == ["B-PER", "I-PER", "O"]
    iobes = [bio_to_iobes(seq) for seq in y]
    on = SequenceTagger(iobes=True, **{**FAST, "epochs": 1}).fit(x, iobes)
    assert on.given_scheme_ is None and on.labels_ == ["B-PER", "E-PER", "I-PER", "O", "S-PER"]
    pos = [["NOUN" if w in NAMES else "VERB" for w in s] for s in x]
    auto = SequenceTagger(**{**FAST, "epochs": 1}).fit(x, pos)
    assert auto.given_scheme_ is None and auto.labels_ == ["NOUN", "VERB"]
    with pytest.raises(ConfigError, match=r"iobes=True: the training tags are neither BIO nor"):
        SequenceTagger(iobes=True, **FAST).fit(x, pos)
    with pytest.raises(ConfigError, match=r"iobes='yes': give True, False or 'auto'"):
        SequenceTagger(iobes="yes").fit(x, y)
