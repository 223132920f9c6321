"""``rnnkit train --task tag --char-cell cnn``: accepted for taggers, refused elsewhere,
and shown by ``rnnkit trace`` (``rnnkit export`` of it: tests/cli/test_cli_export.py)."""

from __future__ import annotations

import json

import pytest

from rnnkit.models import load_model

TINY = ("--hidden", "8", "--embed", "8", "--epochs", "2", "--no-crf")
CHARS = ("--char-cell", "cnn", "--char-dim", "4", "--char-units", "3")


@pytest.fixture(scope="module")
def bio_file(tmp_path_factory):
    blocks = [f"{who}\tB-person\nSmith\tI-person\nruns\tO\n.\tO" for who in ("Ann", "Bob") * 20]
    path = tmp_path_factory.mktemp("bio") / "train.conll"
    path.write_text("\n\n".join(blocks) + "\n")
    return path


@pytest.fixture(scope="module")
def cnn_model(bio_file, run_cli):
    out = bio_file.parent / "model"
    r = run_cli("train", "--task", "tag", "--data", bio_file, "--out", out, *TINY, *CHARS)
    assert r.code == 0, r.err
    return out


def test_the_flag_trains_a_tagger_with_a_character_cnn(cnn_model, run_cli) -> None:
    config = json.loads((cnn_model / "config.json").read_text())
    assert config["training"]["settings"]["char_cell"] == "cnn"
    chars = load_model(cnn_model).model_.layers[0].chars
    assert type(chars).__name__ == "CharCNN" and chars.filters == 6
    r = run_cli("tag", cnn_model, "Ann Smith runs .")
    assert r.code == 0, r.err
    pairs = [pair.rsplit("/", 1) for pair in r.out.split()]  # two epochs: any tags
    assert [w for w, _ in pairs] == ["Ann", "Smith", "runs", "."]
    assert {t for _, t in pairs} <= {"B-person", "I-person", "O"}


def test_trace_shows_the_character_features_of_a_convolution(cnn_model, run_cli) -> None:
    r = run_cli("trace", cnn_model, "Ann runs")
    assert r.code == 0, r.err
    assert "the 6 features its convolution reads" in r.out


def test_the_flag_is_refused_where_it_does_not_apply(cli, user_error, csv_data, tmp_path):
    r = cli("train", "--task", "classify", "--data", csv_data["train"], "--out", tmp_path / "m",
            "--char-cell", "cnn")  # fmt: skip
    assert "--char-cell" in user_error(r)


def test_an_unknown_char_cell_is_refused(cli, bio_file, tmp_path) -> None:
    r = cli("train", "--task", "tag", "--data", bio_file, "--out", tmp_path / "m",
            "--char-cell", "conv")  # fmt: skip
    assert r.code == 2 and "cnn" in r.err
