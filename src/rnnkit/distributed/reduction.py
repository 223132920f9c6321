"""Gradients as one contiguous buffer per rank, summed in rank order.

Every rank packs its parameter gradients, each scaled by its share of the global
batch's loss weight (``w_r / sum_r w_r``: sequences, or tokens for a per-token mean),
into one 1-D buffer. The buffers of all ranks are gathered and added in rank order,
``((g_0 + g_1) + g_2) + ...``, the same association on every rank, so every rank
computes the same bits; one process accumulating the same micro-batches in the same
order computes them too (:class:`~rnnkit.distributed.Accumulate`).

A row-sparse gradient (an embedding's ``E``: only the rows of the ids in the batch)
travels as its touched rows and their values, when every rank has it sparse: a
batch of 32 sentences touches a few hundred of 20,000 words' rows. The sum then
covers the union of the ranks' rows, each row added in rank order as a dense one is.

>>> import numpy as np
>>> g0, g1 = np.array([1.0, 2.0]), np.array([3.0, 5.0])
>>> bufs = [pack([(g, None)], [False], 0.5)[0] for g in (g0, g1)]
>>> out = np.zeros(2)
>>> no_rows = [np.zeros(0, np.int64)] * 2
>>> _ = combine(bufs, no_rows, np.zeros((2, 1), int), [("w", out, out, None)], [False])
>>> out.tolist()
[2.0, 3.5]
"""

from __future__ import annotations

import numpy as np

from rnnkit.training.optimizers import ParamSlot

__all__ = ["combine", "pack"]

Array = np.ndarray


def pack(grads: list[tuple[Array, Array | None]], sparse: list[bool], scale: float):
    """The values buffer (1-D, every gradient times `scale`, in slot order) and the
    rows buffer (int64, the touched rows of the slots sent `sparse`).

    `grads` holds each slot's whole gradient array and its touched rows (None when
    dense). A slot this rank holds sparse and another rank dense goes dense: the
    array is zero outside its touched rows.
    """
    chunks: list[Array] = []
    rows_out: list[Array] = [np.zeros(0, np.int64)]
    for (g, rows), as_rows in zip(grads, sparse, strict=True):
        if as_rows:
            assert rows is not None
            rows_out.append(np.asarray(rows, dtype=np.int64))
            chunks.append(np.multiply(g[rows], scale).reshape(-1))  # (rows, ...) flattened
        else:
            chunks.append(np.multiply(g, scale).reshape(-1))
    values = np.concatenate(chunks) if chunks else np.zeros(0)
    return values, np.concatenate(rows_out)


def combine(
    values: list[Array],
    rows: list[Array],
    counts: Array,
    slots: list[ParamSlot],
    sparse: list[bool],
) -> list[ParamSlot]:
    """Sum the ranks' buffers in rank order into the slots' gradient arrays.

    `values` and `rows` hold one :func:`pack` buffer per rank, in rank order;
    ``counts[r, j]`` is the number of rows rank r sent for slot j (0 for a dense one).
    Returns the slots with the rows they now hold: the union of the ranks' rows for a
    slot sent sparse, None for a dense one.
    """
    at = [0] * len(values)  # where each rank's values buffer is read next
    row_at = [0] * len(rows)
    out: list[ParamSlot] = []
    for j, ((key, p, g, _), as_rows) in enumerate(zip(slots, sparse, strict=True)):
        if not as_rows:  # g <- (g_0 + g_1) + ... in rank order
            flat = g.reshape(-1)
            for r, buf in enumerate(values):
                seg = buf[at[r] : at[r] + flat.size]
                if r == 0:
                    flat[...] = seg
                else:
                    flat += seg
                at[r] += flat.size
            out.append((key, p, g, None))
            continue
        width = int(np.prod(g.shape[1:], dtype=np.int64))  # entries per row
        shares = []
        for r in range(len(values)):
            n = int(counts[r, j])
            own = rows[r][row_at[r] : row_at[r] + n]
            vals = values[r][at[r] : at[r] + n * width].reshape(n, *g.shape[1:])
            shares.append((own, vals))
            row_at[r] += n
            at[r] += n * width
        union = np.unique(np.concatenate([own for own, _ in shares]))
        total = np.zeros((len(union), *g.shape[1:]), dtype=g.dtype)  # (rows, ...)
        for own, vals in shares:  # each row: 0 + g_0 + g_1 + ..., as a dense sum adds
            total[np.searchsorted(union, own)] += vals  # a rank's rows are distinct
        g[union] = total
        out.append((key, p, g, union))
    return out
