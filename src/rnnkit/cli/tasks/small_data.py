"""Training defaults that hold at every size of training set.

Without ``--valid``, ``rnnkit train`` holds out 10% of the training file to stop early
and keep the best epoch. On a few dozen sequences that part is three or four
sequences: its loss says almost nothing, yet it ends training after a handful of
optimizer steps (45 Japanese Vowels recordings, four held out: stopped after 31
epochs of two batches, 75% test accuracy; trained on all 45, 90%). So:

- below :data:`MIN_SPLIT` training sequences, the default split is not made: the
  model trains on every sequence and keeps its last epoch. A ``--valid-split`` given
  on the command line is always honoured.
- without validation data and without ``--epochs``, the default number of epochs
  grows so that training makes at least :data:`MIN_STEPS` optimizer steps, whatever
  the size (36 sequences in batches of 32: 100 epochs of two batches).

>>> plan = plan_training(36, 0.1, split_given=False, batch_size=32, epochs=60,
...                      epochs_given=False)
>>> plan.split, plan.epochs
(False, 100)
>>> print(plan.message)
36 training sequences: no validation split (fewer than 100); training 100 epochs ...
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["MIN_SPLIT", "MIN_STEPS", "TrainingPlan", "plan_training"]

#: the default held-out split is made only from at least this many training sequences
#: (10% of them is then at least 10 sequences)
MIN_SPLIT = 100
#: without validation, default epochs grow to give at least this many optimizer steps
MIN_STEPS = 200


@dataclass(frozen=True)
class TrainingPlan:
    """What training does with the data it has.

    Attributes
    ----------
    split : bool
        Whether to hold out ``--valid-split`` of the training sequences.
    epochs : int
        The number of epochs to train, at most.
    message : str or None
        One line for the training output when the defaults were changed, else None.
    """

    split: bool
    epochs: int
    message: str | None


def plan_training(
    n: int,
    valid_split: float,
    *,
    split_given: bool,
    batch_size: int,
    epochs: int,
    epochs_given: bool,
    has_valid: bool = False,
) -> TrainingPlan:
    """Decide the held-out split and the number of epochs for `n` training sequences.

    Parameters
    ----------
    n : int
        Training sequences in the file, before any split.
    valid_split : float
        The fraction to hold out (0: none).
    split_given : bool
        Whether ``--valid-split`` was on the command line (then it is honoured).
    batch_size, epochs : int
        The model's settings.
    epochs_given : bool
        Whether ``--epochs`` was on the command line (then it is honoured).
    has_valid : bool
        Whether a ``--valid`` file gives the validation data.
    """
    split = not has_valid and valid_split > 0 and (split_given or n >= MIN_SPLIT)
    notes = []
    if not has_valid and valid_split > 0 and not split:
        notes.append(f"no validation split (fewer than {MIN_SPLIT})")
    if has_valid or split or epochs_given:
        if not notes:
            return TrainingPlan(split, epochs, None)
        return TrainingPlan(split, epochs, f"{_count(n)}: {'; '.join(notes)}")
    batches = math.ceil(n / batch_size)
    wanted = max(epochs, math.ceil(MIN_STEPS / batches))
    if wanted > epochs or notes:
        of = f"{batches} batch{'es' if batches != 1 else ''}"
        notes.append(f"training {wanted} epochs of {of} (at least {MIN_STEPS} optimizer steps)")
    message = f"{_count(n)}: {'; '.join(notes)}" if notes else None
    return TrainingPlan(split, wanted, message)


def _count(n: int) -> str:
    return f"{n:,} training sequence{'s' if n != 1 else ''}"
