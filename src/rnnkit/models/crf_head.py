"""A CRF as a tagger's output: its layers, its loss step, Viterbi tags and marginals.

A softmax tagger ends in ``Dense(K, "softmax")`` and chooses each tag on its own. A
CRF tagger ends in ``Dense(K)`` (linear: the emission scores ``E[t, k]``) and a
:class:`~rnnkit.layers.CRF`, which scores tag pairs too, so that the loss is the
sentence's ``-log p(y | x)`` and the prediction the best path as a whole (Viterbi).
The CRF sits last in the Sequential: its forward passes the scores through, and the
optimizer finds its transition scores among the other parameters (``param_slots``).

With BIO or IOBES tags, the CRF forbids the transitions the scheme does not allow
(``O -> I-X``), so a decoded path never has one; the scheme is
:func:`rnnkit.metrics.tag_scheme`'s:

>>> [type(layer).__name__ for layer in crf_layers(["B-PER", "I-PER", "O"])]
['Dense', 'CRF']
>>> crf_layers(["O", "S-LOC"])[1].scheme, crf_layers(["NOUN", "VERB"])[1].scheme
('IOBES', None)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from rnnkit.errors import ConfigError
from rnnkit.layers import CRF, Dense, Layer
from rnnkit.metrics import tag_scheme
from rnnkit.models.heads import UNSEEN

__all__ = ["crf_layers", "crf_step"]

Array = np.ndarray


def crf_layers(labels: Sequence[str]) -> list[Layer]:
    """The output of a CRF tagger of `labels`: linear emission scores, then the CRF."""
    return [Dense(len(labels)), CRF(tags=list(labels), scheme=tag_scheme(labels))]


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
    A sentence holding an ``UNSEEN`` tag (-1, evaluation only) has no gold path: its
    loss is that of every path through its seen tags, and an unseen step is never
    counted correct.
    """
    y = np.asarray(y)
    if training:
        value, dE = crf.loss(E, y, mask, reduction=reduction)
    else:
        if reduction != "sequence_mean":
            raise ConfigError(f"reduction={reduction!r}: a CRF's loss is per sentence")
        if (y == UNSEEN).any():
            nll = -crf.partial_log_likelihood(E, y, mask)  # (B,)
        else:
            nll = -crf.log_likelihood(E, y, mask)
        value, dE = float(nll.mean()), None
    paths = crf.decode(E, mask)
    correct = sum(int((p == y[b, : len(p)]).sum()) for b, p in enumerate(paths))
    return value, dE, correct, sum(len(p) for p in paths)
