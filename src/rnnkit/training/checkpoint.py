"""Checkpoints: a training run saved often enough to lose little, and resumed exactly.

A checkpoint holds everything the next step depends on: the weights, the optimizer's
moments and step count, the state of every random generator (the shuffling one and
each layer's dropout), where the run is (epoch, batch, step, the sums of the epoch
under way, the epochs done), early stopping's best weights and patience, and any
state carried from batch to batch (truncated BPTT). Resumed from it, a run computes
the same numbers as one never stopped, bit for bit (same seed, data and threads).

::

    MODEL_DIR/checkpoint/
      latest.json                  {"step": 120, "dir": "step-00000120"}, written last
      step-00000120/
        state.json                 progress, generator states, optimizer scalars
        weights.safetensors        the weights now
        optimizer.safetensors      the optimizer's per-parameter state
        best.safetensors           the best validation epoch's weights (when there is one)
        carry.safetensors          states carried between batches (when there are any)

A new checkpoint is written to its own ``step-*`` folder, each file atomically and
synced, and only then does ``latest.json`` point at it (one atomic rename); older
folders are removed after that. A crash at any moment therefore leaves the previous
checkpoint whole. Nothing is unpickled: JSON and safetensors only.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rnnkit.errors import ConfigError, ModelFileError, NumericalError, RnnkitError
from rnnkit.io import (
    atomic_write_bytes,
    atomic_write_json,
    decode_weights,
    encode_weights,
    read_json,
)
from rnnkit.io.atomic import fsync_directory, read_file
from rnnkit.io.integrity import digest

__all__ = [
    "Checkpoints",
    "Progress",
    "generator_states",
    "model_generators",
    "restore",
    "save",
    "set_generator_states",
]

Array = np.ndarray
LATEST = "latest.json"
STEP_DIR = re.compile(r"step-\d{8}")
ARRAY_FILES = ("weights", "optimizer", "best", "carry")


@dataclass
class Checkpoints:
    """Where a run keeps its checkpoints, how often, and whether it starts from one.

    Parameters
    ----------
    directory : path
        Conventionally ``MODEL_DIR/checkpoint``; created on the first save.
    every : int, optional
        Also save every `every` optimizer steps (a checkpoint is always saved at the
        end of every epoch).
    resume : bool
        Continue from the latest checkpoint in `directory` (a fresh start if there
        is none).
    identity : dict
        What must be the same for a run to resume from a checkpoint (settings, data);
        a checkpoint of another run is refused, naming each value that differs.
    model_saved : bool
        The run of the latest checkpoint ended and its model was saved: resuming it is
        refused unless there is more to train (more epochs, or a run its time budget
        ended, which resumes under a new budget).
    """

    directory: Path
    every: int | None = None
    resume: bool = False
    identity: dict[str, Any] = field(default_factory=dict)
    #: the step of the newest checkpoint saved or loaded by this run
    last_step: int | None = None
    #: the model that the latest checkpoint's run ended with is saved: resuming that
    #: run when it has ended (early stopping, all epochs done) is refused
    model_saved: bool = False

    def __post_init__(self) -> None:
        self.directory = Path(self.directory)
        if self.every is not None and not (isinstance(self.every, int) and self.every >= 1):
            raise ConfigError(f"checkpoint every {self.every!r} steps: give a positive integer")

    # -- writing -------------------------------------------------------------------
    def save(self, state: dict[str, Any], arrays: dict[str, dict[str, Array]]) -> Path:
        """Write one checkpoint (see the module docstring); returns its folder."""
        step = int(state["step"])
        name = f"step-{step:08d}"
        target = self.directory / name
        self.directory.mkdir(parents=True, exist_ok=True)
        if target.exists():  # a checkpoint of the same step that was never pointed at
            shutil.rmtree(target)
        target.mkdir()
        sums = {}
        for kind, tensors in arrays.items():
            if tensors:
                path = target / f"{kind}.safetensors"
                data = encode_weights(path, tensors)
                atomic_write_bytes(path, data)
                sums[path.name] = digest(data)
        atomic_write_json(
            target / "state.json", {**state, "identity": self.identity, "sha256": sums}
        )
        fsync_directory(target)
        atomic_write_json(self.directory / LATEST, {"step": step, "dir": name})
        for old in self._step_dirs():
            if old.name != name:
                shutil.rmtree(old, ignore_errors=True)
        self.last_step = step
        return target

    def remove(self) -> None:
        """Delete the checkpoint folder. ``latest.json`` goes first, so a removal cut
        short leaves no checkpoint to resume from rather than a damaged one."""
        (self.directory / LATEST).unlink(missing_ok=True)
        shutil.rmtree(self.directory, ignore_errors=True)
        self.last_step = None

    def _step_dirs(self) -> Iterator[Path]:
        if self.directory.is_dir():
            for p in self.directory.iterdir():
                if p.is_dir() and STEP_DIR.fullmatch(p.name):
                    yield p

    # -- reading -------------------------------------------------------------------
    def load(self) -> tuple[dict[str, Any], dict[str, dict[str, Array]]] | None:
        """The latest checkpoint's state and arrays, or None if there is none.

        ModelFileError if it is damaged; ConfigError if another run wrote it.
        """
        latest = self.directory / LATEST
        if not latest.is_file():
            return None
        pointer = read_json(latest)
        name = pointer.get("dir") if isinstance(pointer, dict) else None
        if not isinstance(name, str) or not STEP_DIR.fullmatch(name):
            raise ModelFileError(f"{latest}: 'dir' must name a step-NNNNNNNN folder")
        folder = self.directory / name
        state = read_json(folder / "state.json")
        if not isinstance(state, dict) or not isinstance(state.get("step"), int):
            raise ModelFileError(f"{folder / 'state.json'}: not a checkpoint state")
        self._check_identity(state.get("identity"), folder)
        sums = state.get("sha256")
        if not isinstance(sums, dict):
            raise ModelFileError(f"{folder / 'state.json'}: no 'sha256' record of its files")
        arrays: dict[str, dict[str, Array]] = {}
        for kind in ARRAY_FILES:
            path = folder / f"{kind}.safetensors"
            arrays[kind] = {}
            if path.name in sums:
                data = read_file(path, "a checkpoint file", ModelFileError)
                if digest(data) != sums[path.name]:
                    raise ModelFileError(
                        f"{path}: damaged since it was saved (its SHA-256 differs)"
                    )
                arrays[kind] = decode_weights(data, path)
        self.last_step = state["step"]
        return state, arrays

    def _check_identity(self, saved: Any, folder: Path) -> None:
        if saved == self.identity:
            return
        changes = "; ".join(
            f"{key}: {old!r} there, {new!r} now"
            for key, old, new in _differences(saved, self.identity)
        )
        raise ConfigError(
            f"{folder}: the checkpoint is of another run ({changes}); "
            "train without --resume, or into another --out"
        )


def _differences(saved: Any, now: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """(key, value there, value now) of each entry that differs; two mappings under one
    key (the settings) are compared entry by entry, so only what changed is named."""
    saved = saved if isinstance(saved, dict) else {}
    out = []
    for key in sorted(set(saved) | set(now)):
        old, new = saved.get(key), now.get(key)
        if old == new:
            continue
        if isinstance(old, dict) and isinstance(new, dict):
            out += _differences(old, new)
        else:
            out.append((key, old, new))
    return out


def _zero_sums() -> dict[str, float]:
    return {"loss_sum": 0.0, "correct": 0, "count": 0, "seqs": 0, "tokens": 0}


@dataclass
class Progress:
    """Where a run stands, as JSON: with a checkpoint's arrays, all a resume needs."""

    epoch: int = 1  # the epoch under way (1-based)
    batch: int = 0  # its batches done
    step: int = 0  # optimizer steps done in all
    sums: dict[str, float] = field(default_factory=_zero_sums)  # of the epoch under way
    epoch_rng: dict[str, Any] | None = None  # the shuffling generator as the epoch began
    best_score: float | None = None  # early stopping: the best monitored figure (signed)
    best_epoch: int | None = None
    waited: int = 0  # epochs since the best
    stopped: str | None = None  # "early_stopping" or "time_budget" once the run has ended
    budget_from: float = 0.0  # training seconds when the time budget began (0, or a resume's)

    def next_epoch(self) -> None:
        self.epoch, self.batch, self.sums = self.epoch + 1, 0, _zero_sums()


