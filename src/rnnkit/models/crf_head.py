"""A CRF as a tagger's output: its layers, its loss step, Viterbi tags and marginals.

A softmax tagger ends in ``Dense(K, "softmax")`` and chooses each tag on its own. A
CRF tagger ends in ``Dense(K)`` (linear: the emission scores ``E[t, k]``) and a
:class:`~rnnkit.layers.CRF`, which scores tag pairs too, so that the loss is the
sentence's ``-log p(y | x)`` and the prediction the best path as a whole (Viterbi).
The CRF sits last in the Sequential: its forward passes the scores through, and the
optimizer finds its transition scores among the other parameters (``param_slots``).

With BIO or IOBES tags, the CRF forbids the transitions the scheme does not allow
(``O -> I-X``), so a decoded path never has one.

>>> crf_scheme(["B-PER", "I-PER", "O"]), crf_scheme(["O", "S-LOC"]), crf_scheme(["NOUN"])
('BIO', 'IOBES', None)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from rnnkit.core.crf_tags import tag_constraints
from rnnkit.errors import ConfigError
from rnnkit.layers import CRF, Dense, Layer
from rnnkit.metrics import is_bio

__all__ = ["crf_layers", "crf_scheme", "crf_step", "lengths_mask"]

Array = np.ndarray


def crf_scheme(labels: Sequence[str]) -> str | None:
    """ "BIO" for BIO tags, "IOBES" for IOBES tags (some ``E-`` or ``S-``), else None."""
    if is_bio(labels):
        return "BIO"
    try:
        tag_constraints(labels, "IOBES")
    except ConfigError:
        return None
    return "IOBES" if any(t[:2] in ("E-", "S-") for t in labels) else None


def crf_layers(labels: Sequence[str]) -> list[Layer]:
    """The output of a CRF tagger of `labels`: linear emission scores, then the CRF."""
    return [Dense(len(labels)), CRF(tags=list(labels), scheme=crf_scheme(labels))]


def crf_step(
    crf: CRF,
    E: Array,
    y: Array,
    mask: Array | None,
    reduction: str,
    training: bool,
) -> tuple[float, Array | None, int, int]:
    """Loss, dL/dE (None unless `training`), and (correct, counted) by the Viterbi tags.

    E : (B, T, K) emissions; y : (B, T) gold tag ids; mask : (B, T), None for no pads.
    In training, :meth:`CRF.loss` also adds the gradients of A, start and end; in
    evaluation the loss comes from :meth:`CRF.log_likelihood`, which leaves them alone.
    """
    y = np.asarray(y)
    if training:
        value, dE = crf.loss(E, y, mask, reduction=reduction)
    else:
        nll = -crf.log_likelihood(E, y, mask)  # (B,)
        if reduction != "sequence_mean":
            raise ConfigError(f"reduction={reduction!r}: a CRF's loss is per sentence")
        value, dE = float(nll.mean()), None
    paths = crf.decode(E, mask)
    correct = sum(int((p == y[b, : len(p)]).sum()) for b, p in enumerate(paths))
    return value, dE, correct, sum(len(p) for p in paths)


def lengths_mask(lengths: Sequence[int]) -> Array:
    """(N, T) bool, True at the first ``lengths[i]`` steps of row i (T the longest)."""
    n = np.asarray(lengths)
    return np.arange(int(n.max()))[None, :] < n[:, None]
