"""What ``rnnkit train`` writes beside the model: curves.png, evaluation.json, grad_norms.csv.

Every task trains once per module (tiny networks, two epochs, --log-grad-norms and a
--test file); the tests then read what each run left in its directory.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from rnnkit.cli.tasks.small_data import MIN_SPLIT
from rnnkit.io import read_config
from rnnkit.models import load_model

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SMALL = ("--hidden", "6", "--epochs", "2", "--batch-size", "8", "--log-grad-norms")


def _tagged(path: Path, n: int, seed: int) -> Path:
    rng = np.random.default_rng(seed)
    blocks = []
    for _ in range(n):
        words = [rng.choice(["the", "a"]), rng.choice(["cat", "dog"]), rng.choice(["runs", "ends"])]
        blocks.append(
            "\n".join(f"{w}\t{t}" for w, t in zip(words, ["DET", "NOUN", "VERB"], strict=True))
        )
    path.write_text("\n\n".join(blocks) + "\n")
    return path


def _text(path: Path, lines: int, seed: int) -> Path:
    rng = np.random.default_rng(seed)
    words = ["the", "cell", "reads", "a", "state", "and", "writes"]
    path.write_text("\n".join(" ".join(rng.choice(words, size=6)) for _ in range(lines)) + "\n")
    return path


def _pairs(path: Path, n: int, seed: int) -> Path:
    rng = np.random.default_rng(seed)
    words = ["".join(rng.choice(list("abc"), size=int(rng.integers(2, 5)))) for _ in range(n)]
    path.write_text("".join(f"{w}\t{w[::-1]}\n" for w in words))
    return path


def _frames(path: Path, n: int, seed: int) -> Path:
    rng = np.random.default_rng(seed)
    lines = ["series_id,t,label,a,b"]
    for i in range(n):
        x = rng.normal(size=(int(rng.integers(3, 7)), 2))
        lines += [f"s{i},{t},{x[:, 0].sum():.4f},{a:.4f},{b:.4f}" for t, (a, b) in enumerate(x)]
    path.write_text("\n".join(lines) + "\n")
    return path


def _task_argv(task: str, d: Path, reviews, write_csv) -> list:
    """The training command of each task, on small files written under `d`."""
    if task == "classify":
        data = [write_csv(d / f"{p}.csv", reviews(n, seed)) for p, n, seed in
                (("train", 90, 1), ("test", 30, 2))]  # fmt: skip
        return ["--task", "classify", "--data", data[0], "--test", data[1], "--embed", "6"]
    if task == "tag":
        return ["--task", "tag", "--data", _tagged(d / "train.conll", 40, 1),
                "--test", _tagged(d / "test.conll", 10, 2), "--embed", "6"]  # fmt: skip
    if task == "lm":
        return ["--task", "lm", "--data", _text(d / "train.txt", 40, 1),
                "--test", _text(d / "test.txt", 10, 2), "--embed", "6", "--bptt", "8"]  # fmt: skip
    if task == "seq2seq":
        return ["--task", "seq2seq", "--data", _pairs(d / "train.tsv", 60, 1),
                "--test", _pairs(d / "test.tsv", 10, 2), "--embed", "6"]  # fmt: skip
    # MIN_SPLIT sequences: fewer would not be split for validation by default
    return ["--task", "regress", "--data", _frames(d / "train.csv", MIN_SPLIT, 1),
            "--test", _frames(d / "test.csv", 10, 2)]  # fmt: skip


TASKS = ("classify", "tag", "lm", "seq2seq", "regress")


@pytest.fixture(scope="module")
def trained(tmp_path_factory, run_cli, reviews, write_csv) -> dict[str, tuple[Path, str]]:
    """task -> (model directory, what `rnnkit train` printed), each trained once."""
    out = {}
    for task in TASKS:
        d = tmp_path_factory.mktemp(task)
        result = run_cli("train", *_task_argv(task, d, reviews, write_csv), "--out", d / "m",
                         *SMALL)  # fmt: skip
        assert result.code == 0, (task, result.err)
        out[task] = (d / "m", result.out)
    return out


@pytest.mark.parametrize("task", TASKS)
def test_every_task_draws_its_curves_and_prints_where(trained, task) -> None:
    model, printed = trained[task]
    png = model / "curves.png"
    assert png.read_bytes().startswith(PNG_SIGNATURE) and png.stat().st_size > 5000
    assert f"training curves: {png}" in printed.splitlines()


@pytest.mark.parametrize(
    ("task", "keys"),
    [
        ("classify", {"accuracy", "confusion_matrix", "labels", "per_class_accuracy"}),
        ("tag", {"accuracy", "confusion_matrix", "labels", "macro_f1"}),
        ("lm", {"loss", "perplexity", "bits_per_token", "n_tokens", "unknown_tokens"}),
        ("seq2seq", {"exact_match", "token_error_rate", "n"}),
        ("regress", {"mse", "rmse", "mae", "r2"}),
    ],
)
def test_evaluation_json_holds_each_parts_report(trained, task, keys) -> None:
    model, _ = trained[task]
    record = json.loads((model / "evaluation.json").read_text())
    assert record["task"] == task
    assert list(record["parts"]) == ["validation", "test"]
    test = record["parts"]["test"]
    assert test["data"].endswith("test" + Path(test["data"]).suffix)
    assert keys <= set(test["report"])


def test_the_classifiers_evaluation_matches_rnnkit_evaluate(trained, run_cli) -> None:
    model, _ = trained["classify"]
    test = json.loads((model / "evaluation.json").read_text())["parts"]["test"]
    result = run_cli("evaluate", model, "--data", model.parent / "test.csv", "--json")
    assert result.code == 0 and json.loads(result.out) == test["report"]


@pytest.mark.parametrize("task", TASKS)
def test_every_task_says_why_it_stopped_and_removes_its_checkpoint(trained, task) -> None:
    model, printed = trained[task]
    lines = printed.splitlines()
    history = read_config(model)["training"]["history"]
    kept = history["best_epoch"]
    assert f"stopped: all 2 epochs done; kept epoch {kept}" in lines
    assert history["stopped"] == "epochs" and kept in (1, 2)
    assert lines.index(f"stopped: all 2 epochs done; kept epoch {kept}") < next(
        i for i, line in enumerate(lines) if line.startswith("trained in ")
    )
    assert "checkpoint removed (--keep-checkpoint keeps it for --resume)" in lines
    assert not (model / "checkpoint").exists()
    assert "checkpoint_step" not in read_config(model)["training"]


@pytest.mark.parametrize("task", TASKS)
def test_grad_norms_log_every_step_of_every_task(trained, task) -> None:
    model, _ = trained[task]
    with (model / "grad_norms.csv").open(newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    assert header[:5] == ["step", "epoch", "batch", "global_norm", "clipped"]
    names = list(load_model(model).model_.named_weights())
    assert header[5:] == names  # one column per parameter, "<layer>.<param>"
    assert [int(r[0]) for r in body] == list(range(1, len(body) + 1))
    assert {r[1] for r in body} == {"1", "2"}
    for r in body:
        norms = np.array([float(v) for v in r[5:]])
        assert float(r[3]) == pytest.approx(np.sqrt((norms**2).sum()), rel=1e-6)


@pytest.mark.parametrize("task", TASKS)
def test_the_files_beside_the_model_are_not_part_of_it(trained, task) -> None:
    model, _ = trained[task]
    config = read_config(model)
    assert not {"curves.png", "evaluation.json", "grad_norms.csv"} & set(config["files"])
    assert set(config["sha256"]) == set(config["files"])
    assert config["training"]["grad_norms"] == "grad_norms.csv"
    load_model(model)  # loads, ignoring them


def test_a_resumed_run_appends_to_its_log(tmp_path, cli, reviews, write_csv) -> None:
    data = write_csv(tmp_path / "train.csv", reviews(48, 1))
    argv = ["train", "--task", "classify", "--data", data, "--out", tmp_path / "m",
            "--hidden", "6", "--embed", "6", "--batch-size", "8", "--log-grad-norms"]  # fmt: skip
    assert cli(*argv, "--epochs", "1", "--keep-checkpoint").code == 0
    first = (tmp_path / "m" / "grad_norms.csv").read_text().splitlines()
    assert cli(*argv, "--epochs", "2", "--resume").code == 0
    both = (tmp_path / "m" / "grad_norms.csv").read_text().splitlines()
    assert both[: len(first)] == first and len(both) == 2 * len(first) - 1
    assert [line.split(",")[1] for line in both[len(first) :]] == ["2"] * (len(first) - 1)


def test_without_the_flag_nothing_is_logged(tmp_path, cli, reviews, write_csv) -> None:
    data = write_csv(tmp_path / "train.csv", reviews(30, 1))
    argv = ["train", "--task", "classify", "--data", data, "--out", tmp_path / "m",
            "--hidden", "4", "--embed", "4", "--epochs", "1"]  # fmt: skip
    assert cli(*argv).code == 0
    assert not (tmp_path / "m" / "grad_norms.csv").exists()
    assert "grad_norms" not in read_config(tmp_path / "m")["training"]


def test_the_baseline_has_no_curves_and_no_gradients(tmp_path, cli, user_error, csv_data):
    argv = ["train", "--task", "classify", "--data", csv_data["train"], "--model", "bow-nb"]
    result = cli(*argv, "--out", tmp_path / "bow")
    assert result.code == 0 and "training curves" not in result.out
    assert not (tmp_path / "bow" / "curves.png").exists()
    assert json.loads((tmp_path / "bow" / "evaluation.json").read_text())["parts"]["validation"]
    line = user_error(cli(*argv, "--out", tmp_path / "b2", "--log-grad-norms"))
    assert "--log-grad-norms apply to the recurrent network" in line


def test_without_matplotlib_training_succeeds_and_says_so(
    tmp_path, cli, reviews, write_csv, no_matplotlib
) -> None:
    data = write_csv(tmp_path / "train.csv", reviews(30, 1))
    result = cli("train", "--task", "classify", "--data", data, "--out", tmp_path / "m",
                 "--hidden", "4", "--embed", "4", "--epochs", "1")  # fmt: skip
    assert result.code == 0, result.err
    said = [line for line in result.out.splitlines() if "curves" in line]
    assert said == ["training curves not drawn: matplotlib is missing (pip install 'rnnkit[plot]')"]
    assert not (tmp_path / "m" / "curves.png").exists()
    assert (tmp_path / "m" / "weights.safetensors").is_file()
