"""rnnkit.bench.memory: the peak memory of a training step, in a process of its own."""

from __future__ import annotations

from rnnkit.bench.memory import measure_in_subprocess


def test_peak_memory_is_measured_in_a_process_of_its_own():
    m = measure_in_subprocess("rnnkit", "rnn", "tiny", 1)
    assert m["process_mib"] > 0 and m["step_mib"] >= 0, m
