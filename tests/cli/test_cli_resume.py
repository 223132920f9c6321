"""Checkpoints, exact resume, determinism and numerical faults, from the command line.

The kill-and-resume tests run ``rnnkit train`` as a real process, kill it with SIGKILL
once it has written a checkpoint at a given step or later (the kill lands wherever the
run then is: mid-step, mid-write of the next checkpoint, ...), resume it with
``--resume``, and compare the final model with an uninterrupted run's, byte for byte.
The killed run says on stdout when that checkpoint is written, and waits at its next
one, so however fast or slow it is, it cannot end before the kill.
"""

from __future__ import annotations

import json
import select
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

from format_samples import frames_csv
from rnnkit.io import load_weights
from rnnkit.layers import Dense
from rnnkit.models import FrameClassifier
from rnnkit.models.frames import FRAME_CLASSIFIER_DEFAULTS

RNNKIT = [sys.executable, "-m", "rnnkit.cli.main"]


def _run(argv: list[str], out: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*RNNKIT, "train", *argv, "--out", str(out), *extra],
        capture_output=True,
        text=True,
        check=False,
    )


#: ``python -c KILLABLE STEP train ...``: the command with Checkpoints.save wrapped. Once a
#: checkpoint at STEP or later is written, it prints that step (the cue to kill) and goes
#: on; after the next checkpoint it waits on stdin (open until the kill), so the run
#: cannot end first
KILLABLE = """
import sys
from rnnkit.cli.main import main
from rnnkit.training.checkpoint import Checkpoints

kill_at, argv, cue = int(sys.argv[1]), sys.argv[2:], sys.stdout
sys.stdout = sys.stderr  # the command's own output stays off the cue's line
save = Checkpoints.save

def save_and_cue(self, state, arrays):
    target = save(self, state, arrays)
    if save_and_cue.cued:
        sys.stdin.read()
    elif self.last_step >= kill_at:
        save_and_cue.cued = True
        print(self.last_step, file=cue, flush=True)
    return target

save_and_cue.cued = False
Checkpoints.save = save_and_cue
sys.exit(main(argv))
"""
#: seconds to wait for the cue: only a hung run takes this long
SAFETY_TIMEOUT = 600


def _kill_after(argv: list[str], out: Path, step: int) -> int:
    """Start a run, SIGKILL it once it has written a checkpoint at `step` or later;
    returns that checkpoint's step."""
    command = [sys.executable, "-c", KILLABLE, str(step), "train", *argv, "--out", str(out)]
    with tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err, text=True
        )
        try:
            ready, _, _ = select.select([proc.stdout], [], [], SAFETY_TIMEOUT)
            cue = proc.stdout.readline() if ready else ""
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.communicate()
        err.seek(0)
        assert cue, f"no checkpoint at step {step} or later (exit {proc.returncode}):\n{err.read()}"
    assert proc.returncode == -signal.SIGKILL
    return int(cue)


def _same_model(a: Path, b: Path) -> None:
    assert (a / "weights.safetensors").read_bytes() == (b / "weights.safetensors").read_bytes()
    histories = [json.loads((d / "config.json").read_text())["training"]["history"] for d in (a, b)]
    figures = ("loss", "val_loss", "val_accuracy", "val_entity_f1")  # those the run has
    same = [[{k: e[k] for k in figures if k in e} for e in h["epochs"]] for h in histories]
    assert same[0] == same[1]
    assert histories[0]["best_epoch"] == histories[1]["best_epoch"]


