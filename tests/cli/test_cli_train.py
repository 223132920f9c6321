"""``rnnkit train / evaluate / predict / summary`` for classification (DESIGN §5-§8).

Tiny models (``--hidden 8 --embed 8 --epochs 2``) on a few hundred rows: these tests
check what the commands write and print, not how well the models score.
"""

from __future__ import annotations

import json
import re
import shlex

import numpy as np
import pytest

import rnnkit
from rnnkit.data import read_table, split_indices
from rnnkit.text import Vocabulary, get_tokenizer

TINY = ("--hidden", "8", "--embed", "8", "--epochs", "2")
MR_FLAGS = ("--label-col", "0", "--text-col", "1", "--no-header", "--encoding", "latin-1")
LABELS = ["meh", "neg", "pos"]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def read_json(path):
    return json.loads(path.read_text(encoding="utf-8"))


def train_argv(data, out, *extra):
    return ["train", "--task", "classify", "--data", data, "--out", out, *TINY, *extra]


# -- the model directory ---------------------------------------------------------------


def test_model_directory_holds_config_weights_and_vocab(rnn_model):
    assert sorted(p.name for p in rnn_model.iterdir()) == [
        "config.json",  # no checkpoint/: removed once the run ended (--keep-checkpoint)
        "curves.png",  # beside the model, not part of it: the run's loss and accuracy
        "evaluation.json",  # the validation report, for rnnkit report
        "vocab.json",
        "weights.safetensors",
    ]
    assert sorted(read_json(rnn_model / "config.json")["files"]) == [
        "vocab.json",
        "weights.safetensors",
    ]
    config = read_json(rnn_model / "config.json")
    assert config["format"] == "rnnkit-model"
    assert config["version"] == 1
    assert config["task"] == "classify"
    assert config["rnnkit"] == rnnkit.__version__
    assert config["architecture"]["class"] == "Sequential"
    assert config["training"]["seed"] == 3
    assert config["training"]["settings"]["seed"] == 3
    assert config["training"]["settings"]["hidden"] == 8


def test_model_directory_records_the_command_that_trained_it(rnn_model, csv_data):
    command = read_json(rnn_model / "config.json")["training"]["command"]
    assert isinstance(command, str)
    assert f"--data {shlex.quote(str(csv_data['train']))}" in command
    assert f"--out {shlex.quote(str(rnn_model))}" in command
    assert "--seed 3" in command


def test_quoted_commas_stay_inside_the_text(rnn_model):
    # Every text holds a comma and every fourth a pair of quotes: split at those
    # commas, labels would be fragments of texts and rows would have three fields.
    vocab = read_json(rnn_model / "vocab.json")
    assert vocab["labels"] == LABELS
    assert {",", '"'} <= set(vocab["tokens"]["tokens"])
    last = read_json(rnn_model / "config.json")["architecture"]["layers"][-1]
    assert last["class"] == "Dense"
    assert (last["config"]["units"], last["config"]["activation"]) == (3, "softmax")


# -- evaluate --------------------------------------------------------------------------


def check_classify_json(report, labels, true_labels):
    """The classify object of ``evaluate --json`` (DESIGN §6), and its consistency."""
    assert {"accuracy", "per_class_accuracy", "confusion_matrix", "labels", "n"} <= set(report)
    assert report["labels"] == labels
    n = len(true_labels)
    assert report["n"] == n
    cm = np.array(report["confusion_matrix"])
    assert cm.shape == (len(labels), len(labels))
    assert cm.dtype.kind == "i"
    assert cm.sum() == n
    # rows are the true labels
    assert cm.sum(axis=1).tolist() == [true_labels.count(label) for label in labels]
    assert report["accuracy"] == pytest.approx(np.trace(cm) / n, rel=1e-12)
    assert set(report["per_class_accuracy"]) == set(labels)
    for i, label in enumerate(labels):
        expected = cm[i, i] / cm[i].sum()
        assert report["per_class_accuracy"][label] == pytest.approx(expected, rel=1e-12)


def test_evaluate_json(cli, rnn_model, csv_data, reviews):
    result = cli("evaluate", rnn_model, "--data", csv_data["test"], "--json")
    assert result.code == 0, result.err
    assert result.out.count("\n") == 1  # one JSON object, nothing else on stdout
    check_classify_json(json.loads(result.out), LABELS, [y for _, y in reviews(60, seed=2)])


def test_evaluate_prints_a_report(cli, rnn_model, csv_data):
    as_json = json.loads(cli("evaluate", rnn_model, "--data", csv_data["test"], "--json").out)
    result = cli("evaluate", rnn_model, "--data", csv_data["test"])
    assert result.code == 0, result.err
    assert f"accuracy {as_json['accuracy']:.4f}" in result.out
    assert "true \\ predicted" in result.out


