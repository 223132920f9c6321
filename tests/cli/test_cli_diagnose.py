"""``rnnkit diagnose``: tables, gradients.json, the comparison plot, warnings, user errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from cli.conftest import TINY
from rnnkit.cli.diagnose import diagnose_path
from rnnkit.cli.main import build_parser
from rnnkit.models import SequenceClassifier, load_model
from rnnkit.viz.gradients import GradientDiagnosis

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
KEYS = {"label", "cell", "loss", "state_norms", "counts", "param_norms", "global_norm",
        "exploding", "notes", "state_ratios"}  # fmt: skip


@pytest.fixture(scope="module")
def lstm_model(tmp_path_factory, run_cli, csv_data) -> Path:
    """The conftest's classifier again, with an LSTM."""
    out = tmp_path_factory.mktemp("lstm") / "lstm"
    argv = ["train", "--task", "classify", "--data", csv_data["train"], "--out", out, *TINY]
    assert run_cli(*argv, "--cell", "lstm", "--min-freq", "1").code == 0
    return out


@pytest.fixture(scope="module")
def exploding_model(tmp_path_factory, reviews) -> Path:
    """A relu RNN reading h_T whose recurrent weights were scaled up by 5 after training."""
    texts, labels = zip(*reviews(60, seed=4), strict=True)
    model = SequenceClassifier(hidden=8, embed_dim=8, epochs=1, activation="relu", pooling="last",
                               min_freq=1, verbose=0, dropout=0.0, embed_dropout=0.0)  # fmt: skip
    model.fit(list(texts), list(labels))
    model.model_.layers[1].params["W"] *= 5.0
    return model.save(tmp_path_factory.mktemp("exploding") / "relu")


def test_compares_models_in_tables_json_files_and_one_plot(cli, rnn_model, lstm_model, csv_data):
    png = lstm_model.parent / "both.png"
    r = cli("diagnose", rnn_model, lstm_model, "--data", csv_data["test"], "--png", png,
            "--batches", "2", "--batch-size", "16")  # fmt: skip
    assert r.code == 0, r.err
    assert r.out.startswith("gradients through time: model (rnn), 32 sequences, loss ")
    assert "gradients through time: lstm (lstm), 32 sequences" in r.out
    assert "  layer 1 (simple_rnn)\n    k " in r.out and "  lstm.W " in r.out
    assert r.out.rstrip().endswith(f"plot: {png}")
    assert png.read_bytes().startswith(PNG_SIGNATURE)
    for model, cell in ((rnn_model, "rnn"), (lstm_model, "lstm")):
        saved = json.loads((model / "gradients.json").read_text(encoding="utf-8"))
        assert set(saved) == KEYS and saved["cell"] == cell and saved["counts"][0] == 32
    assert r.err == ""  # nothing explodes in these


def test_json_prints_one_object_and_the_plot_goes_into_the_first_dir(cli, rnn_model, csv_data):
    (rnn_model / "gradients.png").unlink(missing_ok=True)
    r = cli("diagnose", rnn_model, "--data", csv_data["test"], "--json")
    assert r.code == 0, r.err
    out = json.loads(r.out)
    assert set(out) == {"png", "models"} and out["png"] == str(rnn_model / "gradients.png")
    (diag,) = out["models"]
    assert set(diag) == KEYS and diag["label"] == "model" and diag["exploding"] is False
    assert diag["counts"][0] == 60  # 8 batches of 32 asked, the file has 60 rows
    assert diag == json.loads((rnn_model / "gradients.json").read_text(encoding="utf-8"))
    assert (rnn_model / "gradients.png").read_bytes().startswith(PNG_SIGNATURE)


