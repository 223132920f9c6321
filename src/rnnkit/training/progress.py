"""What the training loop shows while it runs: a bar per epoch, a line after it.

The bar (tqdm) appears only on a terminal; the line is printed after every epoch
whatever stdout is, so a log file holds the run's figures:

>>> record = {"epoch": 3, "loss": 0.41, "val_accuracy": 0.88, "val_entity_f1": 0.412,
...           "tokens_per_s": 12000.0, "seconds": 1.25}
>>> print(epoch_line(record, epochs=20))
epoch   3/20  loss 0.4100  val_acc 0.8800  val_entity_f1 0.4120  12,000 tok/s  1.2s

An epoch the time budget cut short says so, with the batches it trained:

>>> print(epoch_line({"epoch": 12, "loss": 0.38, "cut_after": 40, "batches": 106,
...                   "tokens_per_s": 11000.0, "seconds": 0.5}, epochs=60))
epoch  12/60 (cut: 40/106 batches)  loss 0.3800  11,000 tok/s  0.5s
"""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["epoch_line", "progress_bar", "show_batch"]

#: the loop's own validation figures, shown under these names; any other ``val_*``
#: figure (from FitConfig.val_scores) is shown under its own
SHOWN = (("accuracy", "acc"), ("val_loss", "val_loss"), ("val_accuracy", "val_acc"))


def epoch_line(r: dict[str, float], epochs: int) -> str:
    """One epoch's record as the line printed after it (see the module docstring)."""
    line = f"epoch {int(r['epoch']):>3}/{epochs}"
    if "cut_after" in r:
        line += f" (cut: {int(r['cut_after'])}/{int(r['batches'])} batches)"
    line += f"  loss {r['loss']:.4f}"
    for key, name in SHOWN:
        if key in r:
            line += f"  {name} {r[key]:.4f}"
    for key in r:
        if key.startswith("val_") and key not in ("val_loss", "val_accuracy"):
            line += f"  {key} {r[key]:.4f}"
    return line + f"  {r['tokens_per_s']:,.0f} tok/s  {r.get('seconds', 0.0):.1f}s"


def progress_bar(total: int, epoch: int, epochs: int, verbose: int) -> Any:
    """A tqdm bar of `total` batches for `epoch`, or None when quiet or not on a terminal."""
    if not verbose or not sys.stdout.isatty():
        return None  # quiet when stdout is a file or a pipe
    from tqdm import tqdm

    return tqdm(
        total=total,
        desc=f"epoch {epoch}/{epochs}",
        leave=False,
        file=sys.stdout,
        dynamic_ncols=True,
    )


def show_batch(bar: Any, sums: dict[str, float], elapsed: float) -> None:
    """Advance `bar` by one batch, showing the epoch's running loss, accuracy, speed."""
    shown = {"loss": f"{sums['loss_sum'] / max(sums['seqs'], 1):.4f}"}
    if sums["count"]:
        shown["acc"] = f"{sums['correct'] / sums['count']:.3f}"
    bar.set_postfix(shown, tok_s=f"{sums['tokens'] / max(elapsed, 1e-9):,.0f}", refresh=False)
    bar.update(1)
