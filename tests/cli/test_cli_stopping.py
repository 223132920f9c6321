"""``rnnkit train`` says why it stopped and which epoch it kept, marks an epoch the time
budget cut, and keeps OUT/checkpoint only where a --resume could use it.

The time-budget tests replace the training loop's clock with one that every look at
it moves on by a second, so the budget runs out at the same batch on any machine.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from format_samples import frames_csv
from rnnkit.models import load_model
from rnnkit.training import trainer as trainer_module


def _argv(d: Path, *extra: str) -> list:
    data = frames_csv(d / "f.csv")
    return ["train", "--task", "classify", "--data", data, "--hidden", "8",
            "--batch-size", "8", "--out", d / "m", *extra]  # fmt: skip


def _history(out: Path) -> dict:
    return json.loads((out / "config.json").read_text())["training"]["history"]


@pytest.fixture
def ticking(monkeypatch) -> None:
    """The training loop's clock: one second more at every reading."""
    ticks = itertools.count()
    monkeypatch.setattr(
        trainer_module, "time", SimpleNamespace(perf_counter=lambda: float(next(ticks)))
    )


def test_all_epochs_done(tmp_path, cli) -> None:
    result = cli(*_argv(tmp_path, "--epochs", "3"))
    assert result.code == 0
    kept = _history(tmp_path / "m")["best_epoch"]
    assert f"stopped: all 3 epochs done; kept epoch {kept}" in result.out.splitlines()


def test_without_validation_the_last_epoch_is_kept(tmp_path, cli) -> None:
    result = cli(*_argv(tmp_path, "--epochs", "2", "--valid-split", "0"))
    assert result.code == 0
    line = "stopped: all 2 epochs done; kept epoch 2, the last (no held-out data to choose by)"
    assert line in result.out.splitlines()


def test_early_stopping(tmp_path, cli) -> None:
    result = cli(*_argv(tmp_path, "--epochs", "40", "--patience", "2", "--lr", "0.1"))
    assert result.code == 0
    history = _history(tmp_path / "m")
    last, best = history["epochs"][-1]["epoch"], history["best_epoch"]
    assert history["stopped"] == "early_stopping" and last == best + 2 < 40
    line = f"stopped: no better val_loss for 2 epochs; kept epoch {best} of {last}"
    assert line in result.out.splitlines()
    assert "checkpoint removed (--keep-checkpoint keeps it for --resume)" in result.out
    assert not (tmp_path / "m" / "checkpoint").exists()


def test_the_time_budget_marks_the_cut_epoch_keeps_the_checkpoint_and_resumes(
    tmp_path, cli, ticking
) -> None:
    argv = _argv(tmp_path, "--epochs", "6", "--max-minutes", "0.5")
    result = cli(*argv)
    assert result.code == 0
    lines = result.out.splitlines()
    history = _history(tmp_path / "m")
    cut = history["epochs"][-1]
    epoch, done, total = cut["epoch"], cut["cut_after"], cut["batches"]
    assert history["stopped"] == "time_budget" and 0 < done < total == 14
    marked = [line for line in lines if "(cut: " in line]
    assert marked == [next(line for line in lines if line.startswith(f"epoch {epoch:>3}/6 "))]
    assert marked[0].startswith(f"epoch {epoch:>3}/6 (cut: {done}/{total} batches)  loss ")
    assert (
        f"stopped: --max-minutes 0.5 reached during epoch {epoch} (cut after {done} of "
        f"{total} batches); kept epoch {history['best_epoch']}"
    ) in lines
    command = "rnnkit " + " ".join(str(a) for a in argv)
    assert f"checkpoint kept: {command} --resume continues it" in lines
    assert (tmp_path / "m" / "checkpoint" / "latest.json").is_file()
    resumed = cli(*argv, "--resume")
    assert resumed.code == 0
    assert f"resuming at step {len(history['epochs']) * 14 - 14 + done}: epoch {epoch + 1}" in (
        resumed.out
    )
    first = next(line for line in resumed.out.splitlines() if line.startswith("epoch "))
    assert first.startswith(f"epoch {epoch + 1:>3}/6")  # under a new budget of its own
    again = _history(tmp_path / "m")
    assert again["epochs"][: len(history["epochs"])] == history["epochs"]
    load_model(tmp_path / "m")  # a history with a cut epoch reads like any other


def test_keep_checkpoint_keeps_it(tmp_path, cli) -> None:
    result = cli(*_argv(tmp_path, "--epochs", "2", "--keep-checkpoint"))
    assert result.code == 0
    kept = tmp_path / "m" / "checkpoint"
    assert f"checkpoint kept in {kept} (--resume with more --epochs trains on)" in result.out
    latest = json.loads((kept / "latest.json").read_text())
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    assert config["training"]["checkpoint_step"] == latest["step"]
