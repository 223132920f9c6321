"""Saving and loading models: load_model, save_sequential, sequential_from_files.

A model directory is rebuilt from a fixed table of layer classes and checked tensor
by tensor; anything that does not fit is a ModelFileError naming the file at fault.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest

from rnnkit.errors import ModelFileError
from rnnkit.io import ModelFiles, load_model_dir
from rnnkit.layers import CharEncoder, Dense, Dropout, OneHot, SimpleRNN
from rnnkit.models import BagOfWordsClassifier, SequenceClassifier, Sequential, load_model
from rnnkit.models.persist import save_sequential, sequential_from_files

TEXTS = ["good film", "the plot was awful", "really fine acting", "dull", "okay movie"]


@pytest.fixture(scope="module")
def saved(tmp_path_factory, binary_clf, bow_clf) -> dict[str, Path]:
    """The module's two trained classifiers, saved as model directories."""
    root = tmp_path_factory.mktemp("saved")
    return {"rnn": binary_clf.save(root / "rnn"), "bow": bow_clf.save(root / "bow")}


def test_load_model_on_a_recurrent_classifier(saved, binary_clf):
    model = load_model(saved["rnn"])
    assert isinstance(model, SequenceClassifier)
    assert model.labels_ == binary_clf.labels_
    np.testing.assert_array_equal(model.predict_proba(TEXTS), binary_clf.predict_proba(TEXTS))


def test_load_model_on_the_bag_of_words_baseline(saved, bow_clf):
    model = load_model(saved["bow"])
    assert isinstance(model, BagOfWordsClassifier)
    assert model.labels_ == bow_clf.labels_
    np.testing.assert_array_equal(model.predict_proba(TEXTS), bow_clf.predict_proba(TEXTS))
    assert model.predict(TEXTS) == bow_clf.predict(TEXTS)


def test_bag_of_words_directory_is_safetensors_and_json_only(saved):
    assert sorted(p.name for p in saved["bow"].iterdir()) == ["config.json", "weights.safetensors"]


def _edit_config(directory: Path, change) -> None:
    path = directory / "config.json"
    config = json.loads(path.read_text(encoding="utf-8"))
    change(config)
    path.write_text(json.dumps(config), encoding="utf-8")


@pytest.mark.parametrize(
    ("kind", "change", "message"),
    [
        pytest.param("rnn", lambda c: c.update(task="speech"), "task 'speech'", id="rnn-task"),
        pytest.param("bow", lambda c: c.update(task="speech"), "task 'speech'", id="bow-task"),
        pytest.param(
            "rnn",
            lambda c: c["architecture"].update({"class": "Functional"}),
            "'Functional'",
            id="unknown-architecture",
        ),
    ],
)
def test_load_model_refuses_what_it_cannot_load(saved, tmp_path, kind, change, message):
    directory = tmp_path / kind
    directory.mkdir()
    for path in saved[kind].iterdir():
        (directory / path.name).write_bytes(path.read_bytes())
    _edit_config(directory, change)
    with pytest.raises(ModelFileError, match=message) as info:
        load_model(directory)
    assert str(directory / "config.json") in str(info.value)


# -- Sequential to a directory and back ------------------------------------------------


def lecture_model() -> Sequential:
    """The lecture's network: one-hot over 5 words, SimpleRNN(3), dropout, Dense(1)."""
    layers = [OneHot(5), SimpleRNN(3), Dropout(0.2), Dense(1, "sigmoid")]
    return Sequential(layers, seed=7).compile("adam", "binary_crossentropy")


def test_save_sequential_round_trip(tmp_path):
    model = lecture_model()
    save_sequential(model, tmp_path / "m", task="classify", training={"note": "lecture"})
    files = load_model_dir(tmp_path / "m")
    assert files.config["training"] == {"note": "lecture"}
    rebuilt = sequential_from_files(files)
    assert rebuilt.get_config() == model.get_config()
    assert rebuilt.loss == "binary_crossentropy"
    for a, b in zip(rebuilt.get_weights(), model.get_weights(), strict=True):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    ids = np.array([[0, 1, 2], [0, 1, 4]])
    np.testing.assert_array_equal(rebuilt.predict(ids), model.predict(ids))


