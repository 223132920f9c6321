"""The training loop: mini-batches, backward, clipping, update, validation, stopping.

The loop knows nothing of layers: it drives any model with the small
:class:`Trainable` interface (``Sequential`` implements it), so the same loop trains
every architecture.

One step, as the notes give it: compute the output, the loss and, by BPTT, dL/dw for
every parameter; then update once per mini-batch, ``w <- w - lr * dL/dw`` (or the
chosen optimizer's refinement of it), after clipping the gradients.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

import numpy as np

from rnnkit.core.clipping import clip_by_global_norm, clip_by_value
from rnnkit.errors import ConfigError
from rnnkit.training.dataset import Batch
from rnnkit.training.optimizers import Optimizer, ParamSlot

__all__ = ["BatchSource", "FitConfig", "History", "StepResult", "Trainable", "evaluate", "fit"]


@dataclass
class StepResult:
    """Loss summed over the batch's sequences, and the accuracy counts."""

    loss_sum: float
    correct: int
    count: int
    n_sequences: int


class BatchSource(Protocol):
    """What the loop reads batches from: a SequenceDataset, or TextStreams."""

    def batches(
        self, batch_size: int, rng: np.random.Generator | None = None, bucket: bool = True
    ) -> Sequence[Any]: ...
    def batch(self, index: Any) -> Batch: ...


class Trainable(Protocol):
    def train_batch(self, batch: Batch) -> StepResult: ...
    def eval_batch(self, batch: Batch) -> StepResult: ...
    def zero_grad(self) -> None: ...
    def param_slots(self) -> list[ParamSlot]: ...
    def get_weights(self) -> list[np.ndarray]: ...
    def set_weights(self, weights: list[np.ndarray]) -> None: ...


@dataclass
class FitConfig:
    """Settings of one training run (the defaults are the ones that train well)."""

    epochs: int = 10
    batch_size: int = 32
    clip_norm: float | None = 5.0  # global-norm clipping, the guard against exploding gradients
    clip_value: float | None = None  # element-wise clipping, off by default
    max_minutes: float | None = None  # stop after the batch that passes this time budget
    patience: int | None = None  # early stopping: epochs without improvement of `monitor`
    monitor: str = "val_accuracy"  # or "val_loss"
    restore_best: bool = True  # end with the weights of the best validation epoch
    lr_decay: float | None = None  # multiply lr by this after an epoch that is not the best
    bucket: bool = True  # length-bucketed batches
    verbose: int = 1  # 0 silent, 1 one line per epoch (plus a bar on a terminal)

    def __post_init__(self) -> None:
        if self.epochs < 1:
            raise ConfigError(f"epochs={self.epochs}: must be at least 1")
        if self.batch_size < 1:
            raise ConfigError(f"batch_size={self.batch_size}: must be at least 1")
        if self.lr_decay is not None and not 0.0 < self.lr_decay < 1.0:
            raise ConfigError(f"lr_decay={self.lr_decay}: must lie in (0, 1)")
        for name in ("clip_norm", "clip_value", "max_minutes"):
            v = getattr(self, name)
            if v is not None and not v > 0:
                raise ConfigError(f"{name}={v}: must be positive")
        if self.monitor not in ("val_accuracy", "val_loss"):
            raise ConfigError(f"monitor={self.monitor!r}: use 'val_accuracy' or 'val_loss'")


@dataclass
class History:
    """Per-epoch records: loss, accuracy, val_loss, val_accuracy, seconds, tokens_per_s.

    The accuracies are there only for losses that score predictions right or wrong
    (cross-entropy), not for the mean squared error.
    """

    epochs: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int | None = None
    stopped: str = "epochs"  # "epochs", "early_stopping" or "time_budget"
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def evaluate(model: Trainable, data: BatchSource, batch_size: int = 256) -> dict[str, float]:
    """Mean loss and accuracy of `model` on `data` (no training)."""
    total = StepResult(0.0, 0, 0, 0)
    for index in data.batches(batch_size, rng=None):
        r = model.eval_batch(data.batch(index))
        total = StepResult(
            total.loss_sum + r.loss_sum,
            total.correct + r.correct,
            total.count + r.count,
            total.n_sequences + r.n_sequences,
        )
    out = {"loss": total.loss_sum / max(total.n_sequences, 1)}
    if total.count:  # a loss that scores predictions as right or wrong (not MSE)
        out["accuracy"] = total.correct / total.count
    return out