def save(run: Any, ck: Checkpoints, seconds: float, carry: dict[str, Array] | None = None) -> None:
    """Checkpoint a training run (the trainer's ``_Run``) as it stands after a step;
    `carry` replaces the model's carried states (those of every rank, gathered)."""
    weights = run.model.get_weights()
    if not all(np.isfinite(w).all() for w in weights):
        raise NumericalError(
            f"training diverged at step {run.p.step}: a weight is NaN or infinite; the last "
            f"good checkpoint is kept in {ck.directory}; try --clip 1 or a lower --lr"
        )
    own_carry = getattr(run.model, "carry_arrays", None)
    state = {
        "format": "rnnkit-checkpoint",
        "step": run.p.step,
        "progress": asdict(run.p),
        "history": run.history.epochs,
        "seconds": seconds,
        "rng": run.rng.bit_generator.state,
        "generators": generator_states(run.model),
        "optimizer": {**run.optimizer.get_config(), "iterations": run.optimizer.iterations},
    }
    arrays = {
        "weights": _numbered(weights),
        "optimizer": run.optimizer.state_arrays(),
        "best": _numbered(run.best_weights or []),
        "carry": carry if carry is not None else own_carry() if own_carry is not None else {},
    }
    ck.save(state, arrays)


def restore(run: Any, ck: Checkpoints) -> None:
    """Put a training run back where the latest checkpoint left it (nothing if none)."""
    found = ck.load()
    if found is None:
        return
    state, arrays = found
    where = f"{ck.directory}/step-{state['step']:08d}"
    model = run.model
    try:
        progress = Progress(**state["progress"])
        current = model.get_weights()
        weights = _unnumbered(arrays["weights"], current, where)
        best = _unnumbered(arrays["best"], current, where) if arrays["best"] else None
        shapes = {key: p.shape for key, p, _, _ in model.param_slots()}
        model.set_weights(weights)
        run.optimizer.load_state(state["optimizer"], arrays["optimizer"], shapes)
        run.rng.bit_generator.state = state["rng"]
        set_generator_states(model, state["generators"], where)
        if arrays["carry"]:  # with ranks: each takes the rows of its share
            group = getattr(run, "group", None)
            carry = arrays["carry"] if group is None else group.own_rows(arrays["carry"])
            model.load_carry_arrays(carry)
        run.history.epochs = list(state["history"])
        run.seconds_before = float(state["seconds"])
    except RnnkitError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ModelFileError(
            f"{where}: a damaged checkpoint ({type(exc).__name__}: {exc})"
        ) from None
    run.p, run.best_weights = progress, best


