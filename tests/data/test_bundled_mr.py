"""The MR dataset shipped in the package: contents, checksums, notice, reproducible gzip."""

from __future__ import annotations

import gzip
import hashlib
from importlib import resources
from pathlib import Path

import pytest

from rnnkit.data import MR_SPLITS, load_mr, read_table
from rnnkit.errors import ConfigError

# SHA-256 of the split files, from the dataset's SHA256SUMS.
MR_SHA256 = {
    "train": "68647f5d86305b6f8409ed687bafe60a6b4cff152a6e4867c742404f4658bf97",
    "dev": "d5ed5acafcef0fd05bb204051e5c64993a26e1b164ebe95e26534df49b285833",
    "test": "e7be309ae3d31ecc8706f735ff5f83a2212ff069e5440f804be164b025987c87",
}
MR_ROWS = {"train": 8530, "dev": 1066, "test": 1066}
BUNDLED = resources.files("rnnkit.data") / "bundled"


def bundled_bytes(split: str) -> bytes:
    return (BUNDLED / f"mr_{split}.tsv.gz").read_bytes()


@pytest.mark.parametrize("split", MR_SPLITS)
def test_bundled_files_are_the_split_byte_for_byte(split: str) -> None:
    data = gzip.decompress(bundled_bytes(split))
    assert hashlib.sha256(data).hexdigest() == MR_SHA256[split]


@pytest.mark.parametrize("split", MR_SPLITS)
def test_gzip_header_is_reproducible(split: str) -> None:
    header = bundled_bytes(split)[:10]
    assert header[:3] == b"\x1f\x8b\x08"  # gzip, deflate
    assert header[3] == 0  # no flags: no file name or comment
    assert header[4:8] == b"\x00\x00\x00\x00"  # mtime 0


@pytest.mark.parametrize("split", MR_SPLITS)
def test_load_mr(split: str) -> None:
    table = load_mr(split)
    assert len(table) == MR_ROWS[split]
    assert table.path == f"rnnkit/data/bundled/mr_{split}.tsv.gz"
    assert table.labels.count("1") == table.labels.count("0") == MR_ROWS[split] // 2
    # positives first, then negatives, as in the file
    assert table.labels == ["1"] * (MR_ROWS[split] // 2) + ["0"] * (MR_ROWS[split] // 2)
    assert table.lines == list(range(1, MR_ROWS[split] + 1))
    assert all(text.strip() and "\n" not in text and "\t" not in text for text in table.texts)


def test_load_mr_matches_the_shared_files(mr_dir: Path) -> None:
    for split in MR_SPLITS:
        shared = read_table(
            mr_dir / f"{split}.tsv", text_col=1, label_col=0, header=False, encoding="latin-1"
        )
        bundled = load_mr(split)
        assert (bundled.texts, bundled.labels) == (shared.texts, shared.labels)


def test_splits_are_disjoint() -> None:
    texts = [set(load_mr(split).texts) for split in MR_SPLITS]
    assert sum(map(len, texts)) == 10662
    assert len(set.union(*texts)) == 10662


def test_known_snippets() -> None:
    test = load_mr("test")
    assert test.texts[0] == "offers a breath of the fresh air of true sophistication . "
    assert test.texts[-1].endswith("nothing to show . ")
    # latin-1 bytes decode to single characters (é is 0xE9)
    assert any("é" in text for text in load_mr("train").texts)


@pytest.mark.parametrize("split", ["valid", "Train", "", None])
def test_unknown_split(split: object) -> None:
    with pytest.raises(ConfigError) as info:
        load_mr(split)  # type: ignore[arg-type]
    assert str(info.value) == f"split: expected 'train', 'dev' or 'test', got {split!r}"


def test_notice_ships_with_the_data() -> None:
    notice = (BUNDLED / "MR_NOTICE.md").read_text(encoding="utf-8")
    for needed in ["Bo Pang and Lillian Lee", "ACL 2005", "CC BY 4.0", "random.Random(13)"]:
        assert needed in notice
    for split, digest in MR_SHA256.items():
        assert f"{digest}  {split}.tsv" in notice