def test_a_model_reading_characters_round_trips(tmp_path):
    layers = [CharEncoder(9, 4, 3, cell="gru"), Dense(2, "softmax")]
    model = Sequential(layers, seed=1).compile("adam", "sparse_categorical_crossentropy")
    save_sequential(model, tmp_path / "m", task="tag")
    rebuilt = sequential_from_files(load_model_dir(tmp_path / "m"))
    assert rebuilt.get_config() == model.get_config()
    ids = np.array([[[1, 2, 0], [3, 0, 0]], [[8, 8, 8], [0, 0, 0]]])  # (B, T, L) characters
    mask = np.array([[True, True], [True, False]])
    np.testing.assert_array_equal(rebuilt.forward(ids, mask)[0], model.forward(ids, mask)[0])


@pytest.fixture
def files(tmp_path) -> ModelFiles:
    """The lecture model as a loaded model directory would hold it (nothing on disk)."""
    model = lecture_model()
    weights = {k: v.copy() for k, v in model.named_weights().items()}
    config = {"task": "classify", "architecture": model.get_config()}
    return ModelFiles(config=config, weights=weights, vocab=None, path=tmp_path / "m")


def edited(files: ModelFiles, architecture=None, weights=None) -> ModelFiles:
    config = copy.deepcopy(files.config)
    if architecture is not None:
        architecture(config["architecture"])
    tensors = dict(files.weights)
    if weights is not None:
        weights(tensors)
    return ModelFiles(config=config, weights=tensors, vocab=None, path=files.path)


def _set_layer(i, **change):
    def edit(arch):
        arch["layers"][i].update(change)

    return edit


def _set_layer_config(i, **change):
    def edit(arch):
        arch["layers"][i]["config"].update(change)

    return edit


ARCHITECTURE_ERRORS = [
    pytest.param(_set_layer(1, **{"class": "Conv1D"}), "layer class 'Conv1D'", id="unknown"),
    pytest.param(_set_layer(1, **{"class": "__import__"}), "unknown layer class", id="not-a-layer"),
    pytest.param(lambda a: a.pop("layers"), "layers", id="no-layers"),
    pytest.param(lambda a: a.update(layers=5), "invalid architecture", id="layers-not-a-list"),
    pytest.param(lambda a: a.update(layers=[]), "at least one layer", id="empty"),
    pytest.param(lambda a: a["layers"][1].pop("config"), "config", id="no-layer-config"),
    pytest.param(_set_layer_config(1, cell="lstm"), "cell", id="unexpected-argument"),
    pytest.param(_set_layer_config(2, rate=2.0), "rate", id="argument-out-of-range"),
    pytest.param(lambda a: a.update(seed="x"), "invalid architecture", id="seed-not-int"),
    # found by tests/io/test_io_model_hostile.py: each loaded, then failed or ran out of memory
    pytest.param(
        _set_layer_config(1, units=2**40), "units=1099511627776: no tensor", id="huge-size"
    ),
    pytest.param(_set_layer_config(1, units="3"), "units='3': no tensor", id="size-not-int"),
    pytest.param(_set_layer_config(1, return_state=True), "return_state=True", id="states"),
    pytest.param(lambda a: a.update(loss=True), "loss=True is not one of", id="loss-not-a-name"),
    pytest.param(lambda a: a.update(loss=["mse"]), "invalid architecture", id="loss-a-list"),
    pytest.param(
        lambda a: a.update(loss="mse"), "needs a final Dense with activation='linear'", id="loss"
    ),
]


