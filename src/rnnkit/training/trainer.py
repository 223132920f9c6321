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
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

import numpy as np

from rnnkit.core.clipping import clip_by_global_norm, clip_by_value, global_norm
from rnnkit.errors import ConfigError, NumericalError
from rnnkit.training.checkpoint import Checkpoints, Progress, restore, save
from rnnkit.training.dataset import Batch
from rnnkit.training.grad_log import GradNormLog, param_norms
from rnnkit.training.optimizers import Optimizer, ParamSlot
from rnnkit.training.parallel import ParallelGroup
from rnnkit.training.progress import epoch_line, progress_bar, show_batch

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
    monitor: str = "val_accuracy"  # or "val_loss", or "val_<name>" of a figure of val_scores
    #: further validation figures, higher is better (entity F1 for BIO or IOBES tags):
    #: called after each epoch's validation with the epoch's weights in place;
    #: {name: value}, recorded as ``val_<name>``
    val_scores: Callable[[], dict[str, float]] | None = None
    restore_best: bool = True  # end with the weights of the best validation epoch
    lr_decay: float | None = None  # multiply lr by this after an epoch that is not the best
    bucket: bool = True  # length-bucketed batches
    verbose: int = 1  # 0 silent, 1 one line per epoch (plus a bar on a terminal)
    checkpoints: Checkpoints | None = None  # save (and resume) the run's state
    grad_log: GradNormLog | None = None  # per-step gradient norms to a CSV (None: no cost)
    #: data parallelism over ranks (rnnkit.distributed); None trains in this process alone
    group: ParallelGroup | None = None

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
        scored = self.val_scores is not None and self.monitor.startswith("val_")
        if self.monitor not in ("val_accuracy", "val_loss") and not scored:
            raise ConfigError(
                f"monitor={self.monitor!r}: use 'val_accuracy', 'val_loss' "
                "or a figure of val_scores"
            )


@dataclass
class History:
    """Per-epoch records: loss, accuracy, val_loss, val_accuracy, seconds, tokens_per_s.

    The accuracies are there only for losses that score predictions right or wrong
    (cross-entropy), not for the mean squared error; the figures of
    :attr:`FitConfig.val_scores` join them as ``val_<name>``. ``best_epoch`` is the
    best by ``monitor``, the validation figure that early stopping followed.

    ``stopped`` says why the run ended: ``"epochs"`` (all of them done),
    ``"early_stopping"`` (``patience`` epochs without a better ``monitor``) or
    ``"time_budget"`` (``max_minutes`` passed). An epoch the time budget cut short
    records ``cut_after``, its batches trained, and ``batches``, those it has in all;
    :attr:`cut` gives the last epoch's pair.
    """

    epochs: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int | None = None
    monitor: str = "val_accuracy"
    stopped: str = "epochs"  # "epochs", "early_stopping" or "time_budget"
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def cut(self) -> tuple[int, int] | None:
        """(batches trained, batches in all) of the last epoch if the time budget cut
        it short, else None."""
        last = self.epochs[-1] if self.epochs else {}
        if "cut_after" not in last:
            return None
        return int(last["cut_after"]), int(last["batches"])


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
    """Train `model` on `train`; validate on `valid` after every epoch.

    With ``config.checkpoints`` the run is saved every ``every`` steps and at every
    epoch end, and with ``resume`` it continues from the latest checkpoint exactly.
    A NaN or infinite loss or gradient stops it with a :class:`NumericalError`
    before the update, so nothing saved ever holds a diverged state.
    """
    if config.patience is not None and valid is None:
        raise ConfigError("early stopping (patience) needs validation data")
    try:
        return _Run(model, train, optimizer, config, rng, valid).run()
    finally:
        if config.grad_log is not None:
            config.grad_log.close()


