"""Damaged model directories: a tiny model of every task, each file cut short or changed.

``load_model`` on a directory one of whose files was truncated or had one byte changed
must either give back the very model that was saved (the same weights, the same
predictions) or raise a ModelFileError of one line naming a file of the directory;
never another exception, and never a different model.
"""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from rnnkit.errors import ModelFileError
from rnnkit.models import load_model
from tiny_models import TASKS, Saved, assert_same, learned


def damages(data: bytes, seed: int) -> list[tuple[str, bytes]]:
    """(what, bytes): `data` cut at many offsets, and with one byte changed at many."""
    n = len(data)
    rng = np.random.default_rng(seed)
    cuts = {0, 1, 7, 8, 9, n // 2, n - 2, n - 1, *np.linspace(0, n - 1, 32).astype(int)}
    cases = [(f"cut to {c} bytes", data[:c]) for c in sorted(cuts) if 0 <= c < n]
    spots = {0, 1, 7, 8, 9, n - 1, *rng.integers(0, n, 64).tolist()}
    for i, spot in enumerate(sorted(spots)):
        mask = (0x01, 0x20, 0x80, 0xFF)[i % 4]
        changed = bytearray(data)
        changed[spot] ^= mask
        cases.append((f"byte {spot} ^ {mask:#04x}", bytes(changed)))
    return cases


@pytest.mark.parametrize("task", sorted(TASKS))
def test_a_damaged_file_gives_the_same_model_or_a_model_file_error(
    saved: dict[str, Saved], tmp_path: Path, task: str
) -> None:
    original = saved[task]
    directory = shutil.copytree(original.path, tmp_path / task)
    outcomes: Counter[str] = Counter()
    for k, name in enumerate(sorted(p.name for p in directory.iterdir())):
        data = (original.path / name).read_bytes()
        for what, damaged in damages(data, seed=k):
            (directory / name).write_bytes(damaged)
            try:
                model = load_model(directory)
            except ModelFileError as exc:
                message = str(exc)
                assert message.startswith(str(directory)) and "\n" not in message, message
                outcomes["refused"] += 1
            else:
                got = {key: v for key, v in model.model_.named_weights().items()}
                assert got.keys() == original.weights.keys(), f"{name}, {what}"
                for key, value in original.weights.items():
                    assert np.array_equal(got[key], value), f"{name}, {what}: {key} differs"
                assert learned(model) == original.state, f"{name}, {what}"
                assert_same(original.predict(model), original.expected)
                outcomes["same model"] += 1
        (directory / name).write_bytes(data)
    assert outcomes["refused"] > 0
