"""``rnnkit demo``, the main job, end to end on the bundled MR split (one short epoch)."""

from __future__ import annotations

import json
import re

from rnnkit.models import load_model


def test_demo_trains_reports_and_saves(run_cli, tmp_path) -> None:
    out = tmp_path / "demo-model"
    result = run_cli("demo", "--epochs", "1", "--out", out)
    assert result.code == 0, result.err
    assert result.err == ""
    text = result.out
    assert "8,530 training, 1,066 dev and 1,066 test reviews" in text
    accuracy = float(re.search(r"^accuracy (\d\.\d+)  n 1066", text, re.M).group(1))
    assert accuracy > 0.6  # one epoch already learns MR far above chance
    assert re.search(r"^true \\ predicted\s+negative\s+positive$", text, re.M)
    for review in ("movie was good", "movie was bad", "movie was not good"):
        assert f"'{review}'" in text
    assert "Total params:" in text and "bag of words + Naive Bayes: test accuracy" in text
    config = json.loads((out / "config.json").read_text())
    assert config["task"] == "classify" and config["training"]["seed"] == 0
    assert abs(config["training"]["test_accuracy"] - accuracy) < 1e-4
    model = load_model(out)
    assert model.labels_ == ["negative", "positive"]
    assert (out / "confusion_test.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    recorded = json.loads((out / "evaluation.json").read_text())["parts"]["test"]["report"]
    assert abs(recorded["accuracy"] - accuracy) < 1e-4


def test_demo_rejects_bad_flags(run_cli, tmp_path) -> None:
    result = run_cli("demo", "--epochs", "0", "--out", tmp_path / "m")
    assert result.code == 2
    assert result.err.startswith("error: ") and result.err.count("\n") == 1
    assert not (tmp_path / "m").exists()


def test_demo_refuses_a_negative_seed(run_cli, user_error, tmp_path) -> None:
    line = user_error(run_cli("demo", "--seed", "-1", "--out", tmp_path / "m"))
    assert line == "error: --seed -1: must be >= 0"
    assert not (tmp_path / "m").exists()
