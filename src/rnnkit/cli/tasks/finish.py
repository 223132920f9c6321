"""What every ``rnnkit train`` ends with: the model saved, its curves, its reports."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rnnkit.cli.outputs import draw_curves, run_record, write_evaluation
from rnnkit.metrics import ClassificationReport, LabellingReport

__all__ = ["finish_training", "print_report"]


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
    seconds = time.perf_counter() - started
    if getattr(model, "truncated_", 0):
        limit = model.settings["max_len"]
        print(
            f"warning: {model.truncated_:,} training sequences were longer than {limit} "
            f"steps and were cut to their first {limit} (--max-len)",
            file=sys.stderr,
        )
    model.save(args.out, extra=run_record(args, seconds))
    print(f"trained in {seconds:.1f}s; model saved to {args.out}")
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


def print_report(report: ClassificationReport | LabellingReport, png: Path | None = None) -> None:
    """The report's tables, and its confusion matrix as a PNG when `png` is given."""
    print(report.format())
    if png is not None:
        from rnnkit.viz import plot_confusion_matrix

        plot_confusion_matrix(report.cm, report.labels, png)
        print(f"confusion matrix plot: {png}")
