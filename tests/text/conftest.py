"""Shared fixtures for the tests of rnnkit.text: the lecture vocabulary, the MR corpus."""

from __future__ import annotations

from pathlib import Path

import pytest

from rnnkit.text import Vocabulary

REPO_ROOT = Path(__file__).resolve().parents[2]
MR_DIR = REPO_ROOT.parent / "shared" / "data" / "mr_sentence_polarity"
LECTURE_WORDS = ("movie", "was", "good", "bad", "not")


@pytest.fixture
def lecture_vocab() -> Vocabulary:
    """The lecture's vocabulary [movie, was, good, bad, not]: ids 0..4, no specials."""
    return Vocabulary(LECTURE_WORDS, specials=())


@pytest.fixture(scope="session")
def mr_snippets() -> list[str]:
    """Every snippet of the MR train, dev and test TSVs, decoded as latin-1."""
    paths = [MR_DIR / f"{split}.tsv" for split in ("train", "dev", "test")]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        pytest.skip(f"MR data not found (looked for {', '.join(missing)})")
    snippets = []
    for path in paths:
        # NOTE: split on "\n" only: str.splitlines would also break at byte 0x85 (NEL).
        for line in path.read_bytes().decode("latin-1").split("\n")[:-1]:
            snippets.append(line.split("\t", 1)[1])
    return snippets
