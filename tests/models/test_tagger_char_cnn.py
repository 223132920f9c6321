"""SequenceTagger(char_cell="cnn"): words read from their characters by a CharCNN.

Specified here: the character CNN tags words it never saw from their spelling; a saved
CNN tagger loads back to the same bits; its features are as wide as the bidirectional
encoder's; char_cell="auto" picks it for entity tags only. (The float64 gradient check
of the whole CNN tagger is in test_tagger_chars.py, beside the BiLSTM's.)
"""

from __future__ import annotations

import numpy as np
import pytest

from rnnkit.errors import ConfigError
from rnnkit.layers import CharCNN, CharEncoder, WordCharEmbedding
from rnnkit.models import SequenceTagger, load_model
from rnnkit.models.tagger import CHAR_CNN, char_cells
from spelling import STEMS, spelling_corpus

FAST = dict(hidden=16, embed_dim=8, char_dim=8, char_units=8, lr=0.02, epochs=12, dropout=0,
            embed_dropout=0, verbose=0, seed=0, char_cell="cnn")  # fmt: skip


@pytest.fixture(scope="module")
def cnn_tagger() -> SequenceTagger:
    x, y = spelling_corpus(STEMS[:14], 200, seed=1)
    return SequenceTagger(**FAST).fit(x, y)


def test_unseen_words_are_tagged_from_their_spelling(cnn_tagger) -> None:
    unseen = spelling_corpus(STEMS[14:], 100, seed=2)  # no word of these was trained on
    assert cnn_tagger.evaluate(*unseen).accuracy > 0.95


def test_the_features_are_as_wide_as_the_recurrent_encoders(cnn_tagger) -> None:
    first = cnn_tagger.model_.layers[0]
    assert isinstance(first, WordCharEmbedding) and isinstance(first.chars, CharCNN)
    assert first.chars.filters == 2 * 8 and first.chars.window == 3
    assert first.output_spec.size == 8 + 2 * 8
    assert char_cells()[-2:] == [CHAR_CNN, "auto"]


def test_save_and_load_give_the_same_bits(cnn_tagger, tmp_path) -> None:
    x, _ = spelling_corpus(STEMS[14:], 20, seed=5)
    cnn_tagger.save(tmp_path / "m")
    loaded = load_model(tmp_path / "m")
    assert loaded.settings["char_cell"] == "cnn"
    assert isinstance(loaded.model_.layers[0].chars, CharCNN)
    for a, b in zip(loaded.model_.get_weights(), cnn_tagger.model_.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert loaded.predict(x) == cnn_tagger.predict(x)
    for a, b in zip(loaded.predict_proba(x), cnn_tagger.predict_proba(x), strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_cell_that_is_neither_registered_nor_cnn_is_refused() -> None:
    with pytest.raises(ConfigError, match="'conv'"):
        SequenceTagger(char_cell="conv")


def test_auto_reads_entity_tags_with_the_cnn_and_other_tags_with_an_lstm() -> None:
    x, pos = spelling_corpus(STEMS[:4], 12, seed=4)
    bio = [["B-X" if t == "VERB" else "O" for t in seq] for seq in pos]
    tiny = {**FAST, "epochs": 1, "char_cell": "auto"}
    assert SequenceTagger().settings["char_cell"] == "auto"  # the default
    for tags, encoder in ((bio, CharCNN), (pos, CharEncoder)):
        tagger = SequenceTagger(**tiny).fit(x, tags)
        chars = tagger.model_.layers[0].chars
        assert type(chars) is encoder and tagger.char_cell == (
            "cnn" if encoder is CharCNN else "lstm"
        )
    assert chars.cell == "lstm"
