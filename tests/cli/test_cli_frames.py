"""``rnnkit train / evaluate / predict / summary`` on real-valued sequences and label files.

Frames CSVs and npz files written here (small, seconds to train), the shared Japanese
Vowels and names corpora where present, and the bad input every reader must refuse in
one line (exit 2) without writing a model.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from rnnkit.models import FrameClassifier, FrameRegressor, FrameTagger, load_model

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
VOWELS = SHARED / "japanese_vowels"
NAMES = SHARED / "names_by_language"
SMALL = ("--hidden", "8", "--epochs", "3", "--valid-split", "0")


def _sequences(n: int, seed: int) -> tuple[list[np.ndarray], list[str]]:
    """Two features; "up" sequences drift upwards, "down" ones downwards."""
    rng = np.random.default_rng(seed)
    xs, labels = [], []
    for i in range(n):
        sign = 1 if i % 2 else -1
        steps = rng.normal(loc=sign * 0.5, size=(int(rng.integers(3, 9)), 2))
        xs.append(np.cumsum(steps, axis=0) * [1.0, 30.0] + [0.0, 100.0])
        labels.append("up" if sign > 0 else "down")
    return xs, labels


def _write_frames(path: Path, xs, labels, per_frame: bool = False) -> Path:
    lines = ["series_id,t,label,pitch,energy"]
    for i, (x, label) in enumerate(zip(xs, labels, strict=True)):
        for t, (a, b) in enumerate(x):
            tag = (label if t >= len(x) // 2 else "start") if per_frame else label
            lines.append(f"s{i:03d},{t},{tag},{a:.6f},{b:.6f}")
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def frames_files(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("frames")
    train, test = _sequences(120, 0), _sequences(40, 1)
    T = max(len(x) for x in test[0])
    X = np.zeros((len(test[0]), T, 2))
    for i, x in enumerate(test[0]):
        X[i, : len(x)] = x
    lengths = np.array([len(x) for x in test[0]])
    np.savez(root / "test.npz", X=X, lengths=lengths, y=np.array(test[1]))
    return {
        "train": _write_frames(root / "train.csv", *train),
        "test": _write_frames(root / "test.csv", *test),
        "npz": root / "test.npz",
        "tagged": _write_frames(root / "tagged.csv", *train, per_frame=True),
    }


@pytest.fixture(scope="module")
def frame_model(frames_files, tmp_path_factory, run_cli) -> Path:
    out = tmp_path_factory.mktemp("fm") / "model"
    result = run_cli(
        "train",
        "--task",
        "classify",
        "--data",
        frames_files["train"],
        "--out",
        out,
        "--hidden",
        "16",
        "--epochs",
        "15",
        "--lr",
        "0.01",
    )
    assert result.code == 0, result.err
    return out


def test_train_reads_frames_and_saves_the_scaling(frame_model, frames_files) -> None:
    model = load_model(frame_model)
    assert isinstance(model, FrameClassifier) and model.features_ == ["pitch", "energy"]
    assert abs(model.scaler_.mean[1] - 100) < 30 and model.scaler_.std[1] > 10  # raw units
    record = json.loads((frame_model / "features.json").read_text())
    assert record["features"] == ["pitch", "energy"] and len(record["scaling"]["std"]) == 2
    config = json.loads((frame_model / "config.json").read_text())
    assert config["task"] == "classify" and "features.json" in config["files"]


def test_evaluate_csv_and_npz_alike(frame_model, frames_files, cli) -> None:
    scores = []
    for name in ("test", "npz"):
        result = cli("evaluate", frame_model, "--data", frames_files[name], "--json")
        assert result.code == 0, result.err
        report = json.loads(result.out)
        assert set(report) >= {"accuracy", "per_class_accuracy", "confusion_matrix", "labels"}
        scores.append(report)
    assert scores[0] == scores[1]  # the same sequences, by name (csv) or position (npz)
    assert scores[0]["accuracy"] >= 0.9 and scores[0]["n"] == 40


def test_predict_rows_and_ids(frame_model, frames_files, cli) -> None:
    result = cli(
        "predict",
        frame_model,
        "--data",
        frames_files["test"],
        "--row",
        "1",
        "--id",
        "s002",
        "--json",
    )
    assert result.code == 0, result.err
    rows = json.loads(result.out)
    assert [r["id"] for r in rows] == ["s001", "s002"]
    assert [r["label"] for r in rows] == ["up", "down"]
    assert sum(rows[0]["probabilities"].values()) == pytest.approx(1.0)
    npz = cli("predict", frame_model, "--data", frames_files["npz"], "--row", "1")
    assert npz.code == 0 and npz.out.split()[:2] == ["1", "up"]
    summary = cli("summary", frame_model)
    assert "2 real-valued features (pitch, energy), standardised" in summary.out


def test_tag_and_regress_tasks(frames_files, tmp_path, cli) -> None:
    tag = cli(
        "train",
        "--task",
        "tag",
        "--data",
        frames_files["tagged"],
        "--out",
        tmp_path / "tag",
        *SMALL,
    )
    assert tag.code == 0, tag.err
    assert isinstance(load_model(tmp_path / "tag"), FrameTagger)
    result = cli("predict", tmp_path / "tag", "--data", frames_files["tagged"], "--row", "0")
    first = len(_sequences(120, 0)[0][0])
    assert result.code == 0 and len(result.out.split()) == 1 + first  # the id, a tag a frame
    reg = cli(
        "train",
        "--task",
        "regress",
        "--forecast",
        "1",
        "--data",
        frames_files["train"],
        "--test",
        frames_files["test"],
        "--out",
        tmp_path / "reg",
        *SMALL,
    )
    assert reg.code == 0, reg.err
    assert "baseline mse" in reg.out
    model = load_model(tmp_path / "reg")
    assert isinstance(model, FrameRegressor) and model.settings["forecast"] == 1
    out = cli("evaluate", tmp_path / "reg", "--data", frames_files["test"], "--json")
    assert set(json.loads(out.out)) >= {"mse", "rmse", "mae", "r2", "n", "skill"}


def test_regress_on_numeric_labels(tmp_path, cli) -> None:
    xs, _ = _sequences(60, 3)
    lines = ["seq_id,t,label,a,b"]
    for i, x in enumerate(xs):
        lines += [f"q{i},{t},{x[:, 0].sum():.4f},{a},{b}" for t, (a, b) in enumerate(x)]
    (tmp_path / "r.csv").write_text("\n".join(lines) + "\n")
    result = cli(
        "train", "--task", "regress", "--data", tmp_path / "r.csv", "--out", tmp_path / "m", *SMALL
    )
    assert result.code == 0, result.err
    pred = cli("predict", tmp_path / "m", "--data", tmp_path / "r.csv", "--id", "q0", "--json")
    assert isinstance(json.loads(pred.out)[0]["prediction"], float)
    scores = json.loads(cli("evaluate", tmp_path / "m", "--data", tmp_path / "r.csv", "--json").out)
    assert scores["n"] == 60 and "skill" not in scores and scores["per_output_mse"].keys() == {"y1"}


# -- bad input -----------------------------------------------------------------------------
HEADER = "series_id,t,label,a,b\n"


@pytest.mark.parametrize(
    ("contents", "flags", "named"),
    [
        (HEADER + "s,0,x,1,2\ns,1,x,nan,2\nq,0,y,1,1\n", (), ["sequence 's', step t=1", "nan"]),
        (HEADER + "s,0,x,1,2\ns,1,x,3\nq,0,y,1,1\n", (), ["f.csv:3", "4 fields"]),
        (HEADER + "s,0,x,1,2\ns,0,x,1,2\n", (), ["f.csv:3", "t=0 twice"]),
        (HEADER + "s,0,x,1,2\ns,1,y,1,2\nq,0,y,1,1\n", (), ["sequence 's'", "--task tag"]),
        (HEADER + "s,0,x,1,2\nq,0,y,1,1\n", ("--task", "regress"), ["'x' is not a number"]),
        (
            HEADER + "s,0,1,1,2\nq,0,2,1,1\n",
            ("--task", "regress", "--forecast", "1"),
            ["sequence 1 has 1 steps", "forecasting 1 ahead"],
        ),
        (HEADER + "s,0,x,1,2\nq,0,y,1,1\n", ("--embed", "8"), ["--embed", "real-valued"]),
        (HEADER + "s,0,1,1,2\nq,0,2,1,1\n", ("--task", "regress", "--plot"), ["regressor"]),
        (HEADER + "s,0,x,1,2\nq,0,y,1,1\n", ("--task", "lm"), ["--format frames", "classify"]),
    ],
)
def test_bad_frames_give_one_line(tmp_path, cli, user_error, contents, flags, named) -> None:
    (tmp_path / "f.csv").write_text(contents)
    task = () if "--task" in flags else ("--task", "classify")
    fmt = ("--format", "frames") if "lm" in flags else ()
    line = user_error(
        cli(
            "train",
            *task,
            *flags,
            *fmt,
            "--data",
            tmp_path / "f.csv",
            "--out",
            tmp_path / "out",
            *SMALL,
        )
    )
    for part in named:
        assert part in line
    assert not (tmp_path / "out").exists()


def test_bad_npz_and_label_directories(tmp_path, cli, user_error) -> None:
    np.savez(tmp_path / "z.npz", X=np.zeros((2, 3, 1)), lengths=np.array([3, 0]), y=np.zeros(2))
    line = user_error(
        cli(
            "train",
            "--task",
            "classify",
            "--data",
            tmp_path / "z.npz",
            "--out",
            tmp_path / "out",
            *SMALL,
        )
    )
    assert "sequence 1 has length 0" in line
    (tmp_path / "names").mkdir()
    (tmp_path / "names" / "Czech.txt").write_text("Novak\n")
    (tmp_path / "names" / "Irish.txt").write_text("")
    line = user_error(
        cli(
            "train",
            "--task",
            "classify",
            "--data",
            tmp_path / "names",
            "--out",
            tmp_path / "out",
            *SMALL,
        )
    )
    assert "Irish.txt: an empty file" in line
    assert not (tmp_path / "out").exists()


def test_mistakes_with_a_trained_frame_model(
    frame_model, frames_files, tmp_path, cli, user_error, snapshot
) -> None:
    before = snapshot(frame_model)
    other = tmp_path / "other.csv"
    other.write_text("series_id,t,label,pitch,loudness\ns,0,up,1,2\n")
    assert "no feature column 'energy'" in user_error(cli("evaluate", frame_model, "--data", other))
    unseen = tmp_path / "unseen.csv"
    unseen.write_text("series_id,t,label,pitch,energy\nw,0,sideways,1,2\n")
    line = user_error(cli("evaluate", frame_model, "--data", unseen))
    assert "sequence 'w': label 'sideways' was not seen in training" in line
    assert "--row 99" in user_error(
        cli("predict", frame_model, "--data", frames_files["test"], "--row", "99")
    )
    assert "give --data FILE" in user_error(cli("predict", frame_model, "a text"))
    assert "no sequence with id 'nope'" in user_error(
        cli("predict", frame_model, "--data", frames_files["test"], "--id", "nope")
    )
    assert snapshot(frame_model) == before


# -- the shared corpora --------------------------------------------------------------------
@pytest.mark.slow
def test_japanese_vowels_from_the_command_line(tmp_path, cli) -> None:
    if not (VOWELS / "JapaneseVowels_TRAIN.csv").exists():
        pytest.skip(f"Japanese Vowels data not found at {VOWELS}")
    result = cli(
        "train",
        "--task",
        "classify",
        "--data",
        VOWELS / "JapaneseVowels_TRAIN.csv",
        "--out",
        tmp_path / "jv",
        "--epochs",
        "20",
        "--plot",
    )
    assert result.code == 0, result.err
    assert (tmp_path / "jv" / "confusion_validation.png").read_bytes()[:4] == b"\x89PNG"
    out = cli("evaluate", tmp_path / "jv", "--data", VOWELS / "JapaneseVowels_TEST.csv", "--json")
    report = json.loads(out.out)
    assert report["n"] == 370 and report["accuracy"] >= 0.93
    assert len(report["per_class_accuracy"]) == 9


@pytest.mark.slow
def test_names_by_language_as_label_files(tmp_path, cli) -> None:
    """Three languages of the names corpus, read as a directory of <Label>.txt files."""
    if not NAMES.is_dir():
        pytest.skip(f"names data not found at {NAMES}")
    data = tmp_path / "names"
    data.mkdir()
    for language in ("Japanese", "Greek", "Polish"):
        (data / f"{language}.txt").write_bytes((NAMES / f"{language}.txt").read_bytes())
    result = cli(
        "train",
        "--task",
        "classify",
        "--data",
        data,
        "--level",
        "char",
        "--out",
        tmp_path / "m",
        "--epochs",
        "8",
        "--hidden",
        "32",
    )
    assert result.code == 0, result.err
    assert "validation (10% held out of" in result.out
    report = json.loads(cli("evaluate", tmp_path / "m", "--data", data, "--json").out)
    assert report["labels"] == ["Greek", "Japanese", "Polish"] and report["accuracy"] > 0.85
    pred = cli("predict", tmp_path / "m", "Nakamura", "Papadopoulos", "--json")
    assert [r["label"] for r in json.loads(pred.out)] == ["Japanese", "Greek"]


def test_max_len_cuts_long_training_sequences_and_counts_them(
    frames_files, tmp_path, cli, user_error
) -> None:
    result = cli("train", "--task", "classify", "--data", frames_files["train"], "--out",
                 tmp_path / "m", "--max-len", "4", *SMALL)  # fmt: skip
    xs, _ = _sequences(120, 0)
    longer = sum(len(x) > 4 for x in xs)
    assert result.code == 0 and longer > 0
    assert result.err.strip() == (
        f"warning: {longer} training sequences were longer than 4 steps and were cut to "
        "their first 4 (--max-len)"
    )
    assert load_model(tmp_path / "m").settings["max_len"] == 4
    tag = cli("train", "--task", "tag", "--data", frames_files["tagged"], "--out",
              tmp_path / "t", "--max-len", "3", *SMALL)  # fmt: skip
    assert tag.code == 0 and "were cut to their first 3" in tag.err
    assert "--max-len does not apply to --task lm" in user_error(
        cli(
            "train",
            "--task",
            "lm",
            "--data",
            frames_files["train"],
            "--format",
            "text",
            "--out",
            tmp_path / "x",
            "--max-len",
            "3",
        )
    )
    assert "--max-len 0" in user_error(
        cli(
            "train",
            "--task",
            "classify",
            "--data",
            frames_files["train"],
            "--out",
            tmp_path / "y",
            "--max-len",
            "0",
        )
    )
