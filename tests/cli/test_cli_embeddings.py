"""``rnnkit train --embeddings FILE [--freeze-embeddings]``: word embeddings that start
from pretrained vectors, for every task with word inputs, and the mistakes refused."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from rnnkit.io import load_weights

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED = REPO_ROOT / ".." / "shared" / "data"
GLOVE = SHARED / "glove_6b_50d" / "glove.6B.50d.100k.txt.gz"
WNUT = SHARED / "wnut17" / "wnut17train.conll"

#: the file's vectors, d = 3
VECTORS = {"the": [0.1, 0.2, 0.3], "cat": [0.4, -0.5, 0.6], "sat": [-0.7, 0.8, -0.9]}
SENTENCES = ["the cat sat", "the dog sat", "a cat ran"] * 10
TINY = ("--hidden", "4", "--epochs", "2")


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The vectors file and one small training file per task."""
    d = tmp_path_factory.mktemp("embeddings")
    paths = {name: d / name for name in ("glove", "classify", "tag", "lm", "seq2seq")}
    paths["glove"].write_text("".join(f"{w} {' '.join(map(str, v))}\n" for w, v in VECTORS.items()))
    rows = [f'"{s}",{"ab"[i % 2]}' for i, s in enumerate(SENTENCES)]
    paths["classify"].write_text("text,label\n" + "\n".join(rows) + "\n")
    blocks = [
        "\n".join(f"{w}\t{t}" for w, t in zip(s.split(), "DNV", strict=True)) for s in SENTENCES
    ]
    paths["tag"].write_text("\n\n".join(blocks) + "\n")
    paths["lm"].write_text("\n".join(SENTENCES) + "\n")
    paths["seq2seq"].write_text("".join(f"{s}\t{s[::-1]}\n" for s in SENTENCES))
    return paths


def train(cli, files, task: str, out: Path, *extra: str):
    level = ("--level", "word") if task in ("lm", "seq2seq") else ()
    return cli("train", "--task", task, "--data", files[task], "--out", out, *TINY, *level, *extra)


def embedding_of(out: Path, task: str) -> np.ndarray:
    weights = load_weights(out / "weights.safetensors")
    prefix = "encoder" if task == "seq2seq" else ""
    names = [k for k in weights if k.startswith(prefix) and k.endswith(".E")]
    return weights[sorted(names)[0]]


@pytest.mark.parametrize("task", ["classify", "tag", "lm", "seq2seq"])
def test_a_frozen_embedding_keeps_the_files_vectors(cli, files, tmp_path, task):
    out = tmp_path / "m"
    result = train(cli, files, task, out, "--embeddings", files["glove"], "--freeze-embeddings")
    assert result.code == 0, result.err
    assert "vocabulary words found (3 as written, 0 lower-cased)" in result.out
    vocab = "source" if task == "seq2seq" else "tokens"
    tokens = json.loads((out / "vocab.json").read_text())[vocab]["tokens"]
    E = embedding_of(out, task)
    assert E.shape == (len(tokens), 3)
    for word, vector in VECTORS.items():
        np.testing.assert_array_equal(E[tokens.index(word)], np.float32(vector))
    settings = json.loads((out / "config.json").read_text())["training"]["settings"]
    assert settings["freeze_embeddings"] is True and settings["embeddings"] == str(files["glove"])


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (("--embed", "8"), "embed_dim=8 but"),
        (("--one-hot",), "one_hot=True"),
        (("--level", "char"), "word vectors need word tokens"),
    ],
)
def test_what_the_vectors_do_not_fit_is_refused(cli, user_error, files, tmp_path, extra, words):
    result = cli("train", "--task", "classify", "--data", files["classify"], "--out",
                 tmp_path / "m", *TINY, "--embeddings", files["glove"], *extra)  # fmt: skip
    assert words in user_error(result)
    assert not (tmp_path / "m" / "config.json").exists()


def test_a_missing_file_and_a_freeze_without_one_are_refused(cli, user_error, files, tmp_path):
    missing = train(cli, files, "tag", tmp_path / "m", "--embeddings", tmp_path / "nope.txt")
    assert "nope.txt: no such file" in user_error(missing)
    freeze = train(cli, files, "tag", tmp_path / "m", "--freeze-embeddings")
    assert "needs embeddings" in user_error(freeze)


def test_the_flags_do_not_apply_to_regress_or_frames(cli, user_error, files, tmp_path):
    result = cli("train", "--task", "regress", "--data", files["lm"], "--out", tmp_path / "m",
                 "--embeddings", files["glove"])  # fmt: skip
    assert "--embeddings does not apply to --task regress" in user_error(result)
    frames = tmp_path / "frames.csv"
    rows = [f"s{i},{t},{'xy'[i % 2]},{i + t}" for i in range(8) for t in range(3)]
    frames.write_text("series_id,t,label,a\n" + "\n".join(rows) + "\n")
    result = cli("train", "--task", "classify", "--data", frames, "--out", tmp_path / "m",
                 "--freeze-embeddings")  # fmt: skip
    expected = "--freeze-embeddings does not apply to --task classify on real-valued frames"
    assert expected in user_error(result)


def test_glove_on_a_slice_of_wnut17(cli, tmp_path):
    """The shared GloVe file (100,000 words, 50 dimensions) on 300 lines of WNUT-17."""
    if not (GLOVE.is_file() and WNUT.is_file()):
        pytest.skip(f"GloVe or WNUT-17 not found under {SHARED.resolve()}")
    lines = WNUT.read_text(encoding="utf-8").split("\n")[:300]
    data = tmp_path / "wnut.conll"
    data.write_text("\n".join(lines).strip() + "\n", encoding="utf-8")
    result = cli("train", "--task", "tag", "--data", data, "--out", tmp_path / "m", "--hidden",
                 "8", "--epochs", "1", "--valid-split", "0", "--embeddings", GLOVE)  # fmt: skip
    assert result.code == 0, result.err
    coverage = result.out.splitlines()[0]
    assert (
        "vocabulary words found" in coverage
        and "(glove, 100,000 words of 50 dimensions)" in coverage
    )
    assert embedding_of(tmp_path / "m", "tag").shape[1] == 50
