"""``rnnkit predict DIR TEXT...``: classify texts with a saved classifier; and
``rnnkit predict DIR --data FILE [--row N] [--id ID]`` for a model of real-valued
sequences: one result per sequence of a frames CSV or an npz file."""

from __future__ import annotations

import argparse
import json
from typing import Any

import numpy as np

from rnnkit.cli.data_format import with_data_format
from rnnkit.cli.tasks import frames as frame_task
from rnnkit.data import FORMATS, FrameSet
from rnnkit.errors import ConfigError, DataError
from rnnkit.models import FrameClassifier, FrameTagger, LanguageModel, SequenceTagger, load_model
from rnnkit.models.frames import FrameModel
from rnnkit.models.seq2seq import Seq2Seq

__all__ = ["add_parser", "run"]


def add_parser(sub: Any) -> argparse.ArgumentParser:
    """The ``predict`` verb: texts, or --data for models of real-valued inputs."""
    pr = sub.add_parser(
        "predict", help="classify texts, or predict for sequences of a frames or npz file"
    )
    pr.add_argument(
        "model_dir", help="a saved text classifier, or a model of real-valued sequences (--data)"
    )
    pr.add_argument("texts", nargs="*", metavar="TEXT", help="a text to classify")
    pr.add_argument("--data", help="frames CSV or npz file (models of real-valued inputs)")
    pr.add_argument("--row", type=int, action="append", help="--data: the N-th sequence (from 0)")
    pr.add_argument("--id", action="append", help="--data: the sequence with this id")
    real_valued = [f.name for f in FORMATS if f.returns is FrameSet]
    pr.add_argument("--format", choices=real_valued, help="--data: its format")
    pr.add_argument("--encoding", help="--data: text encoding (the model's, else utf-8)")
    pr.add_argument(
        "--json",
        action="store_true",
        help="print one JSON list, per text or sequence its label, probability and "
        "probabilities (taggers: tags; regressors: prediction)",
    )
    return pr


def run(args: argparse.Namespace) -> int:
    """``rnnkit predict``: one line (or JSON object) per text or sequence."""
    model = load_model(args.model_dir)
    if isinstance(model, FrameModel):
        return _predict_frames(args, model)
    if args.data is not None:
        raise ConfigError(f"{args.model_dir} reads text: give the texts, not --data")
    if not args.texts:
        raise ConfigError("give at least one TEXT to classify")
    if isinstance(model, SequenceTagger):
        raise ConfigError(f"{args.model_dir}: a tagger; use rnnkit tag to tag sentences")
    if isinstance(model, LanguageModel):
        raise ConfigError(f"{args.model_dir}: a language model; use rnnkit generate")
    if isinstance(model, Seq2Seq):
        raise ConfigError(f"{args.model_dir}: a seq2seq model; use rnnkit translate")
    proba = model.predict_proba(args.texts)
    labels = model.labels_
    rows = []
    for text, p in zip(args.texts, proba, strict=False):
        k = int(np.argmax(p))
        rows.append(
            {
                "text": text,
                "label": labels[k],
                "probability": float(p[k]),
                "probabilities": {label: float(q) for label, q in zip(labels, p, strict=False)},
            }
        )
    if args.json:
        print(json.dumps(rows))
    else:
        width = max(len(r["label"]) for r in rows)
        for r in rows:
            print(f"{r['label']:<{width}}  {r['probability']:.3f}  {r['text']}")
    return 0


def _chosen(frames: FrameSet, args: argparse.Namespace) -> FrameSet:
    """The sequences that --row and --id pick, in that order; all of them without either."""
    index: list[int] = []
    for row in args.row or ():
        if not 0 <= row < len(frames):
            raise DataError(f"{frames.path}: --row {row}: the file has rows 0 to {len(frames) - 1}")
        index.append(row)
    position = {sid: i for i, sid in enumerate(frames.ids)}
    for sid in args.id or ():
        if sid not in position:
            raise DataError(f"{frames.path}: no sequence with id {sid!r}")
        index.append(position[sid])
    return frames.subset(index) if index else frames


def _predict_frames(args: argparse.Namespace, model: Any) -> int:
    """``rnnkit predict DIR --data FILE [--row N] [--id ID]``: one result per sequence."""
    if args.texts:
        raise ConfigError(f"{args.model_dir} reads real-valued frames: give --data FILE, not text")
    args = with_data_format(args, args.model_dir, args.data, model.task)
    frames = _chosen(frame_task.read(args.data, args).aligned(model.features_), args)
    rows: list[dict[str, Any]] = []
    if isinstance(model, FrameClassifier):
        for sid, p in zip(frames.ids, model.predict_proba(frames.sequences), strict=True):
            k = int(np.argmax(p))
            probs = {label: float(q) for label, q in zip(model.labels_, p, strict=True)}
            rows.append({"id": sid, "label": model.labels_[k], "probability": float(p[k]),
                         "probabilities": probs})  # fmt: skip
    elif isinstance(model, FrameTagger):
        for sid, tags in zip(frames.ids, model.predict(frames.sequences), strict=True):
            rows.append({"id": sid, "tags": tags})
    else:
        for sid, y in zip(frames.ids, model.predict(frames.sequences), strict=True):
            rows.append({"id": sid, "prediction": np.asarray(y).tolist()})
    if args.json:
        print(json.dumps(rows))
        return 0
    for r in rows:
        if "label" in r:
            print(f"{r['id']}  {r['label']}  {r['probability']:.3f}")
        elif "tags" in r:
            print(f"{r['id']}  {' '.join(r['tags'])}")
        else:
            print(f"{r['id']}  {_numbers_text(r['prediction'])}")
    return 0


def _numbers_text(values: Any) -> str:
    """A prediction as text: numbers split by spaces, frames by ' | '."""
    if not isinstance(values, list):
        return f"{values:.6g}"
    if values and isinstance(values[0], list):
        return " | ".join(" ".join(f"{v:.6g}" for v in frame) for frame in values)
    return " ".join(f"{v:.6g}" for v in values)