CONFIGS = {
    # dropout draws and a shuffled order each epoch: every generator must come back
    "frames": lambda d: ["--task", "classify", "--data", str(frames_csv(d / "f.csv")),
                         "--hidden", "24", "--dropout", "0.3", "--epochs", "6",
                         "--batch-size", "8", "--patience", "100"],
    # the state carried from window to window (truncated BPTT) must come back too
    "lm": lambda d: ["--task", "lm", "--data", str(_text(d / "t.txt")), "--hidden", "24",
                     "--bptt", "12", "--batch-size", "4", "--epochs", "3", "--dropout", "0.2"],
    # scheduled sampling draws from a generator of the teacher-forcing wrapper
    "seq2seq": lambda d: ["--task", "seq2seq", "--data", str(_pairs(d / "p.tsv")),
                          "--hidden", "12", "--embed", "8", "--epochs", "3",
                          "--batch-size", "8", "--sampling-ratio", "0.3"],
    # BIO tags: early stopping follows the validation entity F1, computed after each epoch
    "ner": lambda d: ["--task", "tag", "--data", str(_bio(d / "n.conll")), "--hidden", "12",
                      "--embed", "8", "--dropout", "0.3", "--epochs", "4", "--batch-size", "8",
                      "--lr", "0.02"],
    # the embedding starts from a file's vectors and trains: the checkpoint holds E
    "ner-glove": lambda d: ["--task", "tag", "--data", str(_bio(d / "n.conll")),
                            "--embeddings", str(_vectors(d / "v.txt")), "--hidden", "12",
                            "--epochs", "4", "--batch-size", "8", "--lr", "0.02"],
}  # fmt: skip


def _vectors(path: Path) -> Path:
    """GloVe-format vectors (d = 4) for some of _bio's words, lower-cased as GloVe's are."""
    rng = np.random.default_rng(4)
    words = ["ann", "smith", "runs", "in", "paris", "oslo"]
    path.write_text(
        "".join(f"{w} {' '.join(f'{v:.4f}' for v in rng.normal(size=4))}\n" for w in words)
    )
    return path


def _text(path: Path) -> Path:
    rng = np.random.default_rng(1)
    words = ["the", "cell", "reads", "a", "state", "and", "writes", "another", "step"]
    lines = [" ".join(rng.choice(words, size=9)) for _ in range(120)]
    path.write_text("\n".join(lines) + "\n")
    return path


def _bio(path: Path) -> Path:
    rng = np.random.default_rng(3)
    names, places = ["Ann", "Bob", "Eve", "Joe"], ["Paris", "Rome", "Oslo"]
    blocks = [
        f"{rng.choice(names)}\tB-person\nSmith\tI-person\nruns\tO\nin\tO\n"
        f"{rng.choice(places)}\tB-location"
        for _ in range(120)
    ]
    path.write_text("\n\n".join(blocks) + "\n")
    return path


def _pairs(path: Path) -> Path:
    rng = np.random.default_rng(2)
    words = ["".join(rng.choice(list("abcde"), size=int(rng.integers(2, 7)))) for _ in range(200)]
    path.write_text("".join(f"{w}\t{w[::-1]}\n" for w in words))
    return path


@pytest.mark.slow
@pytest.mark.parametrize(("config", "kill_points"), [("frames", (7, 23, 41)), ("lm", (30,)),
                                                     ("seq2seq", (25,)),
                                                     ("ner", (20,)),
                                                     ("ner-glove", (20,))])  # fmt: skip
def test_a_killed_run_resumes_to_the_same_weights(tmp_path, config, kill_points) -> None:
    argv = [*CONFIGS[config](tmp_path), "--checkpoint-every", "3"]
    reference = _run(argv, tmp_path / "reference")
    assert reference.returncode == 0, reference.stderr
    for k in kill_points:
        out = tmp_path / f"killed-{k}"
        seen = _kill_after(argv, out, k)
        assert not (out / "config.json").exists()  # killed before the model was saved
        resumed = _run(argv, out, "--resume")
        assert resumed.returncode == 0, resumed.stderr
        step = int(resumed.stdout.split("resuming at step ")[1].split(":")[0])
        assert step >= seen  # a checkpoint may land between the last look and the kill
        _same_model(tmp_path / "reference", out)


