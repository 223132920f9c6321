"""SequenceTagger's monitor: which validation figure picks the kept epoch.

"auto" follows the entity F1 for BIO or IOBES tags and the token accuracy otherwise; a monitor
given by the user stands; the weights kept are the best epoch's by that figure.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rnnkit.data.tagged import read_conll
from rnnkit.errors import ConfigError
from rnnkit.metrics import entity_scores
from rnnkit.models import SequenceTagger, Sequential
from rnnkit.training import Checkpoints

WNUT = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "wnut17"

FAST = dict(
    hidden=8, embed_dim=8, lr=0.02, epochs=5, patience=None, dropout=0, embed_dropout=0,
    verbose=0, seed=0,
)  # fmt: skip
FIRST, LAST = ("Ann", "Bob", "Eve", "Joe"), ("Smith", "Jones", "Brown")
PLACES, VERBS = ("Paris", "Rome", "Oslo"), ("runs", "sings", "waits")


def _ner(n: int, seed: int) -> tuple[list[list[str]], list[list[str]]]:
    """Sentences 'Ann Smith runs in Paris', tagged person (two tokens) and location."""
    rng = np.random.default_rng(seed)
    sentences, tags = [], []
    for _ in range(n):
        words = [rng.choice(FIRST), rng.choice(LAST), rng.choice(VERBS), "in", rng.choice(PLACES)]
        sentences.append([str(w) for w in words])
        tags.append(["B-person", "I-person", "O", "O", "B-location"])
    return sentences, tags


def _ner_iobes(n: int, seed: int) -> tuple[list[list[str]], list[list[str]]]:
    """The sentences of :func:`_ner` tagged in IOBES: the person B- E-, the place S-."""
    sentences, _ = _ner(n, seed)
    return sentences, [["B-person", "E-person", "O", "O", "S-location"]] * n


def _pos(n: int, seed: int) -> tuple[list[list[str]], list[list[str]]]:
    sentences, _ = _ner(n, seed)
    return sentences, [["PROPN", "PROPN", "VERB", "ADP", "PROPN"]] * n


def _best(history, key: str, sign: float = 1.0) -> int:
    """The epoch (1-based) of the best `key`, the first one on a tie."""
    values = [sign * e[key] for e in history.epochs]
    return int(np.argmax(values)) + 1


def test_auto_follows_entity_f1_for_bio_tags_and_keeps_its_best_epoch() -> None:
    x, y = _ner(60, seed=0)
    vx, vy = _ner(20, seed=1)
    tagger = SequenceTagger(**FAST).fit(x, y, valid=(vx, vy))
    h = tagger.history_
    assert tagger.settings["monitor"] == "auto" and tagger.monitor_ == "val_entity_f1"
    assert h.monitor == "val_entity_f1" and h.best_epoch == _best(h, "val_entity_f1")
    kept = entity_scores(vy, tagger.predict(vx))["f1"]
    assert kept == h.epochs[h.best_epoch - 1]["val_entity_f1"]


def test_auto_follows_entity_f1_for_iobes_tags_and_evaluate_scores_entities() -> None:
    x, y = _ner_iobes(60, seed=0)
    vx, vy = _ner_iobes(20, seed=1)
    tagger = SequenceTagger(**FAST).fit(x, y, valid=(vx, vy))
    h = tagger.history_
    assert tagger.monitor_ == "val_entity_f1" and h.monitor == "val_entity_f1"
    assert h.best_epoch == _best(h, "val_entity_f1")
    kept = entity_scores(vy, tagger.predict(vx), scheme="IOBES")["f1"]
    assert kept == h.epochs[h.best_epoch - 1]["val_entity_f1"]
    d = tagger.evaluate(vx, vy).to_dict()
    assert d["entity_f1"] == kept and set(d["entity_per_type"]) <= {"location", "person"}
    assert {"entity_precision", "entity_recall"} <= set(d)
    strict = SequenceTagger(**{**FAST, "monitor": "val_entity_f1", "epochs": 1})
    assert strict.fit(x, y, valid=(vx, vy)).monitor_ == "val_entity_f1"  # not refused


def test_auto_follows_token_accuracy_for_pos_tags() -> None:
    x, y = _pos(60, seed=0)
    tagger = SequenceTagger(**FAST).fit(x, y, valid=_pos(20, seed=1))
    h = tagger.history_
    assert tagger.monitor_ == "val_accuracy" and h.monitor == "val_accuracy"
    assert "val_entity_f1" not in h.epochs[0]  # not BIO: no entity figure to record
    assert h.best_epoch == _best(h, "val_accuracy")


@pytest.mark.parametrize(("monitor", "sign"), [("val_loss", -1.0), ("val_accuracy", 1.0)])
def test_a_monitor_given_by_the_user_stands(monitor: str, sign: float) -> None:
    x, y = _ner(60, seed=0)
    tagger = SequenceTagger(**{**FAST, "monitor": monitor}).fit(x, y, valid=_ner(20, seed=1))
    h = tagger.history_
    assert tagger.monitor_ == monitor and h.best_epoch == _best(h, monitor, sign)
    assert "val_entity_f1" in h.epochs[0]  # BIO tags: recorded, though not followed


def test_without_validation_there_is_nothing_to_follow() -> None:
    tagger = SequenceTagger(**FAST).fit(*_ner(30, seed=0))
    assert tagger.monitor_ == "val_entity_f1" and tagger.history_.best_epoch is None


def test_monitors_that_cannot_apply_are_refused_in_one_line() -> None:
    with pytest.raises(ConfigError, match=r"^monitor='f1': use one of 'auto', .*'val_entity_f1'$"):
        SequenceTagger(monitor="f1")
    message = (
        r"^monitor='val_entity_f1': the training tags are neither BIO \(O, B-<type>, I-<type>\)"
        r" nor IOBES \(O, B-<type>, I-<type>, E-<type>, S-<type>\)$"
    )
    with pytest.raises(ConfigError, match=message):
        SequenceTagger(**{**FAST, "monitor": "val_entity_f1"}).fit(*_pos(10, seed=0))


@pytest.mark.slow
@pytest.mark.skipif(not WNUT.is_dir(), reason="../shared/data/wnut17 is absent")
def test_wnut17_a_small_tagger_finds_entities() -> None:
    """On real NER data an all-O tagger has F1 0 (and a token accuracy near 0.92): the
    epoch kept by the entity F1 finds entities on the dev and the test sets."""
    train = read_conll(WNUT / "wnut17train.conll")
    dev = read_conll(WNUT / "emerging.dev.conll")
    test = read_conll(WNUT / "emerging.test.annotated")
    tagger = SequenceTagger(
        hidden=32, embed_dim=32, lr=0.005, epochs=4, patience=None, batch_size=16,
        dropout=0.0, embed_dropout=0.0, verbose=0, seed=0, char_features=False, crf=False,
    )  # fmt: skip
    tagger.fit(train.sentences[:2000], train.tags[:2000], valid=(dev.sentences, dev.tags))
    h = tagger.history_
    assert h.monitor == "val_entity_f1"
    assert h.epochs[h.best_epoch - 1]["val_entity_f1"] == max(e["val_entity_f1"] for e in h.epochs)
    assert tagger.evaluate(dev.sentences, dev.tags).entity_f1 > 0.0
    assert tagger.evaluate(test.sentences, test.tags).entity_f1 > 0.0


class Crash(Exception):
    pass


def test_a_run_following_entity_f1_resumes_exactly(tmp_path: Path, monkeypatch) -> None:
    """Crashed at step 11 (epoch 2), resumed from the checkpoint of step 8: the same
    weights, entity F1 of every epoch and kept epoch as a run never stopped."""
    x, y = _ner(60, seed=0)
    valid = _ner(20, seed=1)
    settings = {**FAST, "dropout": 0.3, "patience": 2, "batch_size": 8}
    reference = SequenceTagger(**settings).fit(x, y, valid=valid)
    train_batch, calls = Sequential.train_batch, {"n": 0}

    def crashing(self, batch):
        calls["n"] += 1
        if calls["n"] == 11:
            raise Crash
        return train_batch(self, batch)

    broken = SequenceTagger(**settings)
    broken.checkpoints = Checkpoints(tmp_path, every=4)
    with monkeypatch.context() as m:
        m.setattr(Sequential, "train_batch", crashing)
        with pytest.raises(Crash):
            broken.fit(x, y, valid=valid)
    resumed = SequenceTagger(**settings)
    resumed.checkpoints = Checkpoints(tmp_path, every=4, resume=True)
    resumed.fit(x, y, valid=valid)
    for a, b in zip(reference.model_.get_weights(), resumed.model_.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    figures = ("loss", "val_loss", "val_accuracy", "val_entity_f1")
    h, again = reference.history_, resumed.history_
    assert [{k: e[k] for k in figures} for e in h.epochs] == [
        {k: e[k] for k in figures} for e in again.epochs
    ]
    assert again.best_epoch == h.best_epoch and again.monitor == h.monitor == "val_entity_f1"
