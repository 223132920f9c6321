"""BagOfWordsNB: the Naive Bayes maths, the sklearn-style contract, saving, and real data."""

from __future__ import annotations

import builtins
import io
import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from rnnkit.errors import ConfigError, DataError, ModelFileError
from rnnkit.text.bow import BagOfWordsNB
from rnnkit.text.tokenize import word_tokenize

MR_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "mr_sentence_polarity"

TEXTS = ["Movie was good", "good acting !", "movie was bad", "bad plot , bad acting"]
LABELS = ["pos", "pos", "neg", "neg"]


def read_mr(name: str) -> tuple[list[str], list[str]]:
    """Texts and labels of an MR split: latin-1, ``label<TAB>snippet``, no header."""
    path = MR_DIR / name
    if not path.is_file():
        pytest.skip(f"MR sentence-polarity data not found at {path}")
    texts, labels = [], []
    # Split on "\n" only: the latin-1 text holds byte 0x85, which splitlines() breaks on.
    for line in path.read_text(encoding="latin-1").split("\n"):
        if line:
            label, text = line.split("\t", 1)
            texts.append(text)
            labels.append(label)
    return texts, labels


@pytest.fixture(scope="module")
def mr() -> dict[str, tuple[list[str], list[str]]]:
    return {split: read_mr(f"{split}.tsv") for split in ("train", "test")}


@pytest.fixture(scope="module")
def mr_model(mr) -> BagOfWordsNB:
    return BagOfWordsNB().fit(*mr["train"])


@pytest.fixture
def tiny() -> BagOfWordsNB:
    return BagOfWordsNB().fit(TEXTS, LABELS)