def _numbered(arrays: list[Array]) -> dict[str, Array]:
    return {f"w{i:04d}": a for i, a in enumerate(arrays)}


def _unnumbered(named: dict[str, Array], like: list[Array], where: str) -> list[Array]:
    """The arrays of :func:`_numbered` in order, checked against the model's."""
    keys = [f"w{i:04d}" for i in range(len(like))]
    if sorted(named) != keys:
        raise ModelFileError(f"{where}: {len(named)} weight arrays, the model has {len(like)}")
    out = [named[k] for k in keys]
    for k, a, b in zip(keys, out, like, strict=True):
        if a.shape != b.shape or a.dtype != b.dtype:
            raise ModelFileError(
                f"{where}: {k} is {a.dtype} {a.shape}, the model's {b.dtype} {b.shape}"
            )
    return out


def model_generators(model: Any) -> list[np.random.Generator]:
    """Every random Generator inside a model (dropout masks, scheduled sampling), in a
    fixed order: the attributes of rnnkit objects, walked by name, lists in order."""
    found: list[np.random.Generator] = []
    seen: set[int] = set()

    def walk(obj: Any) -> None:
        if id(obj) in seen or isinstance(obj, np.ndarray | str | bytes | int | float):
            return
        seen.add(id(obj))
        if isinstance(obj, np.random.Generator):
            found.append(obj)
        elif isinstance(obj, list | tuple):
            for item in obj:
                walk(item)
        elif isinstance(obj, dict):
            for key in sorted(obj, key=str):
                walk(obj[key])
        elif type(obj).__module__.startswith("rnnkit.") and hasattr(obj, "__dict__"):
            for key in sorted(vars(obj)):
                walk(vars(obj)[key])

    walk(model)
    return found


def generator_states(model: Any) -> list[dict[str, Any]]:
    return [dict(g.bit_generator.state) for g in model_generators(model)]


def set_generator_states(model: Any, states: Any, where: str) -> None:
    gens = model_generators(model)
    if not isinstance(states, list) or len(states) != len(gens):
        raise ModelFileError(f"{where}: the checkpoint's random generators do not fit the model")
    for g, s in zip(gens, states, strict=True):
        try:
            g.bit_generator.state = s
        except (TypeError, ValueError, KeyError) as exc:
            raise ModelFileError(f"{where}: a generator state is malformed ({exc})") from None
