"""The forward trace as ``rnnkit explore`` sends it: an outline, heat strips, one step.

A whole trace of a medium model is megabytes of JSON (every vector of every step: for an
LSTM of 256 units over 40 words, some 230 000 numbers), too much to send on every
keystroke. The page gets the :func:`outline` (every section without its steps), the
:func:`strips` (each state and gate as (T, d), rounded for drawing) and the step under
the pointer, :func:`step_view`, with the trace's own unrounded numbers, when asked.

>>> from rnnkit.cli.trace import toy_model, trace_text, trace_toy_text
>>> t = trace_toy_text(toy_model(), "movie was good")
>>> [s["title"] for s in outline(t)["sections"]], outline(t)["sections"][0]["steps"]
(['simple_rnn (SimpleRNN, 3 units)', 'dense (Dense, 1 unit, sigmoid)'], 3)
>>> step = step_view(t, 0, 3)["step"]
>>> step["labels"]["h"], [round(v, 4) for v in step["values"]["h"]]
('h_3 = tanh(U x_3 + W h_2 + b)', [-0.1251, -0.5561, -0.5572])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rnnkit.errors import DataError
from rnnkit.viz import Trace

__all__ = ["NOT_STRIPS", "STRIP_DECIMALS", "outline", "step_view", "strips"]

#: the keys of a trace step shown as heat strips: the states and gates (one letter), not
#: the pre-activation a, the bias b or the input x
NOT_STRIPS = ("a", "b", "x")
#: decimals kept in the strips: colours need far fewer, the pointer's panel shows 4
STRIP_DECIMALS = 6


def outline(t: Trace) -> dict[str, Any]:
    """:meth:`Trace.to_dict` with each section's ``steps`` replaced by their number."""
    d = t.to_dict()
    d["sections"] = [{**s, "steps": len(s["steps"])} for s in d["sections"]]
    return d


def step_view(t: Trace, section: int, step: int) -> dict[str, Any]:
    """The step at place `step` of the sequence (t, from 1) in section `section` (from
    0), with the section's title and equations; DataError when there is no such step."""
    if not 0 <= section < len(t.sections):
        raise DataError(f"section {section}: the trace has sections 0 to {len(t.sections) - 1}")
    s = t.sections[section]
    found = [st for st in s.steps if st.t == step]
    if not found:
        raise DataError(f"t = {step}: {s.title} has no such step")
    head = {k: getattr(s, k) for k in ("layer", "type", "direction", "title", "equations")}
    return {"section": {**head, "index": section}, "step": found[0].to_dict()}


def strips(t: Trace) -> list[dict[str, Any]]:
    """Per recurrent section of `t`, each state and gate as (T, d): the heat strips.

    Each has ``section`` (its index in the trace), ``layer``, ``direction``, ``title``,
    ``equations`` and ``rows``: per key its ``label`` (the equation) and ``values``,
    T lists of d numbers in sequence order (a backward direction's too).
    """
    out = []
    for i, s in enumerate(t.sections):
        if not s.steps or s.direction == "merge" or not s.equations:
            continue
        keys = [k for k, _, _ in s.steps[0].rows if len(k) == 1 and k not in NOT_STRIPS]
        # the section's equations are its states' and gates', in the order of the rows
        labels = s.equations if len(s.equations) == len(keys) else keys
        rows = [{"key": k, "label": lab, "values": np.round(s.stack(k), STRIP_DECIMALS).tolist()}
                for k, lab in zip(keys, labels, strict=True)]  # fmt: skip
        out.append({"section": i, "layer": s.layer, "direction": s.direction, "title": s.title,
                    "equations": s.equations, "rows": rows})  # fmt: skip
    return out