def test_evaluate_plot_writes_a_png(cli, rnn_model, csv_data, tmp_path):
    png = tmp_path / "cm.png"
    result = cli("evaluate", rnn_model, "--data", csv_data["test"], "--plot", png)
    assert result.code == 0, result.err
    assert png.read_bytes().startswith(PNG_MAGIC)


# -- predict ---------------------------------------------------------------------------

TEXTS = ["good, great film", "awful plot", "okay story , sort of"]


def test_predict_json(cli, rnn_model):
    result = cli("predict", rnn_model, *TEXTS, "--json")
    assert result.code == 0, result.err
    rows = json.loads(result.out)
    assert [row["text"] for row in rows] == TEXTS
    for row in rows:
        probs = row["probabilities"]
        assert list(probs) == LABELS
        assert sum(probs.values()) == pytest.approx(1.0, abs=1e-6)
        assert row["label"] == max(probs, key=probs.get)
        assert row["probability"] == probs[row["label"]]


def test_predict_prints_one_line_per_text(cli, rnn_model):
    rows = json.loads(cli("predict", rnn_model, *TEXTS, "--json").out)
    result = cli("predict", rnn_model, *TEXTS)
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert len(lines) == len(TEXTS)
    for line, row in zip(lines, rows, strict=True):
        label, probability, text = line.split(maxsplit=2)
        assert (label, text) == (row["label"], row["text"])
        assert float(probability) == pytest.approx(row["probability"], abs=5e-4)


# -- summary ---------------------------------------------------------------------------


def test_summary_prints_the_parameter_counts(cli, rnn_model):
    n_vocab = len(read_json(rnn_model / "vocab.json")["tokens"]["tokens"])
    result = cli("summary", rnn_model)
    assert result.code == 0, result.err
    out = result.out
    # Embedding (V, 8); SimpleRNN U (8, 8), W (8, 8), b (8,); Dense V (8, 3), c (3,)
    assert re.search(rf"^embedding \(Embedding\) .* {n_vocab * 8}  E \({n_vocab}, 8\)$", out, re.M)
    assert re.search(
        r"^simple_rnn \(SimpleRNN\) .* 136  U \(8, 8\), W \(8, 8\), b \(8,\)$", out, re.M
    )
    assert re.search(r"^dense \(Dense\) .* 27  V \(8, 3\), c \(3,\)$", out, re.M)
    assert f"Total params: {n_vocab * 8 + 136 + 27:,}" in out
    assert "labels: meh, neg, pos" in out


# -- a real corpus: MR's latin-1 TSV ---------------------------------------------------


@pytest.fixture(scope="module")
def mr_model(tmp_path_factory, run_cli, mr_sample):
    """A model of the MR sample trained on every row (no held-out split), every token kept."""
    out = tmp_path_factory.mktemp("mr-model") / "model"
    argv = train_argv(mr_sample, out, *MR_FLAGS, "--valid-split", "0", "--min-freq", "1")
    result = run_cli(*argv)
    assert result.code == 0, result.err
    return out, result


def test_train_on_mr_tsv_reads_every_row_as_latin_1(mr_model, mr_sample):
    model, _ = mr_model
    vocab = read_json(model / "vocab.json")
    assert vocab["labels"] == ["0", "1"]
    # NOTE: split on "\n" only: MR holds byte 0x85, a line break to str.splitlines.
    texts = [
        line.split("\t", 1)[1] for line in mr_sample.read_bytes().decode("latin-1")[:-1].split("\n")
    ]
    tokenize = get_tokenizer("word", lower=True)
    expected = Vocabulary.build([tokenize(t) for t in texts], min_freq=1)
    assert vocab["tokens"] == expected.to_dict()
    assert {"ladrón", "orquídeas", "clichés"} <= set(vocab["tokens"]["tokens"])


def test_valid_split_0_holds_nothing_out(mr_model):
    model, result = mr_model
    assert "validation" not in result.out
    history = read_json(model / "config.json")["training"]["history"]
    assert len(history["epochs"]) == 2
    assert all("val_loss" not in epoch for epoch in history["epochs"])
    assert history["best_epoch"] is None


def test_evaluate_mr_tsv_with_the_format_flags(cli, mr_model, mr_sample):
    model, _ = mr_model
    result = cli("evaluate", model, "--data", mr_sample, *MR_FLAGS, "--json")
    assert result.code == 0, result.err
    check_classify_json(json.loads(result.out), ["0", "1"], ["1"] * 150 + ["0"] * 150)


