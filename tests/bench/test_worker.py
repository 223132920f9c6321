"""rnnkit.bench.Worker: one framework's side of the benchmark, in a process of its own;
rnnkit's replies count how its compiled kernels were split over its team."""

from __future__ import annotations

import pytest

from rnnkit.bench import Worker
from rnnkit.errors import RnnkitError


def test_a_worker_reports_a_bad_command_and_stays_up():
    w = Worker("rnnkit", 1)
    try:
        with pytest.raises(RnnkitError, match="config='huge' is not one of"):
            w.ask(setup={"cell": "rnn", "config": "huge", "task": "train"})
        assert w.ask(setup={"cell": "rnn", "config": "tiny", "task": "train"})["first_loss"] > 0
        assert w.ask(run=2)["seconds"] > 0
        # the tiny model is never split: two steps, two kernels each, all in one loop
        assert w.ask(run=2)["splits"] == {"split": 0, "missed": 0, "skipped": 0}
        assert w.splits == {"split": 0, "missed": 0, "skipped": 0}  # summed over replies
    finally:
        w.close()
