"""What every ``rnnkit train`` ends with: why training stopped, the model saved, the
checkpoint kept or removed, its curves, its reports."""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rnnkit.cli.outputs import draw_curves, run_record, write_evaluation
from rnnkit.cli.ranks import writes
from rnnkit.metrics import ClassificationReport, LabellingReport
from rnnkit.training import Checkpoints, History

__all__ = ["finish_training", "print_report", "save_trained", "stop_line"]


def finish_training(
    args: argparse.Namespace,
    model: Any,
    started: float,
    valid: Any,
    test: Any,
    evaluate: Callable[[Any], Any],
) -> None:
    """Save the model and draw its curves, then report on the validation part and the
    --test file (printed, and recorded in OUT/evaluation.json).

    `evaluate` scores one part (a table, corpus or frame set with a ``path``); with
    --plot, a report that has a confusion matrix is also drawn beside the model.
    """
    if not writes(args):  # another rank of mpiexec: rank 0 saves and reports
        return
    seconds = time.perf_counter() - started
    if getattr(model, "truncated_", 0):
        limit = model.settings["max_len"]
        print(
            f"warning: {model.truncated_:,} training sequences were longer than {limit} "
            f"steps and were cut to their first {limit} (--max-len)",
            file=sys.stderr,
        )
    save_trained(args, model, seconds)
    if hasattr(model, "history_"):  # not the bag-of-words baseline: it has no epochs
        draw_curves(args.out, model.history_.to_dict(), args.task)
    held_out = "" if args.valid else f"{args.valid_split:.0%} held out of "
    parts = []
    for name, part, where in (("validation", valid, held_out), ("test", test, "")):
        if part is not None:
            report = evaluate(part)
            parts.append((name, f"{where}{part.path}", report))
            print(f"\n{name} ({where}{part.path}):")
            plot = args.plot and hasattr(report, "cm")
            print_report(report, Path(args.out) / f"confusion_{name}.png" if plot else None)
    write_evaluation(args.out, args.task, parts)


def save_trained(args: argparse.Namespace, model: Any, seconds: float, **extra: Any) -> None:
    """Say why training stopped, save the model (`extra`: more for config.json's
    training record), then remove OUT/checkpoint, or keep it when --keep-checkpoint
    is given or the time budget ended the run, saying which in one line.

    The checkpoint goes only once the model is saved: a run killed before that can
    still be resumed.
    """
    history: History | None = getattr(model, "history_", None)
    ck: Checkpoints | None = getattr(model, "checkpoints", None)
    by_budget = history is not None and history.stopped == "time_budget"
    if history is not None:
        print(stop_line(history, model.settings))
    kept = ck is not None and ck.last_step is not None
    keep = kept and (getattr(args, "keep_checkpoint", False) or by_budget)
    record = run_record(args, seconds)
    if keep and ck is not None:  # --resume then knows this model is where the run ended
        record["checkpoint_step"] = ck.last_step
    model.save(args.out, extra={**record, **extra})
    print(f"trained in {seconds:.1f}s; model saved to {args.out}")
    if ck is None or not kept:
        return
    if not keep:
        ck.remove()
        print("checkpoint removed (--keep-checkpoint keeps it for --resume)")
    elif by_budget:
        command = "rnnkit " + shlex.join(a for a in args.argv if a != "--resume")
        print(f"checkpoint kept: {command} --resume continues it")
    elif history is not None and history.stopped == "epochs":
        print(f"checkpoint kept in {ck.directory} (--resume with more --epochs trains on)")
    else:
        print(f"checkpoint kept in {ck.directory} (--keep-checkpoint)")


def stop_line(history: History, settings: dict[str, Any]) -> str:
    """One line: why training stopped, and which epoch's weights the model kept.

    >>> h = History(epochs=[{"epoch": e, "loss": 1.0} for e in (1, 2, 3, 4)], best_epoch=2,
    ...             monitor="val_entity_f1", stopped="early_stopping")
    >>> stop_line(h, {"epochs": 30})
    'stopped: no better val_entity_f1 for 2 epochs; kept epoch 2 of 4'
    """
    last = int(history.epochs[-1]["epoch"])
    kept = f"kept epoch {history.best_epoch}"
    if history.best_epoch is None:
        kept = f"kept epoch {last}, the last (no held-out data to choose by)"
    if history.stopped == "early_stopping":
        waited = last - (history.best_epoch or last)
        epochs = "epoch" if waited == 1 else "epochs"
        return f"stopped: no better {history.monitor} for {waited} {epochs}; {kept} of {last}"
    if history.stopped == "time_budget":
        budget = f"--max-minutes {settings.get('max_minutes') or 0:g} reached"
        cut = history.cut
        if cut is not None:
            where = f"during epoch {last} (cut after {cut[0]} of {cut[1]} batches)"
        else:
            where = f"after epoch {last} of {settings['epochs']}"
        return f"stopped: {budget} {where}; {kept}"
    return f"stopped: all {last} epochs done; {kept}"


def print_report(report: ClassificationReport | LabellingReport, png: Path | None = None) -> None:
    """The report's tables, and its confusion matrix as a PNG when `png` is given."""
    print(report.format())
    if png is not None:
        from rnnkit.viz import plot_confusion_matrix

        plot_confusion_matrix(report.cm, report.labels, png)
        print(f"confusion matrix plot: {png}")
