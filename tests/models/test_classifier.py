"""SequenceClassifier (many-to-one text classification) and the Sequential it runs on."""

from __future__ import annotations

import numpy as np
import pytest

from rnnkit.errors import ConfigError, DataError
from rnnkit.layers import (
    Dense,
    Dropout,
    Embedding,
    GlobalMaxPooling1D,
    OneHot,
    SimpleRNN,
)
from rnnkit.models import SequenceClassifier, Sequential, load_model
from rnnkit.models.classifier import CHAR_DEFAULTS, DEFAULTS

# -- the scikit-learn conventions --------------------------------------------------------


def test_init_only_stores_settings():
    clf = SequenceClassifier(hidden=8, seed=4)
    assert clf.hidden == 8 and clf.settings["seed"] == 4
    assert not hasattr(clf, "model_")
    assert not hasattr(clf, "vocab_")


def test_fit_returns_self_with_learned_attributes(binary_texts, tiny):
    clf = SequenceClassifier(**tiny)
    assert clf.fit(*binary_texts) is clf
    assert clf.labels_ == ["neg", "pos"]
    assert {"good", "bad", "film"} <= set(clf.vocab_.tokens)
    assert len(clf.history_.epochs) == tiny["epochs"]


@pytest.mark.parametrize(
    ("settings", "unknown"),
    [({"hiden": 8}, "hiden"), ({"hidden": 8, "learning_rate": 0.1}, "learning_rate")],
    ids=["typo", "keras-name"],
)
def test_unknown_setting_raises_config_error(settings, unknown):
    with pytest.raises(ConfigError, match=f"unknown setting '{unknown}'"):
        SequenceClassifier(**settings)


def test_unknown_pooling_raises_config_error():
    with pytest.raises(ConfigError, match="pooling='sum'"):
        SequenceClassifier(pooling="sum")


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda clf: clf.predict(["good film"]), id="predict"),
        pytest.param(lambda clf: clf.predict_proba(["good film"]), id="predict_proba"),
        pytest.param(lambda clf: clf.evaluate(["good film"], ["pos"]), id="evaluate"),
        pytest.param(lambda clf: clf.encode(["good film"]), id="encode"),
        pytest.param(lambda clf: clf.save("never-written"), id="save"),
    ],
)
def test_use_before_fit_raises_config_error(call, tmp_path, monkeypatch, tiny):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match="fit"):
        call(SequenceClassifier(**tiny))
    assert list(tmp_path.iterdir()) == []


def test_fit_with_one_class_raises_data_error(tiny):
    with pytest.raises(DataError, match="one class"):
        SequenceClassifier(**tiny).fit(["good film", "great plot"], ["pos", "pos"])


def test_fit_with_mismatched_lengths_raises_data_error(tiny):
    with pytest.raises(DataError, match="3 texts but 2 labels"):
        SequenceClassifier(**tiny).fit(["good", "bad", "fine"], ["pos", "neg"])


def test_evaluate_on_an_unseen_label_raises_data_error(binary_clf):
    with pytest.raises(DataError, match="'meh'"):
        binary_clf.evaluate(["good film", "okay film"], ["pos", "meh"])


def test_a_text_without_tokens_raises_data_error(binary_clf):
    with pytest.raises(DataError, match="text 2"):
        binary_clf.predict(["good film", "   "])


# -- predictions -----------------------------------------------------------------------


def test_binary_output_is_one_sigmoid_unit(binary_clf):
    out = binary_clf.model_.output_layer
    assert isinstance(out, Dense)
    assert (out.units, out.activation) == (1, "sigmoid")
    assert binary_clf.model_.loss == "binary_crossentropy"


def test_predict_proba_rows_sum_to_one_and_predict_is_their_argmax(binary_clf, toy_texts):
    texts, _ = toy_texts(30, ("pos", "neg"), seed=7)
    proba = binary_clf.predict_proba(texts)
    assert proba.shape == (30, 2)
    assert ((proba >= 0) & (proba <= 1)).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-6)
    assert binary_clf.predict(texts) == [binary_clf.labels_[k] for k in proba.argmax(axis=1)]
    # column 1 is the sigmoid output itself, P(labels_[1])
    sigmoid = binary_clf.model_.predict(binary_clf.encode(texts))[:, 0]
    np.testing.assert_array_equal(proba[:, 1], sigmoid)