def test_same_seed_same_weights_and_figures(tmp_path, cli) -> None:
    argv = CONFIGS["frames"](tmp_path)
    for name in ("one", "two"):
        assert cli("train", *argv, "--out", tmp_path / name).code == 0
    _same_model(tmp_path / "one", tmp_path / "two")
    config = json.loads((tmp_path / "one" / "config.json").read_text())["training"]
    assert config["seed"] == 0 and config["command"].startswith("rnnkit train --task classify")
    other = cli("train", *argv, "--seed", "1", "--out", tmp_path / "three")
    assert other.code == 0
    one = load_weights(tmp_path / "one" / "weights.safetensors")
    three = load_weights(tmp_path / "three" / "weights.safetensors")
    assert any(not np.array_equal(one[k], three[k]) for k in one)


def test_resume_without_a_checkpoint_starts_from_the_beginning(tmp_path, cli) -> None:
    argv = CONFIGS["frames"](tmp_path)
    result = cli("train", *argv, "--out", tmp_path / "m", "--resume", "--keep-checkpoint")
    assert result.code == 0 and "no checkpoint in" in result.out
    again = cli("train", *argv, "--out", tmp_path / "m")
    assert "holds an earlier run; starting afresh" in again.out


def test_a_finished_run_removes_its_checkpoint_and_has_nothing_to_resume(
    tmp_path, cli, user_error, snapshot
) -> None:
    argv = CONFIGS["frames"](tmp_path)
    result = cli("train", *argv, "--out", tmp_path / "a", "--checkpoint-every", "5")
    assert result.code == 0
    assert "checkpoint removed (--keep-checkpoint keeps it for --resume)" in result.out
    assert not (tmp_path / "a" / "checkpoint").exists()
    before = snapshot(tmp_path / "a")
    line = user_error(cli("train", *argv, "--out", tmp_path / "a", "--resume"))
    assert line == (
        f"error: --resume: {tmp_path / 'a'} holds a finished model and no checkpoint "
        "(removed when its training ended; --keep-checkpoint keeps it): nothing to resume; "
        "train without --resume to start afresh"
    )
    assert snapshot(tmp_path / "a") == before


def test_a_kept_checkpoint_of_a_finished_run_trains_on_only_with_more_epochs(
    tmp_path, cli, user_error, snapshot
) -> None:
    argv = CONFIGS["frames"](tmp_path)  # 6 epochs
    result = cli("train", *argv, "--out", tmp_path / "a", "--keep-checkpoint")
    assert result.code == 0
    assert f"checkpoint kept in {tmp_path / 'a' / 'checkpoint'}" in result.out
    before = snapshot(tmp_path / "a")
    line = user_error(cli("train", *argv, "--out", tmp_path / "a", "--resume"))
    assert line.endswith("nothing to resume: all 6 epochs are done; give more --epochs to train on")
    assert snapshot(tmp_path / "a") == before
    more = cli("train", *argv, "--epochs", "8", "--out", tmp_path / "a", "--resume")
    assert more.code == 0 and "resuming at step" in more.out
    assert [line.split("/")[0] for line in more.out.splitlines() if line.startswith("epoch ")] == [
        "epoch   7",
        "epoch   8",
    ]
    assert cli("train", *argv, "--epochs", "8", "--out", tmp_path / "b").code == 0
    _same_model(tmp_path / "a", tmp_path / "b")  # as if it had been given 8 at the start


def test_a_run_stopped_before_its_model_was_saved_resumes_to_it(tmp_path, cli, monkeypatch) -> None:
    """Interrupted between its last checkpoint and saving the model: --resume saves it."""
    argv = CONFIGS["frames"](tmp_path)
    assert cli("train", *argv, "--out", tmp_path / "reference").code == 0

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(FrameClassifier, "save", interrupted)
        assert cli("train", *argv, "--out", tmp_path / "a").code == 130
    assert (tmp_path / "a" / "checkpoint" / "latest.json").is_file()
    assert not (tmp_path / "a" / "config.json").exists()
    resumed = cli("train", *argv, "--out", tmp_path / "a", "--resume")
    assert resumed.code == 0 and "resuming at step" in resumed.out
    assert not any(line.startswith("epoch ") for line in resumed.out.splitlines())  # none left
    _same_model(tmp_path / "reference", tmp_path / "a")
    assert not (tmp_path / "a" / "checkpoint").exists()