def test_an_lstm_reports_its_cell_state_gradient_beside_dh(cli, lstm_model, csv_data):
    """dL/dc_t, the LSTM's memory path, as its own entry "<layer> c": JSON and table."""
    argv = ("diagnose", lstm_model, "--data", csv_data["test"], "--batches", "1")
    r = cli(*argv, "--json")
    assert r.code == 0, r.err
    (diag,) = json.loads(r.out)["models"]
    names = ["layer 1 (lstm)", "layer 1 (lstm) c"]
    assert list(diag["state_norms"]) == names and list(diag["state_ratios"]) == names
    h, c = (diag["state_norms"][n] for n in names)
    assert len(h) == len(c) == len(diag["counts"]) and h != c and c[0] > 0
    assert diag["state_ratios"][names[1]][0] == 1.0
    saved = json.loads((lstm_model / "gradients.json").read_text(encoding="utf-8"))
    assert GradientDiagnosis.from_dict(saved).to_dict() == diag
    text = cli(*argv)
    assert text.code == 0, text.err
    assert '\n(an LSTM\'s "... c" rows: ||dL/dc_t||, the path of the cell state' in text.out
    assert "\n  layer 1 (lstm) c\n    k " in text.out and "\n    ||dL/dc||  " in text.out


def test_exploding_gradients_are_warned_about(cli, exploding_model, csv_data):
    r = cli("diagnose", exploding_model, "--data", csv_data["test"], "--batches", "1")
    assert r.code == 0, r.err
    warnings = r.err.splitlines()
    assert warnings and all(w.startswith("warning: relu: exploding: ") for w in warnings)
    saved = json.loads((exploding_model / "gradients.json").read_text(encoding="utf-8"))
    assert saved["exploding"] is True


def test_diagnose_path_is_what_the_report_calls(rnn_model, csv_data):
    argv = ["diagnose", str(rnn_model), "--data", str(csv_data["test"]), "--batches", "1"]
    args = build_parser().parse_args([*argv, "--batch-size", "5"])
    diag = diagnose_path(load_model(rnn_model), str(csv_data["test"]), args, "mine")
    assert isinstance(diag, GradientDiagnosis) and diag.label == "mine"
    assert diag.counts[0] == 5 and list(diag.state_norms) == ["layer 1 (simple_rnn)"]


def test_without_matplotlib_the_numbers_are_still_written(cli, user_error, rnn_model, csv_data,
                                                         tmp_path, no_matplotlib):  # fmt: skip
    (rnn_model / "gradients.png").unlink(missing_ok=True)
    (rnn_model / "gradients.json").unlink(missing_ok=True)
    r = cli("diagnose", rnn_model, "--data", csv_data["test"], "--json", "--batches", "1")
    assert r.code == 0, r.err
    assert r.err.startswith("warning: no plot: plotting needs matplotlib")
    assert json.loads(r.out)["png"] is None and (rnn_model / "gradients.json").is_file()
    assert not (rnn_model / "gradients.png").exists()
    asked = cli("diagnose", rnn_model, "--data", csv_data["test"], "--png", tmp_path / "g.png")
    assert "matplotlib" in user_error(asked)  # a plot asked for by name is not optional


# -- the other tasks ------------------------------------------------------------------
def _task_files(root: Path) -> dict[str, tuple[Path, tuple[str, ...]]]:
    """A tiny data file per task and the flags that train on it."""
    rng = np.random.default_rng(0)
    tagged = root / "tags.conll"
    words = {"the": "DET", "a": "DET", "cat": "NOUN", "dog": "NOUN", "runs": "VERB"}
    sents = [rng.choice(list(words), size=rng.integers(2, 7)) for _ in range(24)]
    tagged.write_text("".join("".join(f"{w}\t{words[w]}\n" for w in s) + "\n" for s in sents))
    text = root / "text.txt"
    text.write_text("the cat sat on the mat.\n" * 30)
    pairs = root / "pairs.tsv"
    pairs.write_text("".join(f"{w}\t{w[::-1]}\n" for w in ["ab", "bca", "cab", "abc"] * 6))
    frames = root / "frames.csv"
    sign, label = {0: (-1, "down"), 1: (1, "up")}, lambda i: sign[i % 2]
    rows = [f"s{i},{t},{(t + 1) * label(i)[0]},{rng.normal():.3f},{label(i)[1]}"
            for i in range(12) for t in range(3 + i % 5)]  # fmt: skip
    frames.write_text("seq_id,t,x1,x2,label\n" + "\n".join(rows) + "\n")
    return {
        "tag": (tagged, ("--task", "tag")),
        "lm": (text, ("--task", "lm", "--level", "char", "--bptt", "8")),
        "seq2seq": (pairs, ("--task", "seq2seq", "--level", "char", "--layers", "1")),
        "frames": (frames, ("--task", "tag", "--cell", "gru")),
    }


