"""How `rnnkit bench` turns the rounds of each side into a ratio.

Specified here: a ratio is the median over the rounds of each round's ratio, so a slow
spell of the machine that covers a round of both sides cancels out.
"""

from __future__ import annotations

import pytest

from rnnkit.bench.runner import paired_speed_up


def test_a_ratio_pairs_each_round_of_one_side_with_the_same_round_of_the_other():
    # rnnkit 1.5 times as fast in every round but the third; a slow spell from the
    # third round on makes both sides 3 times slower
    times = {"rnnkit": [1.0, 1.0, 3.0, 3.0, 3.0], "torch": [1.5, 1.5, 1.5, 4.5, 4.5]}
    assert paired_speed_up(times, "rnnkit", "torch") == pytest.approx(1.5)
    assert paired_speed_up(times, "torch", "rnnkit") == pytest.approx(1 / 1.5)
    # the ratio of the two medians (3.0 and 1.5) would say rnnkit is twice as slow


def test_the_sides_must_have_run_the_same_rounds():
    with pytest.raises(ValueError):
        paired_speed_up({"a": [1.0, 2.0], "b": [1.0]}, "a", "b")
