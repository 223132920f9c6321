"""What :func:`rnnkit.viz.trace.trace` returns: the steps, sections and text of a trace.

A :class:`Trace` is a list of :class:`Section` (one per layer, or per direction of a
Bidirectional layer), each a list of :class:`Step` (the vectors of step t, each with
the equation it comes from). ``format`` prints it; ``to_dict`` gives the numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rnnkit.errors import ConfigError

__all__ = ["Section", "Step", "Trace"]

Array = np.ndarray


@dataclass
class Step:
    """One block of a section: the vectors computed at step t, in order, with equations."""

    title: str
    t: int | None = None
    token: str | None = None
    id: int | None = None
    rows: list[tuple[str, str, Array]] = field(default_factory=list)  # (key, label, value)
    notes: list[str] = field(default_factory=list)

    def add(self, key: str, label: str, value: Any) -> Array:
        """Record `value` (float64; int for one-hot rows) under `key` with its label."""
        v = np.asarray(value)
        v = v if v.dtype.kind == "i" else v.astype(np.float64)
        self.rows.append((key, label, v))
        return v

    def to_dict(self) -> dict[str, Any]:
        head = {"t": self.t, "token": self.token, "id": self.id, "notes": self.notes}
        values = {k: v.tolist() for k, _, v in self.rows}
        return {**head, "values": values, "labels": {k: lab for k, lab, _ in self.rows}}


@dataclass
class Section:
    """What one layer, or one direction of a Bidirectional layer, computed."""

    layer: str
    type: str
    title: str
    direction: str | None = None  # "forward", "backward" or "merge" in a Bidirectional
    equations: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)

    def stack(self, key: str) -> Array:
        """The `key` vector of every time step, in sequence order: (T, ...)."""
        by_t = {s.t: v for s in self.steps if s.t is not None for k, _, v in s.rows if k == key}
        if not by_t:
            raise ConfigError(f"key={key!r}: no time step of {self.title!r} has it")
        return np.stack([by_t[t] for t in sorted(by_t)])

    def lines(self, digits: int, max_values: int) -> list[str]:
        out = [self.title, *(f"  {e}" for e in self.equations)]
        out += [f"  note: {n}" for n in self.notes]
        width = min(max((len(r[1]) for s in self.steps for r in s.rows), default=0), 48)
        for s in self.steps:
            out.append(f"  {s.title}")
            out += [f"    {lab:<{width}}  {_row(k, v, digits, max_values)}" for k, lab, v in s.rows]
            out += [f"    {n}" for n in s.notes]
        return out

    def to_dict(self) -> dict[str, Any]:
        keys = ("layer", "type", "direction", "title", "equations", "notes")
        return {**{k: getattr(self, k) for k in keys}, "steps": [s.to_dict() for s in self.steps]}


@dataclass
class Trace:
    """The forward pass of one sequence (see the module docstring)."""

    tokens: list[str] | None
    ids: list[int] | None
    sections: list[Section]
    output: Array  # what the model returns for the sequence, float64
    labels: list[str] | None = None
    notes: list[str] = field(default_factory=list)

    def section(self, layer: str, direction: str | None = None) -> Section:
        """The section of `layer` (and `direction`, in a Bidirectional layer)."""
        for s in self.sections:
            if s.layer == layer and s.direction == direction:
                return s
        raise ConfigError(f"layer={layer!r}, direction={direction!r}: no such section")

    def format(self, digits: int = 4, max_values: int = 12) -> str:
        """The trace as text: numbers with `digits` decimals, rows cut after
        `max_values` numbers (0: never cut)."""
        if not 0 <= int(digits) <= 12 or int(max_values) < 0:
            raise ConfigError(f"digits={digits}, max_values={max_values}: use 0-12 and >= 0")
        head = "tokens: " + " ".join(map(repr, self.tokens)) if self.tokens else "inputs x_t"
        lines = [head, *(f"note: {n}" for n in self.notes)]
        for s in self.sections:
            lines += ["", *s.lines(int(digits), int(max_values))]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """The numbers, JSON-ready: ``tokens``, ``ids``, ``labels``, ``notes``, ``output``
        and ``sections``, each with ``layer``, ``type``, ``direction`` (null, "forward",
        "backward" or "merge"), ``title``, ``equations``, ``notes`` and ``steps`` as
        computed. A step has ``t`` (its place in the sequence from 1, or null),
        ``token``, ``id``, ``notes``, ``values`` (key -> numbers) and ``labels`` (key ->
        equation). Keys: ``x Ux Wh b a h``; LSTM ``i f g o c``; GRU ``b_x b_h z r n`` and
        ``rWh`` or ``Wrh``; pooling ``p`` (and ``argmax``); Dense ``z y``.
        """
        head = {"tokens": self.tokens, "ids": self.ids, "labels": self.labels}
        body = {"notes": self.notes, "output": self.output.tolist()}
        return {**head, **body, "sections": [s.to_dict() for s in self.sections]}


def _row(key: str, v: Array, digits: int, max_values: int) -> str:
    """One vector as a row: [ 0.2431 -0.6701 ...]; a one-hot input as [0 1 0 0 0]."""
    flat = v.ravel()
    if key == "x" and v.dtype.kind == "i" and max_values and flat.size > max_values:
        return f"one-hot: 1 at {int(flat.argmax())} of {flat.size}"
    shown = flat[:max_values] if max_values else flat
    if v.dtype.kind == "i":
        body = " ".join(str(x) for x in shown.tolist())
    else:
        body = " ".join(f"{x + 0.0: .{digits}f}" for x in shown)  # + 0.0: never "-0.000"
    return f"[{body}{f' ... ({flat.size} values)' if shown.size < flat.size else ''}]"
