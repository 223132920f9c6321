"""rnnkit.bench.Worker: one framework's side of the benchmark, in a process of its own."""

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
    finally:
        w.close()
