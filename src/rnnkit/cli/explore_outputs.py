"""The task's own view of one text in ``rnnkit explore``: classes, tags, next tokens, output.

:func:`task_output` asks the model itself (its ``predict``, ``predict_proba``,
``decode`` and forward pass), never a second implementation of its maths, and returns
what the page draws under the tokens (see :mod:`rnnkit.cli.explore_views`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rnnkit.viz import Trace

__all__ = ["TOP_K", "class_probs", "next_tokens", "task_output"]

Array = np.ndarray
#: next tokens shown after each prefix of a language model's input
TOP_K = 10


def task_output(explorer: Any, text: str, t: Trace) -> dict[str, Any]:
    """What the model makes of the traced text `t` (its ``task`` decides what)."""
    model, task = explorer.model, explorer.task
    if task == "classify":
        net = model if explorer.toy else model.model_
        labels = explorer.info()["labels"]
        return _classify(net, np.asarray(t.ids, dtype=np.int64), labels)
    if task == "tag":
        tags = model.predict([t.tokens])[0]
        P = model.predict_proba([t.tokens])[0]  # (T, K): a CRF's marginals
        # NOTE: of the tags as learnt (IOBES where BIO tags were learnt as IOBES)
        ids = model.predict_ids([t.tokens])[0]
        probs = [float(P[i, k]) for i, k in enumerate(ids)]
        crf = getattr(model.model_.output_layer, "kind", "") == "crf"
        return {"tags": tags, "probs": probs, "crf": crf}
    if task == "lm":
        logits = model.model_.forward(np.asarray(t.ids)[None], logits=True)[0][0]  # (T, V)
        return {"next": next_tokens(logits, model.vocab_.token)}
    decoded = model.decode([t.tokens], beam=1)
    attention = None if decoded.attention is None else decoded.attention[0].tolist()
    return {"output": model.vocab_.decode(decoded.tokens[0]), "attention": attention}


def class_probs(out: Array) -> Array:
    """(N, K) class probabilities from a network's outputs: a sigmoid's one column p
    becomes the two columns 1 - p, p (as ``predict_proba`` gives them)."""
    out = np.asarray(out, dtype=np.float64)
    return np.concatenate([1.0 - out, out], axis=1) if out.shape[1] == 1 else out


def _classify(net: Any, ids: Array, labels: list[str]) -> dict[str, Any]:
    """The class probabilities of `ids`, and of `ids` without each token in turn."""
    T = len(ids)
    # one batch: the whole text, then each text with one token left out (occlusion)
    seqs = [ids] + ([np.delete(ids, i) for i in range(T)] if T > 1 else [])
    P = class_probs(net.predict(seqs))  # (1 + T, K), or (1, K) for one token
    probs = P[0]
    occluded = [row.tolist() for row in P[1:]] if T > 1 else [None]
    predicted = labels[int(np.argmax(probs))]
    return {"labels": labels, "probs": probs.tolist(), "predicted": predicted,
            "occlusion": occluded}  # fmt: skip


def next_tokens(logits: Array, token: Any, k: int = TOP_K) -> list[list[dict[str, Any]]]:
    """After each prefix, the `k` most likely next tokens: (T, V) logits -> T lists of
    ``{"token", "p"}``, most likely first (softmax in float64)."""
    z = np.asarray(logits, dtype=np.float64)
    z = z - z.max(axis=1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(axis=1, keepdims=True)
    top = np.argsort(-p, axis=1, kind="stable")[:, :k]  # (T, k)
    return [[{"token": token(int(i)), "p": float(row[i])} for i in idx]
            for row, idx in zip(p, top, strict=True)]  # fmt: skip