@pytest.mark.parametrize(("architecture", "message"), ARCHITECTURE_ERRORS)
def test_sequential_from_files_names_config_json(files, architecture, message):
    with pytest.raises(ModelFileError, match=message) as info:
        sequential_from_files(edited(files, architecture=architecture))
    text = str(info.value)
    assert text.startswith(f"{files.path / 'config.json'}: ")
    assert "\n" not in text


def _replace(name, value):
    return lambda w: w.update({name: value})


WEIGHT_ERRORS = [
    pytest.param(lambda w: w.pop("simple_rnn.W"), "missing tensor 'simple_rnn.W'", id="missing"),
    pytest.param(
        _replace("extra.b", np.zeros(3, np.float32)), "unexpected tensor 'extra.b'", id="extra"
    ),
    pytest.param(
        _replace("simple_rnn.U", np.zeros((5, 4), np.float32)),
        r"'simple_rnn.U' has shape \(5, 4\), expected \(5, 3\)",
        id="shape",
    ),
    pytest.param(
        _replace("dense.V", np.zeros((3, 1), np.float64)),
        "'dense.V' is float64",
        id="dtype",
    ),
]


@pytest.mark.parametrize(("weights", "message"), WEIGHT_ERRORS)
def test_sequential_from_files_names_the_weights_file(files, weights, message):
    with pytest.raises(ModelFileError, match=message) as info:
        sequential_from_files(edited(files, weights=weights))
    assert str(info.value).startswith(f"{files.path / 'weights.safetensors'}: ")


def test_weights_that_no_longer_fit_the_architecture(files):
    with pytest.raises(
        ModelFileError, match=r"'simple_rnn.W' has shape \(3, 3\), expected \(4, 4\)"
    ) as info:
        sequential_from_files(edited(files, architecture=_set_layer_config(1, units=4)))
    assert str(info.value).startswith(f"{files.path / 'weights.safetensors'}: ")


def test_sequential_from_files_does_not_share_the_loaded_arrays(files):
    model = sequential_from_files(files)
    before = files.weights["simple_rnn.U"].copy()
    model.layers[1].params["U"] += 1.0
    np.testing.assert_array_equal(files.weights["simple_rnn.U"], before)


# -- SequenceClassifier.from_files -----------------------------------------------------


@pytest.mark.parametrize(
    ("vocab", "file", "message"),
    [
        pytest.param(lambda v: v.pop("labels"), "vocab.json", "'labels'", id="no-labels"),
        pytest.param(lambda v: v.pop("tokens"), "vocab.json", "'tokens'", id="no-tokens"),
        pytest.param(
            lambda v: v.update(labels=["a", "b", "c"]),
            "config.json",
            "does not fit 3 labels",
            id="labels-do-not-fit-output",
        ),
    ],
)
def test_classifier_from_files_names_the_file(saved, vocab, file, message):
    files = load_model_dir(saved["rnn"])
    broken = copy.deepcopy(files.vocab)
    vocab(broken)
    files = ModelFiles(config=files.config, weights=files.weights, vocab=broken, path=files.path)
    with pytest.raises(ModelFileError, match=message) as info:
        SequenceClassifier.from_files(files)
    assert str(info.value).startswith(f"{saved['rnn'] / file}: ")


def test_a_task_models_own_load_checks_the_recorded_settings(tmp_path) -> None:
    """Not only load_model: SequenceTagger.load and the like refuse forged settings too."""
    import json

    from rnnkit.models import SequenceTagger

    tagger = SequenceTagger(hidden=4, embed_dim=4, epochs=1, verbose=0, seed=0)
    tagger.fit([["a", "b"], ["b", "a"]], [["X", "Y"], ["Y", "X"]]).save(tmp_path / "m")
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    config["training"]["settings"]["hidden"] = None
    (tmp_path / "m" / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelFileError, match="training setting hidden=None is not a whole number"):
        SequenceTagger.load(tmp_path / "m")
