"""Training tokens per second of the WNUT-17 tagger with each character encoder.

    python benchmarks/tagger_char_speed.py [--batches 40] [--cells lstm cnn]

The tagger's defaults (GloVe-free: learned 100-d words, a word BiLSTM of 100 each way,
a CRF, 30-d characters), with the character features read by each ``char_cell`` in
turn: the bidirectional LSTM of 50 units each way, or the character CNN of 100
filters. Each network is built from a few training sentences, then takes a forward
and backward pass (``train_batch``: loss, gradients, no optimizer step) on the same
batches of 32 sentences of WNUT-17's training split. The contenders take turns on
each batch, so a busy machine slows all alike; the ratio of their times is the figure
to read, not the times themselves.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from tagging import DATA

from rnnkit.data import read_conll
from rnnkit.metrics.schemes import bio_to_iobes
from rnnkit.models import SequenceTagger

BATCH = 32


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--batches", type=int, default=40)
    p.add_argument("--cells", nargs="+", default=["lstm", "cnn"])
    args = p.parse_args()
    train = read_conll(DATA / "wnut17" / "wnut17train.conll")
    order = np.random.default_rng(0).permutation(len(train.sentences))[: BATCH * args.batches]
    x = [train.sentences[i] for i in order]
    y = [train.tags[i] for i in order]
    # built on a few sentences that hold every tag of the sample, timed on all of them
    learnt = [bio_to_iobes(t) for t in y]  # the tags as the tagger learns them
    few = {next(i for i, t in enumerate(learnt) if tag in t) for tag in set().union(*learnt)}
    few |= set(range(BATCH))
    nets, data = {}, {}
    for cell in args.cells:
        tagger = SequenceTagger(char_cell=cell, epochs=1, verbose=0, seed=0)
        tagger.fit([x[i] for i in sorted(few)], [y[i] for i in sorted(few)])
        nets[cell], data[cell] = tagger.model_, tagger.training_data(x, y)
    times: dict[str, list[float]] = {cell: [] for cell in args.cells}
    tokens = 0
    for k in range(args.batches):
        rows = np.arange(k * BATCH, (k + 1) * BATCH)
        for cell, net in nets.items():
            batch = data[cell].batch(rows)
            start = time.perf_counter()
            net.zero_grad()
            net.train_batch(batch)
            times[cell].append(time.perf_counter() - start)
        tokens += int(batch.mask.sum())
    base = sum(times[args.cells[0]])
    for cell, ts in times.items():
        print(
            f"char_cell={cell:<5} median {1e3 * statistics.median(ts):6.1f} ms a batch, "
            f"{tokens / sum(ts):7.0f} tokens/s, {base / sum(ts):.2f}x {args.cells[0]}'s"
        )


if __name__ == "__main__":
    main()
