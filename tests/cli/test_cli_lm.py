"""``rnnkit train --task lm``, ``rnnkit generate`` and ``evaluate`` on language models."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

TINY_LM = ("--hidden", "16", "--embed", "8", "--epochs", "3", "--bptt", "16", "--batch-size", "4")
TEXT = "ROMEO: the sun is up.\nJULIET: the moon is out.\n" * 20


@pytest.fixture(scope="module")
def text_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("lm") / "play.txt"
    path.write_text(TEXT, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def lm_model(tmp_path_factory: pytest.TempPathFactory, run_cli, text_file: Path) -> Path:
    out = tmp_path_factory.mktemp("lm-model") / "m"
    r = run_cli("train", "--task", "lm", "--data", text_file, "--out", out, *TINY_LM)
    assert r.code == 0, r.err
    return out


def test_train_reports_the_untrained_loss_and_validation(run_cli, text_file, tmp_path) -> None:
    r = run_cli("train", "--task", "lm", "--data", text_file, "--out", tmp_path / "m", *TINY_LM)
    assert r.code == 0, r.err
    assert "untrained loss" in r.out and "ln " in r.out
    assert "validation" in r.out and "bpc" in r.out
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    assert config["task"] == "lm"
    assert config["training"]["settings"]["bptt"] == 16
    assert config["training"]["initial_loss"] == pytest.approx(math.log(len(set(TEXT))), abs=0.5)


def test_generate_is_reproducible_and_starts_with_the_prime(cli, lm_model) -> None:
    a = cli("generate", lm_model, "--prime", "ROMEO:", "--length", "40", "--seed", "3")
    b = cli("generate", lm_model, "--prime", "ROMEO:", "--length", "40", "--seed", "3")
    assert a.code == 0, a.err
    assert a.out == b.out
    assert a.out.startswith("ROMEO:")
    assert len(a.out.rstrip("\n")) >= 40
    greedy = cli("generate", lm_model, "--prime", "J", "--length", "30", "--temperature", "0")
    assert (
        greedy.code == 0
        and greedy.out
        == cli("generate", lm_model, "--prime", "J", "--length", "30", "--temperature", "0").out
    )
    top = cli("generate", lm_model, "--length", "20", "--top-k", "3", "--seed", "1")
    assert top.code == 0, top.err


def test_generate_refuses_a_negative_seed(cli, user_error, lm_model) -> None:
    line = user_error(cli("generate", lm_model, "--length", "5", "--seed", "-1"))
    assert line == "error: --seed -1: must be >= 0"


def test_evaluate_json_keys(cli, lm_model, text_file) -> None:
    r = cli("evaluate", lm_model, "--data", text_file, "--json")
    assert r.code == 0, r.err
    d = json.loads(r.out)
    assert set(d) == {"loss", "perplexity", "bits_per_token", "n_tokens", "unknown_tokens"}
    assert d["n_tokens"] > 0.9 * len(TEXT) and d["loss"] < math.log(len(set(TEXT)))
    plain = cli("evaluate", lm_model, "--data", text_file)
    assert "nats per character" in plain.out


def test_evaluate_and_validation_go_through_characters_never_seen(
    cli, lm_model, text_file, tmp_path
) -> None:
    new = tmp_path / "new.txt"
    new.write_text("ROMEO (to JULIET): the sun is up!\n" * 4, encoding="utf-8")
    r = cli("evaluate", lm_model, "--data", new, "--json")
    assert r.code == 0, r.err
    d = json.loads(r.out)
    assert d["unknown_tokens"] == 12 and d["n_tokens"] > 0
    plain = cli("evaluate", lm_model, "--data", new)
    assert "12 characters not in the model's vocabulary left out" in plain.out
    out = tmp_path / "m"
    train = cli(
        "train", "--task", "lm", "--data", text_file, "--valid", new, "--out", out, *TINY_LM
    )
    assert train.code == 0, train.err
    assert "12 characters not in the model's vocabulary left out" in train.out
    prime = cli("generate", lm_model, "--prime", "(", "--length", "5")
    assert prime.code == 2 and "'(' not in the model's characters" in prime.err


def test_summary_shows_the_language_model(cli, lm_model) -> None:
    r = cli("summary", lm_model)
    assert r.code == 0 and "char-level language model" in r.out


@pytest.mark.parametrize(
    "argv, message",
    [
        (("--length", "0"), "--length 0: must be positive"),
        (("--length", "-3"), "--length -3: must be positive"),
        (("--temperature", "-1"), "--temperature -1.0"),
        (("--top-k", "0"), "--top-k 0"),
        (("--prime", "ROMEO@"), "'@' not in the model's characters"),
    ],
)
def test_generate_bad_input_is_one_line(cli, user_error, lm_model, argv, message) -> None:
    r = cli("generate", lm_model, *argv)
    assert message in user_error(r)
    assert r.out == ""  # nothing printed before the error


def test_generate_refuses_other_models(cli, user_error, rnn_model) -> None:
    assert "not a language model" in user_error(cli("generate", rnn_model))


def test_train_lm_bad_input(cli, user_error, tmp_path, text_file, snapshot) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("", encoding="utf-8")
    out = tmp_path / "m"
    assert "the text is empty" in user_error(
        cli("train", "--task", "lm", "--data", empty, "--out", out)
    )
    assert "bidirectional does not apply" in user_error(
        cli("train", "--task", "lm", "--data", text_file, "--out", out, "--bidirectional")
    )
    assert "--pooling does not apply to --task lm" in user_error(
        cli("train", "--task", "lm", "--data", text_file, "--out", out, "--pooling", "max")
    )
    assert "--bptt 0: must be positive" in user_error(
        cli("train", "--task", "lm", "--data", text_file, "--out", out, "--bptt", "0")
    )
    assert "--lr-decay 1.5: must lie in [0, 1)" in user_error(
        cli("train", "--task", "lm", "--data", text_file, "--out", out, "--lr-decay", "1.5")
    )
    assert snapshot(out) is None  # a failed train writes nothing


def test_word_level_and_random_windows(cli, tmp_path, text_file) -> None:
    out = tmp_path / "w"
    r = cli(
        "train", "--task", "lm", "--data", text_file, "--out", out, "--level", "word",
        "--no-stateful", *TINY_LM,
    )  # fmt: skip
    assert r.code == 0, r.err
    assert "nats per token" in r.out
    g = cli("generate", out, "--prime", "ROMEO:", "--length", "8", "--seed", "0")
    assert g.code == 0, g.err
    words = g.out.split()
    assert words[0] == "ROMEO:" and set(words) <= set(TEXT.split()) | {"<unk>"}
