"""Shared fixtures for the tests of the ``rnnkit`` command: data files, tiny trained models.

The command runs in-process through :func:`rnnkit.cli.main.main`. Models are trained
once per test module (``--hidden 8 --embed 8 --epochs 2`` on a few hundred rows, well
under a second each) and copied when a test needs to break one.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import shutil
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rnnkit.cli.main import main

REPO_ROOT = Path(__file__).resolve().parents[2]
MR_TRAIN = REPO_ROOT / ".." / "shared" / "data" / "mr_sentence_polarity" / "train.tsv"

#: the flags that keep every recurrent model of these tests tiny and fast
TINY = ("--hidden", "8", "--embed", "8", "--epochs", "2")

#: words that make up the synthetic reviews, by label
WORDS = {
    "pos": ("good", "great", "fine", "lovely"),
    "neg": ("bad", "awful", "dull", "poor"),
    "meh": ("average", "so-so", "middling", "okay"),
}
FILLER = ("film", "movie", "plot", "acting", "cast", "story")


@dataclass(frozen=True)
class Result:
    """What one run of the command gave: exit code, stdout, stderr."""

    code: int
    out: str
    err: str


def _run_redirected(*argv: str | Path) -> Result:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in argv])
    return Result(code, out.getvalue(), err.getvalue())


@pytest.fixture(scope="session")
def run_cli() -> Callable[..., Result]:
    """Run ``rnnkit ARGV`` in-process, capturing its output; usable in module fixtures."""
    return _run_redirected


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    """Run ``rnnkit ARGV`` in-process with pytest's capture."""

    def run(*argv: str | Path) -> Result:
        capsys.readouterr()
        code = main([str(a) for a in argv])
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


def _user_error_line(result: Result) -> str:
    assert result.code == 2, (result.code, result.out, result.err)
    assert "Traceback" not in result.err
    lines = result.err.splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith("error: "), lines[0]
    return lines[0]


@pytest.fixture(scope="session")
def user_error() -> Callable[[Result], str]:
    """Check a result is a user's mistake (DESIGN §6: exit code 2, one ``error: `` line on
    stderr, no traceback) and return that line."""
    return _user_error_line


def _snapshot(root: Path) -> dict[str, bytes] | None:
    if not root.exists():
        return None
    if root.is_file():
        return {".": root.read_bytes()}
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


@pytest.fixture(scope="session")
def snapshot() -> Callable[[Path], dict[str, bytes] | None]:
    """Every file under a path (relative path -> bytes), or None if it does not exist."""
    return _snapshot


def _reviews(n: int, seed: int) -> list[tuple]:
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        label = ("meh", "neg", "pos")[i % 3]
        a, b = rng.choice(WORDS[label], 2)
        noun = rng.choice(FILLER)
        text = f"{a}, {b} {noun}" if i % 4 else f'the "{a}" {noun}, {b}'
        rows.append((text, label))
    return rows


def _write_csv(path: Path, rows: list[tuple]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "label"])
        writer.writerows(rows)
    return path


@pytest.fixture(scope="session")
def write_csv() -> Callable[[Path, list[tuple]], Path]:
    """Write (text, label) rows as a CSV with a ``text,label`` header, csv-module quoting."""
    return _write_csv


@pytest.fixture(scope="session")
def reviews() -> Callable[..., list[tuple]]:
    """``reviews(n, seed)``: synthetic (text, label) rows, labels meh/neg/pos in turn;
    every text holds a comma, every fourth a pair of double quotes."""
    return _reviews


@pytest.fixture(scope="module")
def csv_data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Three-class review CSVs: 240 training rows, 60 test rows (different seeds)."""
    root = tmp_path_factory.mktemp("csv")
    return {
        "train": _write_csv(root / "train.csv", _reviews(240, seed=1)),
        "test": _write_csv(root / "test.csv", _reviews(60, seed=2)),
    }


@pytest.fixture(scope="module")
def rnn_model(tmp_path_factory: pytest.TempPathFactory, csv_data: dict[str, Path]) -> Path:
    """A tiny recurrent classifier trained on the CSV reviews (seed 3)."""
    out = tmp_path_factory.mktemp("rnn") / "model"
    argv = ["train", "--task", "classify", "--data", csv_data["train"], "--out", out, *TINY]
    result = _run_redirected(*argv, "--min-freq", "1", "--seed", "3")
    assert result.code == 0, result.err
    return out


@pytest.fixture(scope="module")
def bow_model(tmp_path_factory: pytest.TempPathFactory, csv_data: dict[str, Path]) -> Path:
    """The bag-of-words Naive Bayes baseline trained on the CSV reviews."""
    out = tmp_path_factory.mktemp("bow") / "model"
    argv = ["train", "--task", "classify", "--data", csv_data["train"], "--out", out]
    result = _run_redirected(*argv, "--model", "bow-nb")
    assert result.code == 0, result.err
    return out


@pytest.fixture
def copy_model(tmp_path: Path) -> Callable[[Path], Path]:
    """Copy a trained model directory into this test's tmp_path, to break it freely."""

    def copy(model: Path) -> Path:
        return Path(shutil.copytree(model, tmp_path / "model"))

    return copy


@pytest.fixture(scope="module")
def mr_sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 300-row TSV: the first and last 150 lines of MR's train.tsv (latin-1 bytes kept).

    The file is sorted by label, so the sample holds both classes; some of its lines
    hold bytes that are not UTF-8 (``ladr\\xf3n``).
    """
    if not MR_TRAIN.is_file():
        pytest.skip(f"MR data not found at {MR_TRAIN.resolve()}")
    # NOTE: split on b"\n" only: MR holds byte 0x85, a line break to str.splitlines.
    lines = MR_TRAIN.read_bytes().split(b"\n")[:-1]
    path = tmp_path_factory.mktemp("mr") / "mr_sample.tsv"
    path.write_bytes(b"\n".join(lines[:150] + lines[-150:]) + b"\n")
    return path


# -- a headless browser, for the pages' tests (marker ``browser``) ---------------------
def _chromium() -> str | None:
    """The Chromium executable: RNNKIT_CHROMIUM, else chromium or chromium-browser on PATH."""
    named = os.environ.get("RNNKIT_CHROMIUM")
    if named:
        return shutil.which(named)
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium for the module, or a skip saying what is missing."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:  # not installed, or installed without its parts
        pytest.skip(f"playwright is not importable ({exc}); the test extra installs it")
    executable = _chromium()
    if executable is None:
        named = os.environ.get("RNNKIT_CHROMIUM")
        where = f"RNNKIT_CHROMIUM={named} is not an executable" if named else (
            "no chromium or chromium-browser on PATH (apt-get install chromium, or set "
            "RNNKIT_CHROMIUM to a Chromium executable)"
        )  # fmt: skip
        pytest.skip(f"no Chromium to open the report in: {where}")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def screenshot_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where a page test keeps its screenshots: RNNKIT_SCREENSHOTS when that names a
    directory (made if missing), else a folder in pytest's tmp dir."""
    named = os.environ.get("RNNKIT_SCREENSHOTS")
    folder = Path(named) if named else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@contextlib.contextmanager
def _serving(explorer: Any) -> Iterator[Any]:
    from rnnkit.cli.explore_server import make_server

    server = make_server(explorer)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture(scope="session")
def serving() -> Callable[[Any], AbstractContextManager[Any]]:
    """``with serving(explorer) as server``: ``rnnkit explore``'s server for `explorer`,
    answering in a thread on a free port of 127.0.0.1 until the block ends."""
    return _serving
