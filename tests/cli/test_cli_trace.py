"""``rnnkit trace``: the course's example, saved models of every text task, user errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from rnnkit.cli import trace as trace_cli
from rnnkit.cli.trace import toy_model
from rnnkit.models import BagOfWordsClassifier, load_model
from rnnkit.viz.toy import toy_ids
from tiny_models import save_all


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A tiny trained model of every task, saved (a few milliseconds each)."""
    return {task: s.path for task, s in save_all(tmp_path_factory.mktemp("tiny")).items()}


def _json(result) -> dict:
    assert result.code == 0, result.err
    return json.loads(result.out)


# -- --toy -----------------------------------------------------------------------------------
def test_toy_traces_the_three_reviews(cli) -> None:
    r = cli("trace", "--toy")
    assert r.code == 0, r.err
    for review in ("movie was good", "movie was bad", "movie was not good"):
        assert f"== {review!r} ==" in r.out
    assert "31 parameters" in r.out
    assert r.out.count("h_3 = tanh(U x_3 + W h_2 + b)") == 3
    assert "h_4 = tanh(U x_4 + W h_3 + b)" in r.out  # "not good" has four words
    assert "x_3 = o_3, one-hot of id 4" in r.out and "[0 0 0 0 1]" in r.out  # "not"
    assert "P(positive) = 0.7654: positive" in r.out


def test_toy_json_has_the_documented_keys_and_the_model_numbers(cli) -> None:
    d = _json(cli("trace", "--toy", "--json"))
    assert set(d) == {"model", "traces"} and d["model"] == "toy"
    assert [t["text"] for t in d["traces"]] == [
        "movie was good",
        "movie was bad",
        "movie was not good",
    ]
    first = d["traces"][0]
    assert set(first) == {"text", "tokens", "ids", "labels", "notes", "output", "sections"}
    assert first["tokens"] == ["movie", "was", "good"] and first["ids"] == [0, 1, 2]
    rnn, dense = first["sections"]
    assert rnn["type"] == "SimpleRNN" and rnn["equations"] == ["h_t = tanh(U x_t + W h_{t-1} + b)"]
    step = rnn["steps"][0]
    assert list(step["values"]) == ["x", "Ux", "Wh", "b", "a", "h"]
    assert step["values"]["x"] == [1, 0, 0, 0, 0]
    assert step["labels"]["h"] == "h_1 = tanh(U x_1 + W h_0 + b)"
    model = toy_model()
    for t in d["traces"]:
        y = model(toy_ids(t["text"])[None])[0]
        np.testing.assert_allclose(t["output"], y, rtol=1e-6)  # float32 model, float64 trace
        assert dense["steps"][0]["labels"]["y"] == "y = sigmoid(V h_3 + c)"


def test_toy_traces_a_given_text_with_the_digits_asked(cli) -> None:
    r = cli("trace", "--toy", "Movie was NOT good", "--digits", "2")
    assert r.code == 0, r.err
    assert r.out.count("== ") == 1 and "tokens: 'movie' 'was' 'not' 'good'" in r.out
    assert "[ 0.24  0.66  0.12]" in r.out  # U x_1 = row 0 of U, to 2 decimals


def test_toy_refuses_a_word_outside_its_vocabulary(cli, user_error) -> None:
    line = user_error(cli("trace", "--toy", "movie was great"))
    assert "'great'" in line and "movie, was, good, bad, not" in line


def test_toy_and_a_model_directory_together_are_refused(cli, user_error, saved) -> None:
    line = user_error(cli("trace", "--toy", saved["classify"], "movie was good"))
    assert "not both" in line


# -- saved models --------------------------------------------------------------------------------
def test_a_classifier_is_traced_with_its_own_vocabulary(cli, saved) -> None:
    d = _json(cli("trace", saved["classify"], "Movie was GOOD zzz", "--json"))
    (t,) = d["traces"]
    model = load_model(saved["classify"])
    assert t["tokens"] == ["movie", "was", "good", "zzz"]
    assert t["ids"] == model.encode(["movie was good zzz"])[0].tolist()
    assert any("'zzz' is not in the vocabulary: read as <unk>" in n for n in t["notes"])
    p = model.predict_proba(["movie was good zzz"])[0, 1]
    np.testing.assert_allclose(t["output"], [p], rtol=1e-5)
    assert [s["type"] for s in t["sections"]][-2:] == ["GlobalAveragePooling1D", "Dense"]


def test_a_tagger_shows_both_directions_and_every_step_output(cli, saved) -> None:
    r = cli("trace", saved["tag"], "the film was odd")
    assert r.code == 0, r.err
    assert "forward_lstm (LSTM, 4 units): reads left to right" in r.out
    assert "backward_lstm (LSTM, 4 units): reads right to left" in r.out
    # the tagger reads each word's characters too: its x_t has both parts
    assert "x_t = [E o_t ; the 100 features its lstm reads from the word's characters]" in r.out
    assert "y_4 = softmax(V h_4 + c)" in r.out and "most likely:" in r.out
    assert "identity at inference" in r.out  # the embedding's dropout


def test_a_language_model_and_a_seq2seq_encoder(cli, saved) -> None:
    d = _json(cli("trace", saved["lm"], "nam", "--json"))
    lm = d["traces"][0]
    assert lm["tokens"] == ["n", "a", "m"] and len(lm["output"]) == 3  # y_t at every step
    d = _json(cli("trace", saved["seq2seq"], "abb", "--json"))
    s2s = d["traces"][0]
    assert any("encoder only" in n for n in s2s["notes"])
    assert {s["direction"] for s in s2s["sections"]} == {"forward", "backward", "merge"}


@pytest.mark.parametrize(
    ("task", "text", "expected"),
    [
        ("frames", "a b", "real-valued frames; trace reads text"),
        ("lm", "nay", "not in the model's characters"),
        ("classify", "   ", "has no tokens"),
        ("classify", "", "TEXT is empty"),
    ],
)
def test_texts_and_models_that_cannot_be_traced(cli, user_error, saved, task, text, expected):
    assert expected in user_error(cli("trace", saved[task], text))


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        ((), "or --toy"),
        (("--toy", "--digits", "13"), "--digits 13"),
        (("--toy", "--max-values", "-1"), "--max-values -1"),
        (("no/such/dir", "movie was good"), "no such model directory"),
    ],
)
def test_user_mistakes_are_one_line(cli, user_error, argv, expected) -> None:
    assert expected in user_error(cli("trace", *argv))


def test_a_directory_without_text_is_one_line(cli, user_error, saved) -> None:
    assert "give the TEXT to trace" in user_error(cli("trace", saved["classify"]))


def test_a_bag_of_words_model_has_nothing_to_trace(cli, user_error, monkeypatch) -> None:
    # NOTE: an unfitted baseline stands in for a saved one: training it imports scikit-learn
    monkeypatch.setattr(trace_cli, "load_model", lambda path: BagOfWordsClassifier())
    assert "no recurrent layers" in user_error(cli("trace", "bow-model", "good film"))