@pytest.fixture
def no_sklearn(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every ``import sklearn...`` fail, as on an install without the extra."""
    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == "sklearn" or name.startswith("sklearn."):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)


def naive_bayes_proba(train_texts, train_labels, texts, alpha=1.0) -> np.ndarray:
    """Multinomial NB written out from its definition, in float64, classes sorted."""
    classes = sorted(set(train_labels))
    vocab = sorted({w for t in train_texts for w in word_tokenize(t)})
    counts = {c: Counter() for c in classes}
    for text, label in zip(train_texts, train_labels, strict=True):
        counts[label].update(word_tokenize(text))
    log_scores = np.zeros((len(texts), len(classes)))
    for k, c in enumerate(classes):
        prior = np.log(train_labels.count(c) / len(train_labels))
        total = sum(counts[c].values()) + alpha * len(vocab)
        for i, text in enumerate(texts):
            words = [w for w in word_tokenize(text) if w in vocab]  # unseen words drop out
            log_scores[i, k] = prior + sum(np.log((counts[c][w] + alpha) / total) for w in words)
    scores = np.exp(log_scores - log_scores.max(axis=1, keepdims=True))
    return scores / scores.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("alpha", [1.0, 0.3])
def test_probabilities_follow_the_naive_bayes_definition(alpha: float) -> None:
    queries = ["good movie", "bad movie", "Acting was GOOD , plot bad", "unseen words only"]
    model = BagOfWordsNB(alpha=alpha).fit(TEXTS, LABELS)
    expected = naive_bayes_proba(TEXTS, LABELS, queries, alpha=alpha)
    np.testing.assert_allclose(model.predict_proba(queries), expected, rtol=0, atol=1e-12)


def test_fit_predict_contract(tiny: BagOfWordsNB) -> None:
    assert tiny.labels_ == ["neg", "pos"]
    assert tiny.predict(["good movie", "bad movie"]) == ["pos", "neg"]
    ids = tiny.predict_ids(["good movie", "bad movie"])
    assert ids.dtype == np.int64 and ids.tolist() == [1, 0]
    proba = tiny.predict_proba(["good movie", "bad movie", "?"])
    assert proba.shape == (3, 2) and proba.dtype == np.float64
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(proba.argmax(axis=1)[:2], ids)


def test_init_only_stores_arguments_and_fit_returns_self() -> None:
    model = BagOfWordsNB(lowercase=False, ngram_range=(1, 2), alpha=0.5, min_df=2)
    assert vars(model) == {"lowercase": False, "ngram_range": (1, 2), "alpha": 0.5, "min_df": 2}
    texts, labels = list(TEXTS), list(LABELS)
    assert model.fit(texts, labels) is model
    assert texts == TEXTS and labels == LABELS  # inputs untouched
    assert model.ngram_range == (1, 2) and model.alpha == 0.5
    assert {"labels_", "vectorizer_", "model_"} <= set(vars(model))


def test_tokens_come_from_word_tokenize(tiny: BagOfWordsNB) -> None:
    # Punctuation is a token, as word_tokenize makes it; case is folded by default.
    vocabulary = set(tiny.vectorizer_.vocabulary_)
    assert {"!", ",", "movie", "good"} <= vocabulary and "Movie" not in vocabulary


def test_options_change_the_vocabulary() -> None:
    cased = BagOfWordsNB(lowercase=False).fit(TEXTS, LABELS)
    assert {"Movie", "movie"} <= set(cased.vectorizer_.vocabulary_)
    bigrams = BagOfWordsNB(ngram_range=(1, 2)).fit(TEXTS, LABELS)
    assert {"movie was", "bad acting", "bad"} <= set(bigrams.vectorizer_.vocabulary_)
    frequent = BagOfWordsNB(min_df=2).fit(TEXTS, LABELS)
    assert set(frequent.vectorizer_.vocabulary_) == {"movie", "was", "good", "bad", "acting"}


def test_state_is_json_and_arrays_and_round_trips(tiny: BagOfWordsNB) -> None:
    config, arrays = tiny.to_state()
    config = json.loads(json.dumps(config))  # only JSON types survive this
    assert config["labels"] == ["neg", "pos"] and config["tokenizer"] == "word_tokenize"
    v = len(config["vocabulary"])
    assert arrays["feature_log_prob"].shape == (2, v) and arrays["feature_count"].shape == (2, v)
    assert arrays["class_log_prior"].shape == (2,) and arrays["class_count"].shape == (2,)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    buffer.seek(0)
    with np.load(buffer, allow_pickle=False) as npz:
        loaded = BagOfWordsNB.from_state(config, dict(npz))
    queries = ["good movie", "bad plot", "Movie Was Good !", "nothing known"]
    np.testing.assert_array_equal(loaded.predict_proba(queries), tiny.predict_proba(queries))
    assert loaded.predict(queries) == tiny.predict(queries)
    again_config, again_arrays = loaded.to_state()
    assert again_config == config
    for name, array in arrays.items():
        np.testing.assert_array_equal(again_arrays[name], array)


def test_state_keeps_options() -> None:
    model = BagOfWordsNB(lowercase=False, ngram_range=(1, 2), alpha=0.5).fit(TEXTS, LABELS)
    loaded = BagOfWordsNB.from_state(*model.to_state())
    assert (loaded.lowercase, loaded.ngram_range, loaded.alpha) == (False, (1, 2), 0.5)
    queries = ["Movie was", "movie was", "bad acting"]
    np.testing.assert_array_equal(loaded.predict_proba(queries), model.predict_proba(queries))


def test_broken_state_is_a_model_file_error(tiny: BagOfWordsNB) -> None:
    config, arrays = tiny.to_state()
    with pytest.raises(ModelFileError, match=r"^config: missing key 'vocabulary'$"):
        BagOfWordsNB.from_state({k: v for k, v in config.items() if k != "vocabulary"}, arrays)
    short = dict(arrays, feature_log_prob=arrays["feature_log_prob"][:, :-1])
    with pytest.raises(ModelFileError, match=r"^feature_log_prob: shape"):
        BagOfWordsNB.from_state(config, short)
    with pytest.raises(ModelFileError, match=r"^config: "):
        BagOfWordsNB.from_state(dict(config, tokenizer="regex"), arrays)
    with pytest.raises(ModelFileError, match=r"^arrays: missing array 'class_count'$"):
        BagOfWordsNB.from_state(config, {k: v for k, v in arrays.items() if k != "class_count"})
    with pytest.raises(ModelFileError, match=r"^config: alpha: "):
        BagOfWordsNB.from_state(dict(config, alpha=-1.0), arrays)


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"alpha": 0.0}, "alpha"),
        ({"ngram_range": (2, 1)}, "ngram_range"),
        ({"ngram_range": (0, 1)}, "ngram_range"),
        ({"ngram_range": (1,)}, "ngram_range"),
        ({"min_df": 0}, "min_df"),
        ({"min_df": 0.5}, "min_df"),
    ],
)
def test_bad_arguments_are_config_errors(kwargs: dict, argument: str) -> None:
    with pytest.raises(ConfigError, match=f"^{argument}: "):
        BagOfWordsNB(**kwargs).fit(TEXTS, LABELS)


@pytest.mark.parametrize(
    ("texts", "labels", "argument"),
    [
        ("movie was good", ["pos"], "texts"),
        (["a b", "c d"], ["pos"], "labels"),
        ([], [], "texts"),
        (["good", 3], ["pos", "neg"], r"texts\[1\]"),
        (["good", "bad"], ["pos", 0], r"labels\[1\]"),
        (["", "  "], ["pos", "neg"], "texts"),  # no token at all: empty vocabulary
    ],
)
def test_bad_data_is_a_data_error(texts, labels, argument: str) -> None:
    with pytest.raises(DataError, match=f"^{argument}: [^\n]*$"):
        BagOfWordsNB().fit(texts, labels)


def test_unfitted_model_says_so() -> None:
    with pytest.raises(ConfigError, match="not fitted"):
        BagOfWordsNB().predict(["good"])
    with pytest.raises(ConfigError, match="not fitted"):
        BagOfWordsNB().to_state()


def test_predict_rejects_a_single_string(tiny: BagOfWordsNB) -> None:
    with pytest.raises(DataError, match=r"^texts: expected a list of strings"):
        tiny.predict("good movie")


def test_missing_scikit_learn_gives_a_config_error(no_sklearn) -> None:
    with pytest.raises(ConfigError) as info:
        BagOfWordsNB().fit(TEXTS, LABELS)
    assert str(info.value) == (
        "the bag-of-words baseline needs scikit-learn: pip install 'rnnkit[baseline]'"
    )


@pytest.mark.slow
def test_movie_review_test_accuracy(mr, mr_model: BagOfWordsNB) -> None:
    texts, labels = mr["test"]
    assert len(texts) == 1066
    accuracy = np.mean(np.array(mr_model.predict(texts)) == np.array(labels))
    assert accuracy > 0.74, f"MR test accuracy {accuracy:.4f}"


@pytest.mark.slow
def test_movie_review_model_round_trips(mr, mr_model: BagOfWordsNB) -> None:
    texts, _ = mr["test"]
    config, arrays = mr_model.to_state()
    loaded = BagOfWordsNB.from_state(json.loads(json.dumps(config)), arrays)
    np.testing.assert_array_equal(loaded.predict_proba(texts), mr_model.predict_proba(texts))
