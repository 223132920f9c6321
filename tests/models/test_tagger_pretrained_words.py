"""SequenceTagger with pretrained vectors: the file's words join the vocabulary.

A word met first at test time keeps its pretrained vector when the file's most
frequent words are in the vocabulary (``pretrained_words``); with 0, it is ``<unk>``.
"""

from __future__ import annotations

import numpy as np
import pytest

from rnnkit.errors import ConfigError
from rnnkit.models import SequenceTagger

VECTORS = {
    "the": [0.5, -1.0],
    "Paris": [4.0, 4.0],
    "tsunami": [2.0, 0.25],
    "cat": [0.0, 1.5],
    "rare": [1.0, 1.0],
}
SENTENCES = [["the", "cat"], ["the", "dog"]] * 4
TAGS = [["DET", "NOUN"]] * 8
FAST = dict(hidden=4, epochs=1, verbose=0, seed=0, char_features=False)


@pytest.fixture
def glove(tmp_path):
    path = tmp_path / "vectors.txt"
    path.write_text("".join(f"{w} {a} {b}\n" for w, (a, b) in VECTORS.items()))
    return str(path)


def test_the_files_first_words_join_the_vocabulary(glove) -> None:
    tagger = SequenceTagger(embeddings=glove, pretrained_words=4, **FAST).fit(SENTENCES, TAGS)
    words = [t for t in tagger.vocab_.tokens if t not in tagger.vocab_.specials]
    # the training words, then the file's new ones; "Paris" has no lowercase vector
    assert words == ["the", "cat", "dog", "tsunami"]
    E = tagger.model_.layers[0].params["E"]
    ids = tagger.encode([["Tsunami", "rare"]])[0]
    assert ids[1] == tagger.vocab_.unk_id  # "rare" is the file's 5th word: not taken
    np.testing.assert_array_equal(E[ids[0]], VECTORS["tsunami"])  # untouched by training


def test_none_join_with_zero_or_without_a_file(glove) -> None:
    tagger = SequenceTagger(embeddings=glove, pretrained_words=0, **FAST).fit(SENTENCES, TAGS)
    assert "tsunami" not in tagger.vocab_
    assert "tsunami" not in SequenceTagger(**FAST).fit(SENTENCES, TAGS).vocab_
    cased = SequenceTagger(embeddings=glove, pretrained_words=4, lower=False, **FAST)
    assert "Paris" in cased.fit(SENTENCES, TAGS).vocab_


@pytest.mark.parametrize("n", [-1, 2.5, True])
def test_a_bad_count_is_refused(n) -> None:
    with pytest.raises(ConfigError, match="pretrained_words"):
        SequenceTagger(pretrained_words=n)


def test_pretrained_words_without_a_file_is_refused() -> None:
    with pytest.raises(ConfigError, match="pretrained_words needs embeddings"):
        SequenceTagger(pretrained_words=10, **FAST).fit(SENTENCES, TAGS)
    SequenceTagger(pretrained_words=0, **FAST).fit(SENTENCES, TAGS)  # none asked for: fine
