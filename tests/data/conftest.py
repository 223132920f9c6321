"""Shared fixtures for the tests of rnnkit.data: table files on disk, the MR corpus."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
MR_DIR = REPO_ROOT.parent / "shared" / "data" / "mr_sentence_polarity"
MR_SPLITS = ("train", "dev", "test")


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, bytes | str], Path]:
    """Write a file under tmp_path (str contents as UTF-8) and return its path."""

    def write_file(name: str, contents: bytes | str) -> Path:
        path = tmp_path / name
        data = contents.encode("utf-8") if isinstance(contents, str) else contents
        path.write_bytes(data)
        return path

    return write_file


@pytest.fixture(scope="session")
def mr_dir() -> Path:
    """The shared MR directory holding train.tsv, dev.tsv and test.tsv."""
    missing = [split for split in MR_SPLITS if not (MR_DIR / f"{split}.tsv").is_file()]
    if missing:
        pytest.skip(f"MR data not found in {MR_DIR} (missing {', '.join(missing)})")
    return MR_DIR
