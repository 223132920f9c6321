"""A rank's step as one fixed-size message, and the ranks' messages summed in rank order.

Each rank writes one record (bytes) per step, laid out by a :class:`Layout` that
every rank holds alike:

    header   float64 (len(COUNTS) + slots,)   its counts (loss weight ``w_r``, loss and
                                              accuracy sums, tokens), then per slot
                                              the rows it touched (-1: dense)
    ids      int64   (cap_j,) per sparse slot the touched rows' ids, room for cap_j
    values   per slot, its own dtype: the whole gradient (dense), or room for cap_j
             rows of it (sparse); unscaled

Every rank sees every rank's record (:mod:`rnnkit.distributed.exchanges` says
how) and, knowing all the counts, sums ``g = w_0/W g_0 + w_1/W g_1 + ...``
(``W = sum_r w_r``) in rank order, ``((s_0 g_0) + s_1 g_1) + ...``: the same float
operations in the same order on every rank, so every rank computes the same bits;
one process summing the same micro-batches' records computes them too
(:class:`~rnnkit.distributed.Accumulate`).

A row-sparse gradient (an embedding's ``E``: only the rows of the ids in the batch)
travels as its rows when every rank has it sparse: a share of 16 sentences of 25
words touches at most 400 of 10,000 words' rows (160 kB of 100 float32 features,
against 4 MB dense). The room for rows is fixed by the layout, so every record has
the same size, known in advance; a share that touches more rows than there is room
for makes every rank (they all read its header) grow the layout and send again.
The sum then covers the union of the ranks' rows, each row summed in rank order,
``(0 + s_0 g_0) + s_1 g_1``, the bits a dense sum gives. Where the room would be the
whole table (a character vocabulary, whose every row a share touches), the slot
goes whole, with its ids: the rows it touched still reach the optimizer.

The values of every slot held whole lie one after the other at the record's end, so
that the ranks' records add as one block, whatever the number of parameters: three
array operations where a small model has a dozen slots. Everything before the block
(the header, the ids and the rows: :attr:`Layout.prefix` bytes) is what a rank needs
of every other rank; the block can be summed in pieces, each piece by one rank
(the "scatter" way of :mod:`rnnkit.distributed.exchanges`), with the same bits.

>>> import numpy as np
>>> g0, g1 = np.array([1.0, 2.0]), np.array([3.0, 5.0])
>>> heads = np.array([header([w, 0, 0, 0, 0, 0], [None]) for w in (1.0, 3.0)])
>>> layout = Layout.fitting(heads, [(2,)], [np.float64])
>>> records = np.zeros((2, layout.nbytes), np.uint8)
>>> for r, g in enumerate((g0, g1)):
...     layout.pack(layout.views(records[r]), heads[r], [(g, None)])
>>> w = np.zeros(2)
>>> views = [layout.views(rec) for rec in records]
>>> [(_, _, summed, _)] = layout.sum_into(views, [("w", w, w, None)])
>>> summed.tolist()  # 1/4 g0 + 3/4 g1: the slot's gradient for the update
[2.5, 4.25]
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import Any, NamedTuple

import numpy as np

from rnnkit.core.embedding import add_scaled_rows, distinct_rows, zero_rows
from rnnkit.core.workspace import Workspace
from rnnkit.training.optimizers import ParamSlot

__all__ = [
    "COUNTS",
    "Layout",
    "RecordView",
    "SlotView",
    "header",
    "scales",
    "sum_piece",
    "totals",
]

Array = np.ndarray
#: the counts heading every rank's record, before its slots' row counts
COUNTS = ("weight", "loss_sum", "correct", "count", "n_sequences", "tokens")
#: room a sparse slot gets beyond the most rows a rank has sent (fewer regrowths)
HEADROOM = 1.25
DENSE = -1


def header(counts: Any, rows: list[Array | None]) -> Array:
    """float64 (len(COUNTS) + slots,): `counts`, then per slot its touched rows (-1:
    dense)."""
    n_rows = [DENSE if r is None else len(r) for r in rows]
    return np.array([*counts, *n_rows], dtype=np.float64)


def scales(headers: Array) -> list[float]:
    """Each rank's share of the global loss weight, ``w_r / sum_r w_r`` (0 if none)."""
    total = totals(headers)[0]
    return [w / total if total > 0 else 0.0 for w in headers[:, 0].tolist()]


def totals(headers: Array) -> list[float]:
    """The counts summed over the ranks, in rank order."""
    out = [0.0] * len(COUNTS)
    for head in headers[:, : len(COUNTS)].tolist():
        out = [a + b for a, b in zip(out, head, strict=True)]
    return out


class SlotView(NamedTuple):
    """One slot in one record: its ids (sparse slots; else empty) and its values."""

    ids: Array
    values: Array


class RecordView(NamedTuple):
    """One rank's record, seen as arrays: the header, each slot, and the values of
    every slot held whole as one array (None unless they share one dtype)."""

    header: Array
    slots: list[SlotView]
    block: Array | None = None