def test_a_checkpoint_of_another_run_or_a_damaged_one_is_refused(
    tmp_path, cli, user_error, snapshot
) -> None:
    argv = CONFIGS["frames"](tmp_path)
    kept = ("--checkpoint-every", "5", "--keep-checkpoint")
    assert cli("train", *argv, "--out", tmp_path / "m", *kept).code == 0
    before = snapshot(tmp_path / "m")
    line = user_error(cli("train", *argv, "--hidden", "8", "--out", tmp_path / "m", "--resume"))
    assert "the checkpoint is of another run (hidden: " in line
    assert snapshot(tmp_path / "m") == before
    changed = ("--hidden", "9", "--lr", "0.01", "--out", tmp_path / "m", "--resume")
    line = user_error(cli("train", *argv, *changed))
    folder = next((tmp_path / "m" / "checkpoint").glob("step-*"))
    assert line == (
        f"error: {folder}: the checkpoint is of another run (hidden: 24 there, 9 now; "
        f"lr: {FRAME_CLASSIFIER_DEFAULTS['lr']!r} there, 0.01 now); "
        "train without --resume, or into another --out"
    )
    assert snapshot(tmp_path / "m") == before
    step = next((tmp_path / "m" / "checkpoint").glob("step-*"))
    saved = (step / "weights.safetensors").read_bytes()
    flipped = bytearray(saved)
    flipped[-3] ^= 0x01  # one bit of one weight: still a valid file
    (step / "weights.safetensors").write_bytes(bytes(flipped))
    line = user_error(cli("train", *argv, "--out", tmp_path / "m", "--resume"))
    assert "weights.safetensors: damaged since it was saved" in line
    (step / "weights.safetensors").write_bytes(saved)
    (step / "optimizer.safetensors").write_bytes(b"\x00" * 20)
    line = user_error(cli("train", *argv, "--out", tmp_path / "m", "--resume"))
    assert "optimizer.safetensors" in line
    (tmp_path / "m" / "checkpoint" / "latest.json").write_text('{"step": 1, "dir": "../../x"}')
    assert "step-NNNNNNNN" in user_error(cli("train", *argv, "--out", tmp_path / "m", "--resume"))
    assert user_error(cli("train", *argv, "--out", tmp_path / "x", "--checkpoint-every", "0"))


def test_a_diverging_run_stops_in_one_line_and_keeps_its_last_good_checkpoint(
    tmp_path, cli, user_error, monkeypatch
) -> None:
    """NaN injected into the output layer's gradient at the 7th step."""
    backward, calls = Dense.backward, {"n": 0}

    def poisoned(self, dy, cache):
        calls["n"] += 1
        dx = backward(self, dy, cache)
        if calls["n"] == 7:
            self.grads["V"][0, 0] = np.nan
        return dx

    monkeypatch.setattr(Dense, "backward", poisoned)
    argv = CONFIGS["frames"](tmp_path)
    line = user_error(cli("train", *argv, "--out", tmp_path / "m", "--checkpoint-every", "2"))
    assert "training diverged at step 7 (epoch 1, batch 7): the gradient norm is nan" in line
    assert "'dense.V'" in line and "step 6" in line and "--clip" in line
    assert not (tmp_path / "m" / "config.json").exists()  # no model from a diverged run
    latest = json.loads((tmp_path / "m" / "checkpoint" / "latest.json").read_text())
    assert latest["step"] == 6
    state = load_weights(tmp_path / "m" / "checkpoint" / latest["dir"] / "weights.safetensors")
    assert all(np.isfinite(w).all() for w in state.values())


def test_the_main_module_runs() -> None:
    """The resume tests start ``python -m rnnkit.cli.main``: it must be the command."""
    result = subprocess.run([*RNNKIT, "--version"], capture_output=True, text=True, check=False)
    assert result.returncode == 0 and result.stdout.startswith("rnnkit ")