def test_three_labels_give_a_softmax_over_three_units(toy_texts, tiny):
    texts, labels = toy_texts(150, ("pos", "neg", "meh"), seed=0)
    clf = SequenceClassifier(**{**tiny, "epochs": 10}).fit(texts, labels)
    out = clf.model_.output_layer
    assert (out.units, out.activation) == (3, "softmax")
    assert clf.model_.loss == "sparse_categorical_crossentropy"
    assert clf.labels_ == ["meh", "neg", "pos"]
    test_texts, test_labels = toy_texts(60, ("pos", "neg", "meh"), seed=1)
    proba = clf.predict_proba(test_texts)
    assert proba.shape == (60, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-6)
    assert clf.evaluate(test_texts, test_labels).accuracy >= 0.8  # chance is 1/3


def test_one_hot_inputs_replace_the_embedding(binary_texts, toy_texts, tiny):
    clf = SequenceClassifier(**{**tiny, "one_hot": True, "embed_dropout": 0.3, "epochs": 20})
    clf.fit(*binary_texts)
    layers = clf.model_.layers
    assert isinstance(layers[0], OneHot)
    assert layers[0].depth == len(clf.vocab_)
    assert not any(isinstance(layer, (Embedding, Dropout)) for layer in layers)
    rnn = layers[1]
    assert isinstance(rnn, SimpleRNN)
    assert rnn.params["U"].shape == (len(clf.vocab_), tiny["hidden"])  # a row per token
    assert clf.evaluate(*toy_texts(60, ("pos", "neg"), seed=1)).accuracy >= 0.8


def test_char_level(binary_texts, toy_texts, tiny):
    clf = SequenceClassifier(**{**tiny, "level": "char", "epochs": 20}).fit(*binary_texts)
    assert all(len(token) == 1 for token in clf.vocab_.tokens if not token.startswith("<"))
    assert [len(ids) for ids in clf.encode(["good film", "ok"])] == [9, 2]
    assert clf.evaluate(*toy_texts(60, ("pos", "neg"), seed=1)).accuracy >= 0.8


def test_save_and_load_give_identical_predictions(binary_clf, toy_texts, tmp_path):
    binary_clf.save(tmp_path / "model")
    loaded = SequenceClassifier.load(tmp_path / "model")
    texts, _ = toy_texts(40, ("pos", "neg"), seed=3)
    np.testing.assert_array_equal(loaded.predict_proba(texts), binary_clf.predict_proba(texts))
    assert loaded.labels_ == binary_clf.labels_
    assert loaded.vocab_ == binary_clf.vocab_
    assert loaded.settings == binary_clf.settings
    assert loaded.model_.get_config() == binary_clf.model_.get_config()


# -- Sequential ------------------------------------------------------------------------


def lecture_rnn(dtype=None):
    """Embedding -> SimpleRNN(16) -> Dense(1, sigmoid) for ids 0..9, compiled, seed 0."""
    layers = [Embedding(10, 8), SimpleRNN(16), Dense(1, "sigmoid")]
    model = Sequential(layers, seed=0, dtype=dtype)
    return model.compile("adam", "binary_crossentropy", lr=0.01)


def padded(seqs, fill):
    """(N, T) ids with `fill` after each sequence's end, and the (N,) lengths."""
    lengths = np.array([len(s) for s in seqs])
    x = np.full((len(seqs), lengths.max()), fill, dtype=np.int64)
    for i, s in enumerate(seqs):
        x[i, : len(s)] = s
    return x, lengths


def test_padded_arrays_with_lengths_equal_the_list_of_arrays(contains_3):
    seqs, y = contains_3(200, seed=0)
    # the pads hold a real token id, so a model that read past `lengths` would differ
    x, lengths = padded(seqs, fill=3)
    a, b = lecture_rnn(), lecture_rnn()
    history_a = a.fit(seqs, y, epochs=2, batch_size=16, verbose=0)
    history_b = b.fit(x, y, lengths, epochs=2, batch_size=16, verbose=0)
    for wa, wb in zip(a.get_weights(), b.get_weights(), strict=True):
        np.testing.assert_array_equal(wa, wb)
    assert [e["loss"] for e in history_a.epochs] == [e["loss"] for e in history_b.epochs]
    assert a.evaluate(seqs, y) == a.evaluate(x, y, lengths)
    np.testing.assert_array_equal(a.predict(seqs), a.predict(x, lengths))


