"""MR test accuracy of SequenceClassifier settings over several seeds.

Each setting is a JSON object of SequenceClassifier keywords; the model is trained on
the MR training split with the dev split for early stopping (the epoch with the lowest
dev loss is kept) and scored on the test split.

    python benchmarks/mr_settings.py --seeds 0 1 2 '{}' '{"pooling": "last"}'
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from rnnkit.data import load_mr
from rnnkit.models import SequenceClassifier


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("settings", nargs="*", default=["{}"], help="JSON objects of settings")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = p.parse_args()
    train, dev, test = (load_mr(s) for s in ("train", "dev", "test"))
    for text in args.settings:
        settings = json.loads(text)
        scores, seconds, epochs = [], [], []
        for seed in args.seeds:
            start = time.perf_counter()
            clf = SequenceClassifier(**{"verbose": 0, **settings, "seed": seed})
            clf.fit(train.texts, train.labels, valid=(dev.texts, dev.labels))
            seconds.append(time.perf_counter() - start)
            scores.append(clf.evaluate(test.texts, test.labels).accuracy)
            epochs.append(clf.history_.best_epoch)
        each = " ".join(f"{s:.4f}" for s in scores)
        print(
            f"{json.dumps(settings):<40} test accuracy mean {np.mean(scores):.4f} "
            f"(seeds {args.seeds}: {each}; best epochs {epochs}; {np.mean(seconds):.0f}s each)",
            flush=True,
        )


if __name__ == "__main__":
    main()
