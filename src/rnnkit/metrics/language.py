"""How well a language model predicts text: loss per token, perplexity, bits.

With L the mean cross-entropy of the next token, in nats (natural log) per token:

- perplexity = exp(L), the number of equally likely choices the model is as unsure
  as: a model that knows nothing of a vocabulary of V tokens has L = ln V and
  perplexity V;
- bits per token = L / ln 2, the code length the model would give each token; at
  character level this is bits per character (bpc).

``unknown`` counts the tokens of the text the model's vocabulary lacks: characters it
never saw, left out of the score, or words read as ``<unk>`` (``unknown_tokens``).

>>> import math
>>> r = LanguageModelReport(loss_sum=100 * math.log(65), n_tokens=100)
>>> round(r.loss, 4), round(r.perplexity, 1), round(r.bits_per_token, 3)
(4.1744, 65.0, 6.022)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

__all__ = ["LanguageModelReport"]


@dataclass(frozen=True)
class LanguageModelReport:
    """The summed loss (nats) over `n_tokens` predicted tokens, and the figures made of it."""

    loss_sum: float
    n_tokens: int
    level: str = "char"
    unknown: int = 0

    @property
    def loss(self) -> float:
        """Mean cross-entropy, nats per token."""
        return self.loss_sum / self.n_tokens if self.n_tokens else math.nan

    @property
    def perplexity(self) -> float:
        return math.exp(self.loss) if self.loss < 700 else math.inf

    @property
    def bits_per_token(self) -> float:
        return self.loss / math.log(2)

    def to_dict(self) -> dict[str, Any]:
        """The ``evaluate --json`` keys of a language model."""
        return {
            "loss": self.loss,
            "perplexity": self.perplexity,
            "bits_per_token": self.bits_per_token,
            "n_tokens": self.n_tokens,
            "unknown_tokens": self.unknown,
        }

    def format(self) -> str:
        unit = "character" if self.level == "char" else "token"
        bits = "bpc" if self.level == "char" else "bits/token"
        line = (
            f"loss {self.loss:.4f} nats per {unit}, perplexity {self.perplexity:.2f}, "
            f"{self.bits_per_token:.4f} {bits}, over {self.n_tokens:,} {unit}s"
        )
        if not self.unknown:
            return line
        if self.level == "char":
            return f"{line}; {self.unknown:,} characters not in the model's vocabulary left out"
        return f"{line}; {self.unknown:,} words not in the model's vocabulary read as <unk>"
