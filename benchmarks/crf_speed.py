"""Time of the CRF's loss with its gradient (forward-backward) and of Viterbi decoding.

    python benchmarks/crf_speed.py [--batch 32] [--steps 40] [--tags 13] [--repeat 200]

Random emissions and weights in float32, a padded batch of lengths between T/2 and T;
prints the median time of one call of each in milliseconds.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from rnnkit.core.crf import crf_nll, crf_viterbi


def median_ms(f, repeat: int) -> float:
    f()  # warm up
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    return 1e3 * float(np.median(times))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--tags", type=int, default=13)
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    B, T, K = args.batch, args.steps, args.tags
    rng = np.random.default_rng(0)
    E = rng.normal(size=(B, T, K)).astype(np.float32)  # (B, T, K)
    A, s, e = (rng.normal(size=n).astype(np.float32) for n in ((K, K), K, K))
    lengths = rng.integers(T // 2, T + 1, size=B)
    lengths[0] = T
    mask = np.arange(T)[None, :] < lengths[:, None]  # (B, T)
    tags = rng.integers(0, K, size=(B, T))
    nll = median_ms(lambda: crf_nll(E, A, s, e, tags, mask), args.repeat)
    vit = median_ms(lambda: crf_viterbi(E, A, s, e, mask), args.repeat)
    print(f"B={B} T={T} K={K} float32: loss + gradient {nll:.2f} ms, Viterbi {vit:.2f} ms")


if __name__ == "__main__":
    main()