def fit(
    model: Trainable,
    train: BatchSource,
    optimizer: Optimizer,
    config: FitConfig,
    rng: np.random.Generator,
    valid: BatchSource | None = None,
) -> History:
    """Train `model` on `train`; validate on `valid` after every epoch."""
    if config.patience is not None and valid is None:
        raise ConfigError("early stopping (patience) needs validation data")
    history = History()
    start = time.perf_counter()
    deadline = None if config.max_minutes is None else start + 60.0 * config.max_minutes
    sign = -1.0 if config.monitor == "val_loss" else 1.0
    best_score, best_weights, waited = -math.inf, None, 0
    for epoch in range(1, config.epochs + 1):
        t0 = time.perf_counter()
        record, out_of_time = _run_epoch(model, train, optimizer, config, rng, deadline, epoch)
        if valid is not None:
            v = evaluate(model, valid)
            record.update({f"val_{k}": value for k, value in v.items()})
        record["seconds"] = time.perf_counter() - t0
        record["lr"] = optimizer.lr
        history.epochs.append(record)
        if config.verbose:
            print(_epoch_line(record, config.epochs), flush=True)
        if valid is not None:
            if config.monitor not in record:
                raise ConfigError(
                    f"monitor={config.monitor!r}: this loss has no accuracy; use 'val_loss'"
                )
            score = sign * record[config.monitor]
            if score > best_score:
                best_score, waited, history.best_epoch = score, 0, epoch
                best_weights = model.get_weights()
            else:
                waited += 1
                if config.lr_decay is not None:  # a plateau: smaller steps from here on
                    optimizer.lr *= config.lr_decay
        if out_of_time:
            history.stopped = "time_budget"
            break
        if config.patience is not None and waited >= config.patience:
            history.stopped = "early_stopping"
            break
    if config.restore_best and best_weights is not None:
        model.set_weights(best_weights)
    history.seconds = time.perf_counter() - start
    return history


def _run_epoch(model, train, optimizer, config, rng, deadline, epoch):
    batches = train.batches(config.batch_size, rng=rng, bucket=config.bucket)
    bar = _progress_bar(len(batches), epoch, config)
    loss_sum, correct, count, seqs, tokens = 0.0, 0, 0, 0, 0
    t0 = time.perf_counter()
    out_of_time = False
    for i, index in enumerate(batches):
        batch = train.batch(index)
        model.zero_grad()
        r = model.train_batch(batch)
        slots = model.param_slots()
        if config.clip_value is not None:
            clip_by_value([g for _, _, g, _ in slots], config.clip_value)
        if config.clip_norm is not None:
            clip_by_global_norm(
                [g for _, _, g, _ in slots],
                config.clip_norm,
                rows=[rows for _, _, _, rows in slots],
            )
        optimizer.step(slots)
        loss_sum += r.loss_sum
        correct += r.correct
        count += r.count
        seqs += r.n_sequences
        tokens += batch.n_tokens
        if bar is not None:
            elapsed = time.perf_counter() - t0
            shown = {"loss": f"{loss_sum / seqs:.4f}"}
            if count:
                shown["acc"] = f"{correct / count:.3f}"
            bar.set_postfix(shown, tok_s=f"{tokens / max(elapsed, 1e-9):,.0f}", refresh=False)
            bar.update(1)
        if deadline is not None and time.perf_counter() > deadline and i + 1 < len(batches):
            out_of_time = True
            break
    if bar is not None:
        bar.close()
    elapsed = time.perf_counter() - t0
    record = {"epoch": epoch, "loss": loss_sum / max(seqs, 1)}
    if count:
        record["accuracy"] = correct / count
    record["tokens_per_s"] = tokens / max(elapsed, 1e-9)
    return record, out_of_time


def _progress_bar(total: int, epoch: int, config: FitConfig):
    if not config.verbose or not sys.stdout.isatty():
        return None  # quiet when stdout is a file or a pipe
    from tqdm import tqdm

    return tqdm(
        total=total,
        desc=f"epoch {epoch}/{config.epochs}",
        leave=False,
        file=sys.stdout,
        dynamic_ncols=True,
    )


def _epoch_line(r: dict[str, float], epochs: int) -> str:
    line = f"epoch {int(r['epoch']):>3}/{epochs}  loss {r['loss']:.4f}"
    for key, name in (("accuracy", "acc"), ("val_loss", "val_loss"), ("val_accuracy", "val_acc")):
        if key in r:
            line += f"  {name} {r[key]:.4f}"
    return line + f"  {r['tokens_per_s']:,.0f} tok/s  {r.get('seconds', 0.0):.1f}s"