@pytest.fixture(scope="module")
def task_models(tmp_path_factory, run_cli) -> dict[str, tuple[Path, Path]]:
    root = tmp_path_factory.mktemp("tasks")
    out = {}
    for task, (data, flags) in _task_files(root).items():
        model = root / f"{task}-model"
        r = run_cli("train", "--data", data, "--out", model, *flags, "--hidden", "6",
                    "--epochs", "1", *(() if task == "frames" else ("--embed", "6")))  # fmt: skip
        assert r.code == 0, r.err
        out[task] = (model, data)
    return out


LAYERS = {
    "tag": ["layer 1 (bidirectional) forward", "layer 1 (bidirectional) forward c",
            "layer 1 (bidirectional) backward", "layer 1 (bidirectional) backward c"],
    "lm": ["layer 1 (simple_rnn)"],
    "seq2seq": ["layer 1 (encoder_bidirectional) forward",
                "layer 1 (encoder_bidirectional) backward", "layer 2 (decoder_gru)"],
    "frames": ["layer 1 (bidirectional) forward", "layer 1 (bidirectional) backward"],
}  # fmt: skip


@pytest.mark.parametrize("task", sorted(LAYERS))
def test_every_task_reads_its_data_as_evaluate_does(cli, task_models, task):
    model, data = task_models[task]
    r = cli("diagnose", model, "--data", data, "--json", "--batches", "2", "--batch-size", "4")
    assert r.code == 0, r.err
    (diag,) = json.loads(r.out)["models"]
    assert list(diag["state_norms"]) == LAYERS[task]
    assert diag["counts"][0] == 8 and all(v > 0 for v in diag["param_norms"].values())
    assert any(n.startswith("direct: ") for n in diag["notes"])  # each reads every step


# -- user errors ------------------------------------------------------------------------
def test_user_mistakes_are_one_line_and_exit_2(cli, user_error, rnn_model, bow_model, csv_data,
                                               tmp_path, snapshot):  # fmt: skip
    data = csv_data["test"]
    before = snapshot(rnn_model)
    unknown = tmp_path / "unknown.csv"
    unknown.write_text("text,label\ngood film,excellent\n", encoding="utf-8")
    cases = {
        ("diagnose", rnn_model): "--data",
        ("diagnose", tmp_path / "nowhere", "--data", data): "nowhere",
        ("diagnose", rnn_model, "--data", data, "--batches", "0"): "--batches 0",
        ("diagnose", rnn_model, "--data", data, "--batch-size", "-1"): "--batch-size -1",
        ("diagnose", rnn_model, "--data", data, "--png", tmp_path / "g.jpg"): ".png",
        ("diagnose", rnn_model, "--data", data, "--png", tmp_path / "no" / "g.png"): "existing",
        ("diagnose", rnn_model, "--data", tmp_path / "missing.csv"): "missing.csv",
        ("diagnose", rnn_model, "--data", unknown): "'excellent' was not seen in training",
        ("diagnose", rnn_model, "--data", data, "--format", "conllu"): "--format conllu",
        ("diagnose", bow_model, "--data", data): "has no gradients through time",
    }
    for argv, words in cases.items():
        line = user_error(cli(*argv))
        assert words in line, (argv, line)
    assert snapshot(rnn_model) == before  # nothing written on a mistake