class _Run:
    """One training run: the loop of :func:`fit`, and all it needs to stop and resume."""

    def __init__(self, model, train, optimizer, config, rng, valid) -> None:
        self.model, self.train, self.valid = model, train, valid
        self.optimizer, self.config, self.rng = optimizer, config, rng
        self.history = History(monitor=config.monitor)
        self.p = Progress()
        self.best_weights: list[np.ndarray] | None = None
        self.seconds_before = 0.0  # trained before this process resumed the run
        self.group = config.group
        self.writes = self.group is None or self.group.rank == 0  # rank 0 prints and saves
        self.verbose = config.verbose if self.writes else 0

    def run(self) -> History:
        config, ck = self.config, self.config.checkpoints
        if ck is not None and ck.resume:
            restore(self, ck)
            if ck.last_step is not None:
                self._resumable(ck)
            if self.verbose and ck.last_step is not None:
                p = self.p
                print(f"resuming at step {p.step}: epoch {p.epoch}, batch {p.batch}", flush=True)
        start = time.perf_counter()
        budget = None if config.max_minutes is None else 60.0 * config.max_minutes
        spent = self.seconds_before - self.p.budget_from  # of this budget, before a resume
        deadline = None if budget is None else start + budget - spent
        sign = -1.0 if config.monitor == "val_loss" else 1.0
        while self.p.stopped is None and self.p.epoch <= config.epochs:
            t0 = time.perf_counter()
            record, out_of_time = self._epoch(deadline, start)
            if self.valid is not None:
                record.update(self._validate())
            record["seconds"] = time.perf_counter() - t0
            record["lr"] = self.optimizer.lr
            self.history.epochs.append(record)
            if self.verbose:
                print(epoch_line(record, config.epochs), flush=True)
            if self.valid is not None:
                self._judge(sign * self._monitored(record))
            past = self._agree(deadline is not None and time.perf_counter() > deadline)
            if out_of_time or (past and self.p.epoch < config.epochs):
                self.p.stopped = "time_budget"
            elif config.patience is not None and self.p.waited >= config.patience:
                self.p.stopped = "early_stopping"
            self.p.next_epoch()
            if ck is not None:
                self._save(ck, start)
        self.history.stopped = self.p.stopped or "epochs"
        self.history.best_epoch = self.p.best_epoch
        if config.restore_best and self.best_weights is not None:
            self.model.set_weights(self.best_weights)
        self.history.seconds = self.seconds_before + time.perf_counter() - start
        return self.history

    def _validate(self) -> dict[str, float]:
        """The validation figures of the epoch, ``val_<name>``: with ranks, rank 0's
        (over the whole set, as one process scores it), so every rank judges alike."""
        record: dict[str, float] = {}
        if self.writes:
            assert self.valid is not None
            record = {f"val_{k}": v for k, v in evaluate(self.model, self.valid).items()}
            if self.config.val_scores is not None:
                record.update({f"val_{k}": float(v) for k, v in self.config.val_scores().items()})
        return self._agree(record)

    def _save(self, ck: Checkpoints, start: float) -> None:
        """Checkpoint the run: rank 0 writes, holding the carried states of every
        rank's rows (gathered in rank order: the whole batch's, as one process's)."""
        carry = None
        if self.group is not None and hasattr(self.model, "carry_arrays"):
            carry = self.group.gather_rows(self.model.carry_arrays())
        if self.writes:
            save(self, ck, self.seconds_before + time.perf_counter() - start, carry)

    def _agree(self, value: Any) -> Any:
        """Rank 0's `value` on every rank (a decision no rank may take alone)."""
        return value if self.group is None else self.group.from_root(value)

    def _train_step(self, index: Any) -> tuple[StepResult, int, list[ParamSlot]]:
        """Forward and BPTT on the batch at `index`: its sums, its tokens, and the
        slots holding its gradient (with ranks: the whole global batch's, summed)."""
        if self.group is not None:
            return self.group.train_step(self.model, self.train, index, self.p.step)
        batch = self.train.batch(index)
        self.model.zero_grad()
        r = self.model.train_batch(batch)
        return r, batch.n_tokens, self.model.param_slots()

    def _resumable(self, ck: Checkpoints) -> None:
        """After a restore: a run its time budget ended continues under a new budget; a
        run that ended otherwise, its model saved, is refused (nothing to resume)."""
        p, config = self.p, self.config
        if p.stopped == "time_budget":
            p.stopped, p.budget_from = None, self.seconds_before
        if not ck.model_saved:  # killed before the model was saved: finish it
            return
        if p.stopped == "early_stopping":
            why = f"early stopping ended it after epoch {p.epoch - 1}; train without --resume"
        elif p.epoch > config.epochs:
            why = f"all {config.epochs} epochs are done; give more --epochs to train on"
        else:
            return
        raise ConfigError(f"{ck.directory}: nothing to resume: {why}")

    def _monitored(self, record: dict[str, float]) -> float:
        monitor = self.config.monitor
        if monitor == "val_accuracy" and monitor not in record:
            raise ConfigError(f"monitor={monitor!r}: this loss has no accuracy; use 'val_loss'")
        if monitor not in record:
            raise ConfigError(f"monitor={monitor!r}: val_scores gave no {monitor[4:]!r}")
        return record[monitor]

    def _judge(self, score: float) -> None:
        """Early stopping's bookkeeping after a validation: best weights, patience, lr."""
        p = self.p
        if p.best_score is None or score > p.best_score:
            p.best_score, p.waited, p.best_epoch = score, 0, p.epoch
            self.best_weights = self.model.get_weights()
        else:
            p.waited += 1
            if self.config.lr_decay is not None:  # a plateau: smaller steps from here on
                self.optimizer.lr *= self.config.lr_decay

    def _epoch(self, deadline: float | None, start: float) -> tuple[dict[str, float], bool]:
        """Train the epoch under way from where it stands; its record, and whether the
        time budget cut it short."""
        config, p, ck = self.config, self.p, self.config.checkpoints
        if p.batch == 0:
            p.epoch_rng = self.rng.bit_generator.state
        else:  # resumed part-way: the same shuffle again, then on from the next batch
            self.rng.bit_generator.state = p.epoch_rng
        batches = self.train.batches(config.batch_size, rng=self.rng, bucket=config.bucket)
        bar = progress_bar(len(batches), p.epoch, config.epochs, self.verbose)
        t0, sums, out_of_time = time.perf_counter(), p.sums, False
        tokens_before = sums["tokens"]  # trained before a resume part-way through
        for i in range(p.batch, len(batches)):
            r, tokens, slots = self._train_step(batches[i])
            self._update(slots, r.loss_sum, i + 1)
            for key, value in (("loss_sum", r.loss_sum), ("correct", r.correct),
                               ("count", r.count), ("seqs", r.n_sequences),
                               ("tokens", tokens)):  # fmt: skip
                sums[key] += value
            p.batch, p.step = i + 1, p.step + 1
            if bar is not None:
                show_batch(bar, sums, time.perf_counter() - t0)
            late = deadline is not None and self._agree(time.perf_counter() > deadline)
            if late and i + 1 < len(batches):
                out_of_time = True
                break
            if ck is not None and ck.every and p.step % ck.every == 0 and i + 1 < len(batches):
                self._save(ck, start)
        if bar is not None:
            bar.close()
        record = {"epoch": p.epoch, "loss": sums["loss_sum"] / max(sums["seqs"], 1)}
        if out_of_time:  # NOTE: recorded, so a resumed run's history still shows it
            record["cut_after"], record["batches"] = p.batch, len(batches)
        if sums["count"]:
            record["accuracy"] = sums["correct"] / sums["count"]
        elapsed = max(time.perf_counter() - t0, 1e-9)
        record["tokens_per_s"] = (sums["tokens"] - tokens_before) / elapsed
        return record, out_of_time

    def _update(self, slots: list[ParamSlot], loss_sum: float, batch: int) -> None:
        """Check, clip and apply one step's gradients (logging their norms if asked)."""
        config = self.config
        log = config.grad_log if self.writes else None  # the norms are alike on every rank
        grads = [g for _, _, g, _ in slots]
        rows = [r for _, _, _, r in slots]
        norm = before = global_norm(grads, rows)
        if not (math.isfinite(loss_sum) and math.isfinite(norm)):
            raise diverged(self, slots, loss_sum, norm, batch)
        norms = param_norms(slots) if log is not None else {}  # before clipping changes them
        if config.clip_value is not None:
            clip_by_value(grads, config.clip_value)
            norm = global_norm(grads, rows)
        if log is not None:  # clipped: by value (the norm moved), or by the global norm
            clipped = norm != before or (config.clip_norm is not None and norm > config.clip_norm)
            log.write(self.p.step + 1, self.p.epoch, batch, before, clipped, norms)
        if config.clip_norm is not None:
            clip_by_global_norm(grads, config.clip_norm, rows, norm=norm)
        self.optimizer.step(slots)


def diverged(run: _Run, slots: list[ParamSlot], loss_sum: float, norm: float, batch: int):
    """The NumericalError of a step whose loss or gradient is NaN or infinite."""
    p, ck = run.p, run.config.checkpoints
    norms = {key: float(np.sqrt(np.vdot(g, g))) for key, _, g, _ in slots}
    worst = max(norms, key=lambda k: math.inf if math.isnan(norms[k]) else norms[k])
    what = (
        f"the loss is {loss_sum}" if not math.isfinite(loss_sum) else f"the gradient norm is {norm}"
    )
    kept = "nothing was saved from this step"
    if ck is not None and ck.last_step is not None:
        kept = f"the last good checkpoint (step {ck.last_step}) is kept in {ck.directory}"
    return NumericalError(
        f"training diverged at step {p.step + 1} (epoch {p.epoch}, batch {batch}): {what}; "
        f"the largest gradient is {worst!r}'s, norm {norms[worst]:.3g}; {kept}; "
        "try --clip 1 (a smaller global-norm clip) or a lower --lr"
    )
