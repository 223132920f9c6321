"""Task models whose word embedding starts from a file of pretrained vectors.

Every task with word inputs (classify, tag, lm, seq2seq's source side) takes the
``embeddings`` and ``freeze_embeddings`` settings: the rows of the words the file
holds start as its vectors, stay so when frozen, and the saved model loads without
the file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rnnkit.errors import ConfigError, DataError, ModelFileError
from rnnkit.layers import Embedding
from rnnkit.models import LanguageModel, Seq2Seq, SequenceClassifier, SequenceTagger
from rnnkit.models.pretrained import check_embedding_settings

#: the file's vectors, d = 3; "zebu" is in no sentence, "dog" in no line of the file
VECTORS = {
    "the": [0.1, 0.2, 0.3],
    "cat": [0.4, -0.5, 0.6],
    "sat": [-0.7, 0.8, -0.9],
    "mat": [1.0, 0.0, -1.0],
    "zebu": [0.5, 0.5, 0.5],
}
SENTENCES = [["the", "cat", "sat"], ["the", "dog", "sat"], ["the", "mat"]] * 4
TAGS = [["D", "N", "V"], ["D", "N", "V"], ["D", "N"]] * 4
TINY: dict[str, Any] = {"hidden": 4, "epochs": 3, "lr": 0.05, "verbose": 0, "seed": 1}


@pytest.fixture
def glove(tmp_path: Path) -> Path:
    path = tmp_path / "vectors.txt"
    lines = [f"{w} {' '.join(str(v) for v in vec)}\n" for w, vec in VECTORS.items()]
    path.write_text("".join(lines), encoding="utf-8")
    return path


def fit_task(task: str, **settings: Any) -> tuple[Any, Embedding, Any]:
    """A tiny model of `task` trained on the sentences; its input embedding and vocabulary."""
    if task == "classify":
        model = SequenceClassifier(min_freq=1, **TINY, **settings)
        model.fit([" ".join(s) for s in SENTENCES], ["a", "b", "a"] * 4)
    elif task == "tag":
        model = SequenceTagger(min_freq=1, **TINY, **settings)
        model.fit(SENTENCES, TAGS)
    elif task == "lm":
        model = LanguageModel(level="word", bptt=4, batch_size=2, **TINY, **settings)
        model.fit("\n".join(" ".join(s) for s in SENTENCES))
    else:
        model = Seq2Seq(source_level="word", layers=1, **TINY, **settings)
        model.fit(SENTENCES, [list("".join(s)) for s in SENTENCES])
        return model, model.model_.encoder[0], model.source_vocab_
    first = model.model_.layers[0]
    return model, getattr(first, "words", first), model.vocab_  # a tagger's: beside its chars


def found_rows(vocab: Any) -> tuple[list[int], np.ndarray]:
    words = [w for w in VECTORS if w in vocab.tokens]
    return [vocab[w] for w in words], np.array([VECTORS[w] for w in words], np.float32)


TASKS = ["classify", "tag", "lm", "seq2seq"]


@pytest.mark.parametrize("task", TASKS)
def test_a_frozen_embedding_keeps_the_files_vectors_and_loads_identically(task, glove, tmp_path):
    model, embedding, vocab = fit_task(task, embeddings=glove, freeze_embeddings=True)
    rows, expected = found_rows(vocab)
    # a tagger's vocabulary also takes the file's words: "zebu" too
    assert len(rows) == (5 if task == "tag" else 4) and not embedding.trainable
    assert model.settings["embed_dim"] == 3  # the file's, as embed_dim was not given
    assert model.settings["embeddings"] == str(glove)  # recorded as a str
    np.testing.assert_array_equal(embedding.params["E"][rows], expected)
    path = model.save(tmp_path / "m")
    loaded = type(model).load(path)
    assert loaded.settings == model.settings
    for a, b in zip(loaded.model_.get_weights(), model.model_.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("task", TASKS)
def test_a_trainable_embedding_starts_from_the_vectors_and_moves(task, glove, monkeypatch):
    starts: list[np.ndarray] = []
    build = Embedding._build

    def spy(self, spec, rng):
        out = build(self, spec, rng)
        starts.append(self.params["E"].copy())
        return out

    monkeypatch.setattr(Embedding, "_build", spy)
    _, embedding, vocab = fit_task(task, embeddings=str(glove))
    rows, expected = found_rows(vocab)
    assert embedding.trainable
    np.testing.assert_array_equal(starts[0][rows], expected)
    assert not np.array_equal(embedding.params["E"][rows], expected)


def test_the_coverage_line_is_printed_when_verbose(glove, capsys):
    SequenceTagger(min_freq=1, **{**TINY, "verbose": 1, "epochs": 1}, embeddings=str(glove)).fit(
        SENTENCES, TAGS
    )
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith("4 of 5 vocabulary words found (4 as written, 0 lower-cased) in ")
    assert first.endswith("; 1 more of its words joined the vocabulary")  # "zebu"


@pytest.mark.parametrize(
    ("settings", "words"),
    [
        ({"embed_dim": 8}, "embed_dim=8 but"),
        ({"one_hot": True}, "one_hot=True: one-hot inputs have no embedding"),
        ({"level": "char"}, "word vectors need word tokens, not level='char'"),
    ],
)
def test_settings_the_vectors_do_not_fit_are_refused_in_one_line(glove, settings, words):
    with pytest.raises(ConfigError, match=words) as info:
        SequenceClassifier(**TINY, embeddings=str(glove), **settings).fit(["the cat"] * 2, "ab")
    assert "\n" not in str(info.value)


def test_a_char_level_source_is_refused(glove):
    with pytest.raises(ConfigError, match="not level='char'"):
        Seq2Seq(**TINY, embeddings=str(glove)).fit([list("ab")], [list("ba")])


def test_a_missing_file_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        SequenceTagger(**TINY, embeddings=str(tmp_path / "nope.txt")).fit(SENTENCES, TAGS)


@pytest.mark.parametrize(
    ("settings", "words"),
    [
        ({"freeze_embeddings": True}, "needs embeddings"),
        ({"freeze_embeddings": 1, "embeddings": "v.txt"}, "must be True or False"),
        ({"embeddings": 3}, "give the path of a word-vector file"),
    ],
)
def test_bad_embedding_settings_are_refused(settings, words):
    with pytest.raises(ConfigError, match=words):
        check_embedding_settings(settings)


@pytest.mark.parametrize(("key", "value"), [("embeddings", 3), ("freeze_embeddings", "yes")])
def test_a_forged_config_with_bad_embedding_settings_is_refused(glove, tmp_path, key, value):
    model, _, _ = fit_task("tag", embeddings=str(glove))
    path = model.save(tmp_path / "m")
    config = json.loads((path / "config.json").read_text(encoding="utf-8"))
    config["training"]["settings"][key] = value
    (path / "config.json").write_text(json.dumps(config), encoding="utf-8")
    with pytest.raises(ModelFileError, match=f"training setting {key}="):
        SequenceTagger.load(path)
