"""The transitions a tagging scheme allows, as :class:`~rnnkit.core.crf.Constraints`.

In BIO (IOB2) a chunk X begins with ``B-X`` and goes on with ``I-X``, so ``I-X`` may
follow only ``B-X`` or ``I-X`` and never begins a sentence. IOBES (BIOES) adds ``E-X``,
the last token of a chunk of two or more, and ``S-X``, a chunk of one: ``I-X`` and
``E-X`` follow only ``B-X`` or ``I-X``; ``B-X``, ``S-X`` and ``O`` follow only a token
that closes its chunk (``O``, ``E-*``, ``S-*``) or begin the sentence, which may not end
inside a chunk (on ``B-*`` or ``I-*``). Special tags such as ``<pad>`` are never
allowed: no real token carries them.

>>> c = tag_constraints(["O", "B-PER", "I-PER"], scheme="BIO")
>>> c.allowed.astype(int)                    # rows: previous tag, columns: next tag
array([[1, 1, 0],
       [1, 1, 1],
       [1, 1, 1]])
>>> c.start.astype(int), c.end.astype(int)
(array([1, 1, 0]), array([1, 1, 1]))
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from rnnkit.core.crf import Constraints
from rnnkit.errors import ConfigError

__all__ = ["SCHEMES", "tag_constraints"]

#: scheme name -> the prefixes its chunk tags may carry (aliases share an entry)
SCHEMES = {"BIO": "BI", "IOB2": "BI", "IOBES": "BIES", "BIOES": "BIES"}


def _split(tag: str, prefixes: str, scheme: str) -> tuple[str, str]:
    """(prefix, chunk type): ("O", "") for O, ("<", "") for a special tag."""
    if tag == "O":
        return "O", ""
    if tag.startswith("<") and tag.endswith(">"):
        return "<", ""
    if len(tag) > 2 and tag[0] in prefixes and tag[1] == "-":
        return tag[0], tag[2:]
    raise ConfigError(f"tag {tag!r} is not O or one of {', '.join(prefixes)} + '-X' ({scheme})")


def _may_follow(prev: tuple[str, str], nxt: tuple[str, str], open_: str) -> bool:
    """Whether tag `nxt` may follow tag `prev`; `open_`: the prefixes that leave a
    chunk open (B and I in IOBES; none in BIO, where any tag but I-X closes X)."""
    (p, p_type), (n, n_type) = prev, nxt
    if "<" in (p, n):
        return False
    if n in "IE":  # inside a chunk: continues a chunk of the same type
        return p in "BI" and p_type == n_type
    return p not in open_  # O, B-, S- begin afresh: the previous chunk must be closed


def tag_constraints(tags: Sequence[str], scheme: str = "BIO") -> Constraints:
    """The allowed transitions, first tags and last tags of `tags` under `scheme`.

    Parameters
    ----------
    tags : the tag names in id order (K of them)
    scheme : "BIO" (alias "IOB2") or "IOBES" (alias "BIOES")

    Returns
    -------
    Constraints with ``allowed`` (K, K), ``start`` (K,) and ``end`` (K,), all bool.
    """
    if scheme not in SCHEMES:
        raise ConfigError(f"scheme={scheme!r} is not one of {', '.join(SCHEMES)}")
    prefixes = SCHEMES[scheme]
    parts = [_split(t, prefixes, scheme) for t in tags]
    open_ = "BI" if "E" in prefixes else ""  # IOBES: B- and I- leave a chunk open
    K = len(parts)
    allowed = np.array([[_may_follow(p, n, open_) for n in parts] for p in parts], dtype=bool)
    start = np.array([p not in "<IE" for p, _ in parts], dtype=bool)
    end = np.array([p != "<" and p not in open_ for p, _ in parts], dtype=bool)
    return Constraints(allowed.reshape(K, K), start, end)