# -- the bag-of-words baseline ---------------------------------------------------------


def test_bow_nb_round_trip(cli, bow_model, csv_data, reviews):
    config = read_json(bow_model / "config.json")
    assert (config["format"], config["version"], config["task"]) == ("rnnkit-model", 1, "classify")
    assert config["architecture"]["class"] == "BagOfWordsNB"
    assert (bow_model / "weights.safetensors").is_file()

    result = cli("evaluate", bow_model, "--data", csv_data["test"], "--json")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    check_classify_json(report, LABELS, [y for _, y in reviews(60, seed=2)])
    assert report["accuracy"] >= 0.95  # each synthetic review holds two words of its label

    result = cli("predict", bow_model, *TEXTS, "--json")
    assert result.code == 0, result.err
    rows = json.loads(result.out)
    assert [row["label"] for row in rows] == ["pos", "neg", "meh"]
    for row in rows:
        assert sum(row["probabilities"].values()) == pytest.approx(1.0, abs=1e-9)
    lines = cli("predict", bow_model, *TEXTS).out.splitlines()
    assert [line.split(maxsplit=1)[0] for line in lines] == ["pos", "neg", "meh"]

    result = cli("summary", bow_model)
    assert result.code == 0, result.err
    assert "Naive Bayes" in result.out
    assert f"vocabulary: {len(config['architecture']['vocabulary']):,} n-grams" in result.out
    assert "labels: meh, neg, pos" in result.out


# -- flags -----------------------------------------------------------------------------


def test_same_seed_gives_identical_weights(cli, csv_data, tmp_path):
    def weights(seed, name):
        out = tmp_path / name
        assert cli(*train_argv(csv_data["train"], out, "--seed", str(seed))).code == 0
        return (out / "weights.safetensors").read_bytes()

    first = weights(5, "a")
    assert weights(5, "b") == first
    assert weights(6, "c") != first


def test_max_minutes_is_accepted(cli, csv_data, tmp_path):
    out = tmp_path / "out"
    result = cli(*train_argv(csv_data["train"], out, "--max-minutes", "0.5"))
    assert result.code == 0, result.err
    training = read_json(out / "config.json")["training"]
    assert training["settings"]["max_minutes"] == 0.5
    assert training["history"]["stopped"] == "epochs"  # 2 tiny epochs fit in 30 s


def test_plot_writes_confusion_matrix_pngs(cli, csv_data, tmp_path):
    out = tmp_path / "out"
    result = cli(*train_argv(csv_data["train"], out, "--plot", "--test", csv_data["test"]))
    assert result.code == 0, result.err
    for name in ("validation", "test"):
        png = out / f"confusion_{name}.png"
        assert png.read_bytes().startswith(PNG_MAGIC)
        assert str(png) in result.out


def test_valid_file_is_reported_and_picks_the_best_epoch(cli, csv_data, tmp_path):
    out = tmp_path / "out"
    result = cli(*train_argv(csv_data["train"], out, "--valid", csv_data["test"]))
    assert result.code == 0, result.err
    assert f"validation ({csv_data['test']}):" in result.out
    assert "n 60" in result.out
    history = read_json(out / "config.json")["training"]["history"]
    assert all("val_accuracy" in epoch for epoch in history["epochs"])
    best = max(history["epochs"], key=lambda e: e["val_accuracy"])
    assert history["best_epoch"] == best["epoch"]


def test_valid_split_holds_out_that_fraction(cli, csv_data, tmp_path):
    result = cli(*train_argv(csv_data["train"], tmp_path / "out", "--valid-split", "0.25"))
    assert result.code == 0, result.err
    assert f"validation (25% held out of {csv_data['train']}):" in result.out
    # a quarter of the distinct texts, every copy of a held-out text with it
    texts = read_table(csv_data["train"]).texts
    keep, held = split_indices(len(texts), 0.25, 0, groups=texts)
    assert round(0.25 * len(set(texts))) == len({texts[i] for i in held})
    assert not {texts[i] for i in keep} & {texts[i] for i in held}
    assert f"n {len(held)}" in result.out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["generate"], "not a language model (task 'classify')"),
        (["translate", "hi"], "not a seq2seq model (task 'classify')"),
        (["tag", "hi"], "not a tagger"),
        (["trace", "hi"], "a bag-of-words model has no recurrent layers"),
    ],
)
def test_bow_nb_refuses_the_other_tasks_verbs_in_one_line(cli, bow_model, argv, message):
    verb, *rest = argv
    result = cli(verb, bow_model, *rest)
    assert result.code == 2 and not result.out
    assert result.err.startswith("error: ") and message in result.err
    assert len(result.err.splitlines()) == 1