def test_predict_returns_rows_in_input_order(contains_3):
    seqs, _ = contains_3(40, seed=1)
    model = lecture_rnn(dtype="float64")
    # batches of 8 are cut from the length-sorted order, which is not the input order
    together = model.predict(seqs, batch_size=8)
    one_by_one = np.concatenate([model.predict([s]) for s in seqs])
    assert together.shape == (40, 1)
    # NOTE: float64 and the same arithmetic per row; only BLAS blocking can differ
    np.testing.assert_allclose(together, one_by_one, rtol=1e-12, atol=1e-15)
    assert len(np.unique(together)) == 40  # the check would notice rows out of place


def test_evaluate_accuracy_matches_predict(contains_3):
    seqs, y = contains_3(100, seed=2)
    model = lecture_rnn()
    model.fit(seqs, y, epochs=1, batch_size=16, verbose=0)
    predicted = (model.predict(seqs)[:, 0] > 0.5).astype(int)
    assert model.evaluate(seqs, y)["accuracy"] == pytest.approx(np.mean(predicted == y))


@pytest.mark.parametrize("pooling", ["last", "max"])
def test_learns_whether_a_sequence_contains_token_3(contains_3, pooling):
    """A task that needs memory: the 3 can be anywhere in 4-15 steps."""
    x_train, y_train = contains_3(1000, seed=10)
    x_test, y_test = contains_3(500, seed=11)
    if pooling == "last":  # the lecture's network: Dense reads h_T
        layers = [Embedding(10, 8), SimpleRNN(16), Dense(1, "sigmoid")]
    else:
        rnn = SimpleRNN(16, return_sequences=True)
        layers = [Embedding(10, 8), rnn, GlobalMaxPooling1D(), Dense(1, "sigmoid")]
    model = Sequential(layers, seed=0).compile("adam", "binary_crossentropy", lr=0.01)
    model.fit(x_train, y_train, epochs=5, batch_size=32, verbose=0)
    assert model.evaluate(x_test, y_test)["accuracy"] > 0.95  # chance is about 0.5


def test_character_level_starts_from_its_own_defaults(tmp_path) -> None:
    word = SequenceClassifier()
    assert word.settings == DEFAULTS
    char = SequenceClassifier(level="char", hidden=32)
    assert char.settings == {**DEFAULTS, **CHAR_DEFAULTS, "level": "char", "hidden": 32}
    assert char.settings["cell"] == "gru" and not char.settings["lower"]
    names = ["Nakamura", "Tanaka", "Papadopoulos", "Pappas"] * 6
    langs = ["Japanese", "Japanese", "Greek", "Greek"] * 6
    model = SequenceClassifier(level="char", hidden=8, embed_dim=4, epochs=2, verbose=0)
    model.fit(names, langs).save(tmp_path / "m")
    again = load_model(tmp_path / "m")
    assert again.settings == model.settings  # the resolved settings are what is saved


def test_training_data_is_what_the_network_trains_on(binary_clf, toy_texts):
    """Encoded texts and label ids, in batches whose loss is the network's own."""
    texts, labels = toy_texts(12, ("pos", "neg"), seed=4)
    data = binary_clf.training_data(texts, labels)
    batch = data.batch(np.arange(len(texts)))
    want_y = [binary_clf.labels_.index(label) for label in labels]
    np.testing.assert_array_equal(batch.y, want_y)
    for row, ids, n in zip(batch.x, binary_clf.encode(texts), batch.lengths, strict=True):
        np.testing.assert_array_equal(row[:n], ids)
    loss = binary_clf.model_.eval_batch(batch).loss_sum / len(texts)
    direct = binary_clf.model_.evaluate(binary_clf.encode(texts), np.array(want_y))["loss"]
    assert loss == pytest.approx(direct, rel=1e-6)
    with pytest.raises(DataError, match="not seen in training"):
        binary_clf.training_data(texts[:1], ["no such label"])