@dataclass(frozen=True)
class Layout:
    """Where each slot lies in a record: its shape, dtype and room for rows.

    ``caps[j]`` is -1 for a slot sent whole (dense), else the rows there is room for.
    """

    shapes: tuple[tuple[int, ...], ...]
    dtypes: tuple[str, ...]
    caps: tuple[int, ...]

    @classmethod
    def fitting(cls, headers: Array, shapes: list[Any], dtypes: list[Any], old=None) -> Layout:
        """A layout holding every rank's record of `headers` (N, k): `old` if it does,
        else one with a slot sparse where every rank has it sparse, and room for
        HEADROOM times the most rows a rank sent (at most the whole array)."""
        if old is not None and old.holds(headers):
            return old
        caps = []
        for j, shape in enumerate(shapes):
            n_rows = headers[:, len(COUNTS) + j]
            if (n_rows == DENSE).any():
                caps.append(DENSE)
                continue
            grown = math.ceil(HEADROOM * float(n_rows.max()))
            kept = 0 if old is None or old.caps[j] == DENSE else old.caps[j]
            caps.append(min(int(shape[0]), max(grown, kept)))
        dts = tuple(np.dtype(d).str for d in dtypes)
        return cls(tuple(tuple(int(n) for n in s) for s in shapes), dts, tuple(caps))

    def holds(self, headers: Array) -> bool:
        """Whether every rank's slots, as its header gives them, fit this layout."""
        n_rows = headers[:, len(COUNTS) :].T.tolist()  # per slot, each rank's rows
        for cap, ranks in zip(self.caps, n_rows, strict=True):
            if (DENSE in ranks) != (cap == DENSE):  # dense where some rank sends it whole
                return False
            if cap != DENSE and max(ranks) > cap:
                return False
        return True

    def whole(self, j: int) -> bool:
        """Whether slot `j`'s values are its whole array: dense, or sparse with room
        for every row (then its ids say which rows it touched)."""
        return self.caps[j] == DENSE or self.caps[j] == self.shapes[j][0]

    @cached_property
    def _offsets(self) -> tuple[list[tuple[int, int, int]], int]:
        """Per slot (ids at, values at, values bytes), and the record's bytes (a
        multiple of 8, so every rank's record starts aligned). The values of the
        slots held whole come last, one after the other: one block."""
        at = 8 * (len(COUNTS) + len(self.shapes))
        ids_at = []
        for cap in self.caps:
            ids_at.append(at)
            at += 8 * max(cap, 0)
        out: list[tuple[int, int, int]] = [(0, 0, 0)] * len(self.shapes)
        order = sorted(range(len(self.shapes)), key=self.whole)  # the rows, then the block
        for j in order:
            shape, cap = self.shapes[j], self.caps[j]
            entries = math.prod(shape) if cap == DENSE else cap * math.prod(shape[1:])
            size = entries * np.dtype(self.dtypes[j]).itemsize
            out[j] = (ids_at[j], at, size)
            at += -(-size // 8) * 8
        return out, at

    @cached_property
    def _block(self) -> tuple[int, int, str] | None:
        """(first byte, end byte, dtype) of the whole slots' values, when there are
        some and they share one dtype."""
        whole = [j for j in range(len(self.shapes)) if self.whole(j)]
        if not whole or len({self.dtypes[j] for j in whole}) > 1:
            return None
        offsets, _ = self._offsets
        first = offsets[whole[0]][1]
        last = offsets[whole[-1]]
        return first, last[1] + last[2], self.dtypes[whole[0]]

    @property
    def nbytes(self) -> int:
        """Bytes of one rank's record."""
        return self._offsets[1]

    @property
    def prefix(self) -> int:
        """Bytes of a record before its block (header, ids, rows): what every rank
        needs of every other's when the blocks are summed in pieces (`nbytes` when
        there is no block)."""
        return self.nbytes if self._block is None else self._block[0]

    def block_pieces(self, n: int) -> list[tuple[int, int]]:
        """The block cut in `n` pieces, each (first entry, entries), nearly equal and
        in order (``np.array_split``'s cut); ``[]`` when there is no block."""
        if self._block is None:
            return []
        first, end, dt = self._block
        q, r = divmod((end - first) // np.dtype(dt).itemsize, n)
        sizes = [q + (k < r) for k in range(n)]
        starts = [sum(sizes[:k]) for k in range(n)]
        return list(zip(starts, sizes, strict=True))

    def views(self, record: Array) -> RecordView:
        """`record` (uint8, (nbytes,)) as its header and slots: views, no copies."""
        offsets, _ = self._offsets
        k = len(COUNTS) + len(self.shapes)
        slots = []
        for (ids_at, values_at, size), shape, cap, dt in zip(
            offsets, self.shapes, self.caps, self.dtypes, strict=True
        ):
            ids = record[ids_at : ids_at + 8 * max(cap, 0)].view(np.int64)
            values = record[values_at : values_at + size].view(dt)
            kept = shape if cap == DENSE else (cap, *shape[1:])  # (rows, ...)
            slots.append(SlotView(ids, values.reshape(kept)))
        block = None
        if self._block is not None:
            first, end, dt = self._block
            block = record[first:end].view(dt)
        return RecordView(record[: 8 * k].view(np.float64), slots, block)

    def pack(self, view: RecordView, head: Array, grads: list[tuple[Array, Array | None]]):
        """Write `head` and the gradients (each array and its touched rows, None when
        dense) into a record. A slot that does not fit is left out: its header says
        so to every rank, which then grows the layout."""
        view.header[...] = head
        for j, ((g, rows), slot, cap) in enumerate(zip(grads, view.slots, self.caps, strict=True)):
            if self.whole(j):  # a sparse gradient sent whole is zero outside its rows
                np.copyto(slot.values, g)
                if cap != DENSE and rows is not None:
                    slot.ids[: len(rows)] = rows
            elif rows is not None and len(rows) <= cap:
                n = len(rows)
                slot.ids[:n] = rows
                # NOTE: the rows are in range; "clip" spares take's checking copy of out
                np.take(g, rows, axis=0, out=slot.values[:n], mode="clip")  # (rows, ...)

    def sum_into(
        self,
        records: list[RecordView],
        slots: list[ParamSlot],
        scratch=None,
        headers=None,
        summed: Array | None = None,
    ):
        """Sum the ranks' records in rank order, each times its share of the loss
        weight, into the slots' gradient arrays (`scratch`: a Workspace for the
        scaled shares, kept from call to call; `headers`: the records' stacked, when
        at hand; `summed`: the blocks' sum when it is already made, by
        :func:`sum_piece` piece by piece, and then the records' blocks are not read).

        Returns the slots to update, each with the summed gradient and the rows it
        holds (the union of the ranks' rows for a sparse slot, None for a dense one).
        A slot in the block gets its part of the summed block, a view, not a copy
        into the slot's own array, which keeps this rank's gradient; every other
        slot's sum is written into its own array.
        """
        ws = Workspace() if scratch is None else scratch
        if headers is None:
            headers = np.stack([rec.header for rec in records])  # (N, k), a few numbers
        s = scales(headers)
        blocks = [rec.block for rec in records if rec.block is not None]
        if summed is None and blocks:  # every record has one, or none has
            summed = ws.take("block", blocks[0].shape, blocks[0].dtype)
            _sum_scaled(blocks, s, summed, ws.take("block.part", summed.shape, summed.dtype))
        out: list[ParamSlot] = []
        for j, ((key, p, g, _), cap) in enumerate(zip(slots, self.caps, strict=True)):
            ids: list[Array] = []  # each rank's touched rows (a sparse slot)
            if cap != DENSE:
                n_rows = headers[:, len(COUNTS) + j].astype(np.int64)
                ids = [rec.slots[j].ids[:n] for rec, n in zip(records, n_rows, strict=True)]
            if self.whole(j):  # (s_0 g_0 + s_1 g_1) + ... in rank order
                at = self._in_block[j]
                rows = None if cap == DENSE else distinct_rows(ids, len(g), ws)
                if summed is not None and at is not None:
                    out.append((key, p, summed[at].reshape(g.shape), rows))
                    continue
                values = [rec.slots[j].values for rec in records]
                _sum_scaled(values, s, g, ws.take(key, g.shape, g.dtype))
                out.append((key, p, g, rows))
                continue
            tmp = ws.take(key, g.shape, g.dtype)
            union = distinct_rows(ids, len(g), ws)
            zero_rows(g, union)  # each row: 0 + s_0 g_0 + s_1 g_1 + ..., as a dense sum adds
            for r, (rec, n) in enumerate(zip(records, n_rows, strict=True)):
                sent = rec.slots[j].values[:n]  # a rank's rows are distinct
                add_scaled_rows(g, ids[r], sent, s[r], tmp[:n])
            out.append((key, p, g, union))
        return out

    @cached_property
    def _in_block(self) -> list[slice | None]:
        """Per slot, where its values lie in the block (None: not in it), in entries."""
        if self._block is None:
            return [None] * len(self.shapes)
        first, _, dt = self._block
        item = np.dtype(dt).itemsize
        out: list[slice | None] = []
        for j, (_, at, size) in enumerate(self._offsets[0]):
            start = (at - first) // item
            out.append(slice(start, start + size // item) if self.whole(j) else None)
        return out


def sum_piece(parts: list[Array], headers: Array, out: Array, tmp: Array) -> None:
    """``out <- (s_0 parts_0 + s_1 parts_1) + ...``: one piece of the ranks' blocks
    summed as :meth:`Layout.sum_into` sums the whole (`headers`: every rank's, for the
    shares ``s_r``); element by element the same operations, so the same bits."""
    _sum_scaled(parts, scales(headers), out, tmp)


def _sum_scaled(parts: list[Array], s: list[float], out: Array, tmp: Array) -> None:
    """``out <- (s_0 parts_0 + s_1 parts_1) + ...``, in rank order."""
    np.multiply(parts[0], s[0], out=out)
    for r in range(1, len(parts)):
        np.multiply(parts[r], s[r], out=tmp)
        np.add(out, tmp, out=out)
