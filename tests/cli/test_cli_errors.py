"""Every user mistake is exit code 2 and one ``error: ...`` line naming what is at fault.

DESIGN §6: 0 success, 2 a user's mistake with one line on stderr and no traceback.
Each test also checks that the failed command wrote nothing: a failed ``train`` does
not create or touch ``--out``, and a broken model directory is byte-identical after
``evaluate``, ``predict`` or ``summary`` refused it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from rnnkit.io import load_weights, save_weights

TINY = ("--hidden", "8", "--embed", "8", "--epochs", "2")


def train_argv(data: Path, out: Path, *extra: str | Path) -> list[str | Path]:
    return ["train", "--task", "classify", "--data", data, "--out", out, *TINY, *extra]


# -- bad data files --------------------------------------------------------------------

LATIN_1 = "text,label\ngood film,pos\ncafé awful,neg\n".encode("latin-1")

#: (file name, contents or None for no file, extra flags, what the line must name)
DATA_MISTAKES = [
    pytest.param("missing.csv", None, [], ["missing.csv"], id="missing-file"),
    pytest.param("empty.csv", b"", [], ["empty.csv"], id="empty-file"),
    pytest.param("header.csv", b"text,label\n", [], ["header.csv"], id="header-only"),
    pytest.param(
        "cols.csv",
        b"text,label\ngood,pos\nbad,neg\n",
        ["--text-col", "review"],
        ["cols.csv:1", "'review'", "'text'", "'label'"],
        id="no-column-by-name",
    ),
    pytest.param(
        "cols.csv",
        b"text,label\ngood,pos\nbad,neg\n",
        ["--label-col", "5"],
        ["cols.csv:1", "5", "'text'", "'label'"],
        id="column-index-out-of-range",
    ),
    pytest.param(
        "one.csv", b"text,label\ngood,pos\nfine,pos\n", [], ["one.csv", "'pos'"], id="one-class"
    ),
    pytest.param("latin.csv", LATIN_1, [], ["latin.csv:3", "--encoding"], id="not-utf8"),
    pytest.param(
        "a.out.csv",
        b"\x7fELF\x02\x01\x01\x00\x00\x00" + bytes(range(256)),
        ["--encoding", "latin-1"],
        ["a.out.csv looks binary (NUL bytes at offset 7): rnnkit reads text"],
        id="binary",
    ),
    pytest.param(
        "blank.csv",
        b"text,label\ngood,pos\n   ,neg\nbad,neg\n",
        [],
        ["blank.csv:3"],
        id="empty-text",
    ),
    pytest.param(
        "ragged.csv", b"text,label\ngood,pos\nbad\nfine,pos\n", [], ["ragged.csv:3"], id="ragged"
    ),
    pytest.param(
        "ragged.tsv",
        b"1\tgood film\n0\n",
        ["--no-header", "--label-col", "0", "--text-col", "1"],
        ["ragged.tsv:2"],
        id="ragged-tsv",
    ),
]


@pytest.mark.parametrize(("name", "contents", "flags", "named"), DATA_MISTAKES)
def test_train_on_a_bad_data_file(tmp_path, cli, user_error, name, contents, flags, named):
    data = tmp_path / name
    if contents is not None:
        data.write_bytes(contents)
    out = tmp_path / "out"
    line = user_error(cli(*train_argv(data, out, *flags)))
    for part in named:
        assert part in line
    assert "ELF" not in line and "\\x" not in line  # no raw bytes of the file
    assert not out.exists()


def test_train_on_a_directory(tmp_path, cli, user_error):
    (tmp_path / "reviews").mkdir()
    line = user_error(cli(*train_argv(tmp_path / "reviews", tmp_path / "out")))
    assert str(tmp_path / "reviews") in line
    assert "directory" in line
    assert not (tmp_path / "out").exists()


def test_undecodable_message_names_the_first_bad_line(tmp_path, cli, user_error):
    rows = "".join(f"review number {i},{'pos' if i % 2 else 'neg'}\n" for i in range(40))
    data = tmp_path / "late.csv"
    data.write_bytes(b"text,label\n" + rows.encode() + "naïve film,pos\n".encode("latin-1"))
    line = user_error(cli(*train_argv(data, tmp_path / "out")))
    assert f"{data}:42:" in line
    assert "--encoding" in line


# -- bad command lines -----------------------------------------------------------------

FLAG_MISTAKES = [
    pytest.param(["--bogus"], "--bogus", id="unknown-flag"),
    pytest.param(["--epochs", "0"], "--epochs", id="epochs-0"),
    pytest.param(["--lr", "-1"], "--lr", id="lr-negative"),
    pytest.param(["--dropout", "1.5"], "--dropout", id="dropout-1.5"),
    pytest.param(["--hidden", "abc"], "--hidden", id="hidden-abc"),
    pytest.param(["--batch-size", "0"], "--batch-size", id="batch-size-0"),
    pytest.param(["--max-minutes", "0"], "--max-minutes", id="max-minutes-0"),
    pytest.param(["--valid-split", "1.5"], "--valid-split", id="valid-split-1.5"),
    pytest.param(["--valid-split", "-0.5"], "--valid-split", id="valid-split-negative"),
    pytest.param(["--task", "speech"], "--task", id="task-not-offered"),
    pytest.param(["--one-hot"], "--one-hot", id="one-hot-with-embed"),
    pytest.param(["--seed", "-1"], "--seed -1: must be >= 0", id="seed-negative"),
    pytest.param(["--layers", "7"], "--layers 7: use 1 to 6 recurrent layers", id="layers-7"),
    pytest.param(["--layers", "0"], "--layers 0: use 1 to 6 recurrent layers", id="layers-0"),
]


@pytest.mark.parametrize(("flags", "named"), FLAG_MISTAKES)
def test_train_with_a_bad_flag(tmp_path, csv_data, cli, user_error, flags, named):
    out = tmp_path / "out"
    line = user_error(cli(*train_argv(csv_data["train"], out, *flags)))
    assert named in line
    assert not out.exists()


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        pytest.param(["frobnicate"], "frobnicate", id="unknown-verb"),
        pytest.param([], "verb", id="no-verb"),
        pytest.param(["train", "--task", "classify", "--out", "x"], "--data", id="no-data"),
        pytest.param(["predict"], "model_dir", id="predict-no-model"),
    ],
)
def test_bad_command_line(tmp_path, monkeypatch, cli, user_error, argv, named):
    monkeypatch.chdir(tmp_path)
    assert named in user_error(cli(*argv))
    assert list(tmp_path.iterdir()) == []


def test_train_into_a_file(tmp_path, csv_data, cli, user_error):
    out = tmp_path / "notes.txt"
    out.write_text("not a model\n")
    line = user_error(cli(*train_argv(csv_data["train"], out)))
    assert line == f"error: --out {out}: names a file, not a directory"
    assert out.read_text() == "not a model\n"


def test_train_over_a_model_of_another_task(tmp_path, rnn_model, cli, user_error, snapshot):
    tagged = tmp_path / "tagged.txt"
    tagged.write_text("the\tDET\nfilm\tNOUN\nworks\tVERB\n\n" * 20, encoding="utf-8")
    out = Path(shutil.copytree(rnn_model, tmp_path / "out"))
    before = snapshot(out)
    argv = ["train", "--task", "tag", "--data", tagged, "--out", out, *TINY]
    line = user_error(cli(*argv))
    assert line == (
        f"error: --out {out}: holds a --task classify model; give --overwrite to replace it "
        "with a --task tag one, or choose another --out"
    )
    assert snapshot(out) == before
    assert cli(*argv, "--overwrite").code == 0
    assert json.loads((out / "config.json").read_text())["task"] == "tag"


@pytest.mark.parametrize(
    "mistake",
    [
        pytest.param(lambda d: ["--data", d / "missing.csv"], id="missing-file"),
        pytest.param(lambda d: ["--data", d / "train.csv", "--epochs", "0"], id="bad-flag"),
        pytest.param(lambda d: ["--data", d / "one.csv"], id="one-class"),
        pytest.param(lambda d: ["--data", d / "latin.csv"], id="not-utf8"),
    ],
)
def test_failed_train_leaves_an_existing_model_untouched(
    tmp_path, csv_data, rnn_model, cli, user_error, snapshot, mistake
):
    shutil.copy(csv_data["train"], tmp_path / "train.csv")
    (tmp_path / "one.csv").write_text("text,label\ngood,pos\nfine,pos\n")
    (tmp_path / "latin.csv").write_bytes(LATIN_1)
    out = Path(shutil.copytree(rnn_model, tmp_path / "out"))
    before = snapshot(out)
    argv = ["train", "--task", "classify", "--out", out, *TINY, *mistake(tmp_path)]
    user_error(cli(*argv))
    assert snapshot(out) == before


# -- labels that training never saw ----------------------------------------------------


@pytest.fixture
def unseen_label_csv(tmp_path, write_csv) -> Path:
    """A CSV whose row on line 4 has the label 'maybe', which no model here was trained on."""
    rows = [("good, fine film", "pos"), ("bad, dull plot", "neg"), ("okay cast", "maybe")]
    return write_csv(tmp_path / "unseen.csv", [*rows, ("great story", "pos")])


@pytest.mark.parametrize("kind", ["rnn", "bow"])
def test_evaluate_with_a_label_never_seen_in_training(
    request, kind, unseen_label_csv, cli, user_error, snapshot
):
    model = request.getfixturevalue(f"{kind}_model")
    before = snapshot(model)
    line = user_error(cli("evaluate", model, "--data", unseen_label_csv))
    assert "'maybe'" in line
    assert f"{unseen_label_csv}:4" in line  # the file and the line to fix
    assert snapshot(model) == before


@pytest.mark.parametrize("flag", ["--valid", "--test"])
def test_train_with_held_out_labels_never_seen_in_training(
    tmp_path, csv_data, unseen_label_csv, cli, user_error, flag
):
    out = tmp_path / "out"
    argv = train_argv(csv_data["train"], out, "--min-freq", "1", flag, unseen_label_csv)
    line = user_error(cli(*argv))
    assert not out.exists()
    assert "'maybe'" in line
    assert f"{unseen_label_csv}:4" in line


# -- texts with nothing to read --------------------------------------------------------


@pytest.mark.parametrize("kind", ["rnn", "bow"])
@pytest.mark.parametrize("text", ["   ", "\t\n"])
def test_predict_a_text_without_tokens(request, kind, text, cli, user_error, snapshot):
    model = request.getfixturevalue(f"{kind}_model")
    before = snapshot(model)
    line = user_error(cli("predict", model, "good film", text))
    assert "text 2" in line.lower()  # the second TEXT argument
    assert snapshot(model) == before


# -- broken model directories ----------------------------------------------------------


def _edit_config(model: Path, change: Callable[[dict], None]) -> None:
    path = model / "config.json"
    config = json.loads(path.read_text(encoding="utf-8"))
    change(config)
    path.write_text(json.dumps(config), encoding="utf-8")


def _edit_weights(model: Path, change: Callable[[dict], None]) -> None:
    weights = load_weights(model / "weights.safetensors")
    change(weights)
    save_weights(model / "weights.safetensors", weights)


def no_directory(model: Path) -> list[str]:
    shutil.rmtree(model)
    return [str(model), "no such model directory"]


def no_weights(model: Path) -> list[str]:
    (model / "weights.safetensors").unlink()
    return [str(model / "weights.safetensors"), "missing"]


def no_vocab(model: Path) -> list[str]:
    (model / "vocab.json").unlink()
    return [str(model / "vocab.json"), "missing"]


def no_config(model: Path) -> list[str]:
    (model / "config.json").unlink()
    return [str(model / "config.json"), "missing"]


def config_not_json(model: Path) -> list[str]:
    (model / "config.json").write_text('{"format": "rnnkit-model", ', encoding="utf-8")
    return [str(model / "config.json"), "JSON"]


def version_99(model: Path) -> list[str]:
    _edit_config(model, lambda c: c.update(version=99))
    return [str(model / "config.json"), "unknown format version 99"]


def truncated_weights(model: Path) -> list[str]:
    path = model / "weights.safetensors"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return [str(path), "truncated"]


def points_outside(model: Path) -> list[str]:
    (model.parent / "secret.json").write_text('{"stolen": true}', encoding="utf-8")
    _edit_config(model, lambda c: c["files"].append("../secret.json"))
    return [str(model / "config.json"), "../secret.json"]


def unknown_layer(model: Path) -> list[str]:
    def change(config: dict) -> None:
        for layer in config["architecture"]["layers"]:
            if layer["class"] == "SimpleRNN":
                layer["class"] = "Transformer"

    _edit_config(model, change)
    return [str(model / "config.json"), "'Transformer'"]


def rnn_tensor_wrong_shape(model: Path) -> list[str]:
    _edit_weights(model, lambda w: w.update({"simple_rnn.W": np.zeros((9, 9), np.float32)}))
    return [str(model / "weights.safetensors"), "simple_rnn.W", "(9, 9)", "(8, 8)"]


def settings_not_an_object(model: Path) -> list[str]:
    _edit_config(model, lambda c: c["training"].update(settings=5))
    return [str(model / "config.json"), "settings"]


def unknown_architecture(model: Path) -> list[str]:
    _edit_config(model, lambda c: c["architecture"].update({"class": "Mystery"}))
    return [str(model / "config.json"), "'Mystery'"]


def nb_tensor_wrong_shape(model: Path) -> list[str]:
    _edit_weights(model, lambda w: w.update({"naive_bayes.class_count": np.zeros(5)}))
    return [str(model), "class_count"]


def nb_alpha_not_a_number(model: Path) -> list[str]:
    _edit_config(model, lambda c: c["architecture"].update(alpha="x"))
    return [str(model)]


def nb_vocabulary_not_a_list(model: Path) -> list[str]:
    _edit_config(model, lambda c: c["architecture"].update(vocabulary=5))
    return [str(model)]


COMMON = [
    no_directory,
    no_weights,
    no_config,
    config_not_json,
    version_99,
    truncated_weights,
    points_outside,
]
BREAKAGES = (
    [pytest.param("rnn", b, id=f"rnn-{b.__name__}") for b in COMMON]
    + [
        pytest.param("rnn", b, id=f"rnn-{b.__name__}")
        for b in (no_vocab, unknown_layer, rnn_tensor_wrong_shape, settings_not_an_object)
    ]
    + [pytest.param("bow", b, id=f"bow-{b.__name__}") for b in COMMON]
    + [
        pytest.param("bow", b, id=f"bow-{b.__name__}")
        for b in (
            unknown_architecture,
            nb_tensor_wrong_shape,
            nb_alpha_not_a_number,
            nb_vocabulary_not_a_list,
        )
    ]
)


@pytest.mark.parametrize("verb", ["evaluate", "predict", "summary"])
@pytest.mark.parametrize(("kind", "breakage"), BREAKAGES)
def test_a_broken_model_directory(
    request, tmp_path, copy_model, csv_data, cli, user_error, snapshot, kind, breakage, verb
):
    model = copy_model(request.getfixturevalue(f"{kind}_model"))
    named = breakage(model)
    before = snapshot(tmp_path)
    extra = {"evaluate": ["--data", csv_data["test"]], "predict": ["good film"], "summary": []}
    result = cli(verb, model, *extra[verb])
    line = user_error(result)
    assert result.out == ""
    for part in named:
        assert part in line
    assert snapshot(tmp_path) == before


def test_the_copied_model_works_before_it_is_broken(tmp_path, copy_model, rnn_model, cli):
    """The breakages above are what fails: the same copy, unbroken, is a working model."""
    model = copy_model(rnn_model)
    assert cli("predict", model, "good film").code == 0
    assert cli("summary", model).code == 0


# -- the installed command -------------------------------------------------------------


def _rnnkit_command() -> list[str]:
    script = Path(sys.executable).with_name("rnnkit")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "rnnkit.cli.main"]


def test_installed_command_exit_codes_and_one_line_errors(tmp_path, rnn_model):
    def run(*argv: str | Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*_rnnkit_command(), *map(str, argv)],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=tmp_path,
        )

    failed = run(*train_argv(tmp_path / "missing.csv", tmp_path / "out"))
    assert failed.returncode == 2
    assert "Traceback" not in failed.stderr
    assert failed.stderr.count("\n") == 1
    assert failed.stderr.startswith("error: ")
    assert str(tmp_path / "missing.csv") in failed.stderr
    assert failed.stdout == ""
    assert not (tmp_path / "out").exists()

    worked = run("summary", rnn_model)
    assert worked.returncode == 0, worked.stderr
    assert worked.stderr == ""
    assert "Total params" in worked.stdout
