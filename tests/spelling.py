"""A corpus whose tags only a word's spelling gives: made-up words, tagged by suffix.

The character taggers' tests train on some stems and tag words of the others, which
no word embedding has seen.
"""

from __future__ import annotations

import numpy as np

STEMS = ("walk", "talk", "jump", "read", "play", "look", "call", "help", "work", "sing",
         "kick", "pull", "push", "cook", "wait", "rest", "fix", "mix", "draw", "cut")  # fmt: skip
SUFFIXES = {"ing": "VERB", "ly": "ADV", "ness": "NOUN"}


def spelling_corpus(stems: tuple[str, ...], n: int, seed: int):
    """Sentences of made-up words whose tag is their suffix's; "the" is DET."""
    rng = np.random.default_rng(seed)
    sentences, tags = [], []
    for _ in range(n):
        words, seq = ["the"], ["DET"]
        for _ in range(int(rng.integers(1, 5))):
            suffix = str(rng.choice(list(SUFFIXES)))
            words.append(str(rng.choice(stems)) + suffix)
            seq.append(SUFFIXES[suffix])
        sentences.append(words)
        tags.append(seq)
    return sentences, tags
