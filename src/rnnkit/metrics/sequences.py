"""How close output sequences are to their references: exact match and token error rate.

For an encoder-decoder (transliteration, grapheme-to-phoneme, translation):

- **exact match**: the fraction of outputs identical to their reference. For G2P this
  is word accuracy, and the *word error rate* is 1 - exact match.
- **token error rate**: the edit distance (the fewest insertions, deletions and
  substitutions of tokens turning the output into the reference), summed over the
  examples and divided by the total reference length. Over phones this is the phoneme
  error rate (PER); over words of a transcript, the speech recogniser's WER.

>>> r = SequenceReport.from_sequences([["K", "AE1", "T"], ["D", "AO1", "G"]],
...                                   [["K", "AE1", "T"], ["D", "AA1", "G", "Z"]])
>>> r.exact_match, r.word_error_rate, round(r.token_error_rate, 4)
(0.5, 0.5, 0.3333)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["SequenceReport", "edit_distance"]


def edit_distance(a: Sequence[Any], b: Sequence[Any]) -> int:
    """Levenshtein distance between two token sequences (unit costs).

    >>> edit_distance("kitten", "sitting")
    3
    """
    if len(a) < len(b):
        a, b = b, a
    prev = list(range(len(b) + 1))  # distances from a[:0] to every prefix of b
    for i, x in enumerate(a, start=1):
        cur = [i]
        for j, y in enumerate(b, start=1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y)))
        prev = cur
    return prev[-1]


@dataclass(frozen=True)
class SequenceReport:
    """Counts over `n` examples: exact matches, edits, and reference tokens; `unknown`:
    the source tokens the model's vocabulary lacked (read as ``<unk>``)."""

    n: int
    exact: int
    edits: int
    reference_tokens: int
    unknown: int = 0

    @classmethod
    def from_sequences(
        cls, references: Sequence[Sequence[Any]], outputs: Sequence[Sequence[Any]]
    ) -> SequenceReport:
        if len(references) != len(outputs):
            raise ValueError(f"{len(references)} references but {len(outputs)} outputs")
        exact = edits = tokens = 0
        for ref, out in zip(references, outputs, strict=True):
            ref, out = list(ref), list(out)
            exact += ref == out
            edits += edit_distance(ref, out)
            tokens += len(ref)
        return cls(len(references), exact, edits, tokens)

    @property
    def exact_match(self) -> float:
        return self.exact / self.n if self.n else float("nan")

    @property
    def word_error_rate(self) -> float:
        """1 - exact match: the fraction of outputs with at least one error."""
        return 1.0 - self.exact_match

    @property
    def token_error_rate(self) -> float:
        return self.edits / self.reference_tokens if self.reference_tokens else float("nan")

    def to_dict(self) -> dict[str, Any]:
        """The ``evaluate --json`` keys of an encoder-decoder."""
        return {
            "exact_match": self.exact_match,
            "token_error_rate": self.token_error_rate,
            "word_error_rate": self.word_error_rate,
            "n": self.n,
            "edits": self.edits,
            "reference_tokens": self.reference_tokens,
            "unknown_tokens": self.unknown,
        }

    def format(self) -> str:
        line = (
            f"exact match {self.exact_match:.2%} (word error rate {self.word_error_rate:.2%}), "
            f"token error rate {self.token_error_rate:.2%} "
            f"({self.edits:,} edits over {self.reference_tokens:,} reference tokens), "
            f"{self.n:,} examples"
        )
        if not self.unknown:
            return line
        return f"{line}; {self.unknown:,} source tokens not in the model's vocabulary read as <unk>"
