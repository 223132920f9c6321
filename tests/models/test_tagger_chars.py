"""SequenceTagger(char_features=True): words read from their characters too.

Specified here: a tagger whose tags follow the spelling of words (suffixes, capitals)
tags words it never saw from their characters, where the words-only tagger cannot;
the whole network (characters, words, CRF) passes a float64 gradient check on a
padded batch; a saved tagger keeps its character vocabulary and loads to the same
outputs; settings and model files that do not fit are refused. On real data (a part
of UD English-EWT) the character features raise the accuracy on unseen words.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from reference import check_gradients
from rnnkit.data import read_conllu
from rnnkit.errors import ConfigError, ModelFileError
from rnnkit.layers import WordCharEmbedding
from rnnkit.models import SequenceTagger, load_model
from spelling import STEMS, spelling_corpus

EWT = Path(__file__).resolve().parents[3] / "shared" / "data" / "ud_english_ewt"


FAST = dict(hidden=16, embed_dim=8, char_dim=8, char_units=8, lr=0.02, epochs=12, dropout=0,
            embed_dropout=0, verbose=0, seed=0)  # fmt: skip


@pytest.fixture(scope="module")
def char_tagger() -> SequenceTagger:
    x, y = spelling_corpus(STEMS[:14], 200, seed=1)
    return SequenceTagger(char_features=True, **FAST).fit(x, y)


def test_unseen_words_are_tagged_from_their_spelling(char_tagger) -> None:
    x, y = spelling_corpus(STEMS[:14], 200, seed=1)
    unseen = spelling_corpus(STEMS[14:], 100, seed=2)  # no word of these was trained on
    assert char_tagger.evaluate(*unseen).accuracy > 0.95
    words_only = SequenceTagger(char_features=False, **FAST).fit(x, y)
    assert words_only.evaluate(*unseen).accuracy < 0.7  # every unseen word is <unk>


def test_the_network_starts_with_words_and_characters(char_tagger) -> None:
    first = char_tagger.model_.layers[0]
    assert isinstance(first, WordCharEmbedding)
    assert first.chars.n_chars == len(char_tagger.chars_)
    assert first.output_spec.size == 8 + 2 * 8
    ids = char_tagger.encode([["the", "Cutting"]])[0]  # (T, 1 + L): words, then characters
    assert ids.shape == (2, 1 + 7)
    assert ids[1, 0] == char_tagger.vocab_.unk_id  # "cutting" was not a training word
    assert char_tagger.chars_.decode(ids[1, 1:]) == ["<unk>", "u", "t", "t", "i", "n", "g"]


@pytest.mark.parametrize(("char_cell", "param"), [("lstm", "char_forward_W"), ("cnn", "char_W")])
def test_gradients_of_words_characters_and_crf_match_numerical_ones(char_cell, param) -> None:
    x, y = spelling_corpus(STEMS[:4], 5, seed=3)
    tiny = dict(hidden=3, embed_dim=3, char_dim=3, char_units=2, epochs=1, dropout=0,
                embed_dropout=0, word_dropout=0, verbose=0)  # fmt: skip
    tagger = SequenceTagger(char_features=True, crf=True, cell="lstm", dtype="float64",
                            char_cell=char_cell, seed=0, **tiny).fit(x, y)  # fmt: skip
    net = tagger.model_
    batch = tagger.training_data(x, y).batch(np.arange(len(x)))
    assert not batch.mask.all() and batch.x.ndim == 3  # pads in the batch
    net.zero_grad()
    net.train_batch(batch)
    params = {f"{l.name}.{k}": p for l in net.layers for k, p in l.params.items()}
    grads = {f"{l.name}.{k}": l.grads[k].copy() for l in net.layers for k in l.params}
    assert f"word_char_embedding.{param}" in params

    def loss() -> float:
        return net.eval_batch(batch).loss_sum / len(x)

    check_gradients(loss, params, grads)


def test_save_and_load_keep_the_characters(char_tagger, tmp_path) -> None:
    x, _ = spelling_corpus(STEMS[14:], 20, seed=5)
    char_tagger.save(tmp_path / "m")
    vocab = json.loads((tmp_path / "m" / "vocab.json").read_text())
    assert "chars" in vocab
    loaded = load_model(tmp_path / "m")
    assert loaded.predict(x) == char_tagger.predict(x)
    for a, b in zip(loaded.predict_proba(x), char_tagger.predict_proba(x), strict=True):
        np.testing.assert_array_equal(a, b)
    del vocab["chars"]
    (tmp_path / "m" / "vocab.json").write_text(json.dumps(vocab))
    with pytest.raises(ModelFileError, match="no 'chars' entry"):
        load_model(tmp_path / "m")


@pytest.mark.parametrize(
    "settings, match",
    [
        ({"one_hot": True}, "does not go with one_hot"),
        ({"char_units": 0}, "char_units=0"),
        ({"max_word_chars": 2.5}, "max_word_chars=2.5"),
        ({"char_cell": "conv"}, "conv"),
    ],
)
def test_settings_that_do_not_fit_are_refused(settings, match) -> None:
    with pytest.raises(ConfigError, match=match):
        SequenceTagger(char_features=True, **settings)


def test_characters_help_on_unseen_words_of_real_text() -> None:
    if not (EWT / "en_ewt-ud-train.conllu").exists():
        pytest.skip(f"UD English-EWT is not in {EWT}")
    train = read_conllu(EWT / "en_ewt-ud-train.conllu")
    dev = read_conllu(EWT / "en_ewt-ud-dev.conllu")
    x, y = train.sentences[:1500], train.tags[:1500]
    seen = {w.lower() for s in x for w in s}
    settings = dict(cell="lstm", hidden=48, epochs=3, verbose=0, seed=0)
    scores = {}
    for chars in (False, True):
        tagger = SequenceTagger(char_features=chars, **settings).fit(x, y)
        pred = tagger.predict(dev.sentences[:600])
        pairs = [
            (p, g)
            for s, ps, gs in zip(dev.sentences[:600], pred, dev.tags[:600], strict=True)
            for w, p, g in zip(s, ps, gs, strict=True)
            if w.lower() not in seen
        ]
        scores[chars] = np.mean([p == g for p, g in pairs])
    assert len(pairs) > 1000
    assert scores[True] > scores[False] + 0.05, scores
