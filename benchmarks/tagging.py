"""UD English-EWT UPOS and WNUT-17 NER with SequenceTagger settings.

Each setting (a JSON object of SequenceTagger keywords) is trained on the training
split with the dev split for early stopping and scored on the test split.

    python benchmarks/tagging.py ewt '{}' '{"cell": "lstm", "dropout": 0.5}'
    python benchmarks/tagging.py wnut17 '{}'
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from rnnkit.data import read_conll, read_conllu
from rnnkit.models import SequenceTagger

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def load(corpus: str):
    if corpus == "ewt":
        d = DATA / "ud_english_ewt"
        return [read_conllu(d / f"en_ewt-ud-{s}.conllu") for s in ("train", "dev", "test")]
    d = DATA / "wnut17"
    names = ("wnut17train.conll", "emerging.dev.conll", "emerging.test.annotated")
    return [read_conll(d / n) for n in names]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("corpus", choices=["ewt", "wnut17"])
    p.add_argument("settings", nargs="*", default=["{}"], help="JSON objects of settings")
    args = p.parse_args()
    train, dev, test = load(args.corpus)
    for text in args.settings:
        settings = json.loads(text)
        start = time.perf_counter()
        tagger = SequenceTagger(**{"verbose": 0, **settings})
        tagger.fit(train.sentences, train.tags, valid=(dev.sentences, dev.tags))
        seconds = time.perf_counter() - start
        report = tagger.evaluate(test.sentences, test.tags).to_dict()
        on_dev = tagger.evaluate(dev.sentences, dev.tags).to_dict()
        dev_acc = on_dev["accuracy"]
        extra = ""
        if "entity_f1" in report:
            extra = (
                f"  entity P/R/F1 {report['entity_precision']:.4f} "
                f"{report['entity_recall']:.4f} {report['entity_f1']:.4f}"
                f"  dev entity F1 {on_dev['entity_f1']:.4f}"
            )
        print(
            f"{json.dumps(settings):<50} test {report['accuracy']:.4f}  dev {dev_acc:.4f}  "
            f"best epoch {tagger.history_.best_epoch}  {seconds:.0f}s{extra}",
            flush=True,
        )


if __name__ == "__main__":
    main()
