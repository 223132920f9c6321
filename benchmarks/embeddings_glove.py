"""Reading pretrained GloVe vectors for a tagger's vocabulary: time and coverage.

Streams the shared GloVe file (100,000 words x 50, gzip) and keeps the vectors of the
vocabulary of a training file (WNUT-17 by default, or any CoNLL file given):

    python benchmarks/embeddings_glove.py [--data FILE.conll] [--vectors FILE] [--repeats N]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from rnnkit.data import read_conll, read_embeddings
from rnnkit.text import Vocabulary

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, default=DATA / "wnut17" / "wnut17train.conll")
    p.add_argument(
        "--vectors", type=Path, default=DATA / "glove_6b_50d" / "glove.6B.50d.100k.txt.gz"
    )
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args()
    vocab = Vocabulary.build(read_conll(args.data).sentences)
    times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        vectors = read_embeddings(args.vectors, vocab)
        times.append(time.perf_counter() - start)
    print(vectors.summary())
    print(f"read in {min(times):.2f} s (best of {args.repeats}; all: "
          + ", ".join(f"{t:.2f}" for t in times) + ")")  # fmt: skip


if __name__ == "__main__":
    main()
