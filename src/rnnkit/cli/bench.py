"""``rnnkit bench``: training speed, memory and generation latency against PyTorch."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from rnnkit.bench import CONFIGS, BenchOptions, format_table, run_bench
from rnnkit.core.cells import cell_names
from rnnkit.io.atomic import atomic_write_text

__all__ = ["add_parser", "run"]


def add_parser(sub: Any) -> argparse.ArgumentParser:
    """The ``bench`` verb."""
    b = sub.add_parser("bench", help="time training and generation against PyTorch")
    b.add_argument("--quick", action="store_true", help="a small subset, fewer repeats")
    b.add_argument("--json", action="store_true", help="print one JSON object")
    b.add_argument("--out", metavar="FILE", help="also write the JSON result to FILE")
    b.add_argument(
        "--config", nargs="+", choices=[c.name for c in CONFIGS], help="configurations (all)"
    )
    b.add_argument("--cell", nargs="+", choices=cell_names(), help="cells (all)")
    b.add_argument("--threads", type=int, help="threads for both sides (all cores)")
    b.add_argument("--repeats", type=int, help="timed rounds per side (7; 3 with --quick)")
    b.add_argument("--keras", action="store_true", help="add a Keras (torch backend) column")
    b.add_argument("--no-torch", action="store_true", help="rnnkit alone")
    b.add_argument("--no-memory", action="store_true", help="skip the peak-memory processes")
    return b


def run(args: argparse.Namespace) -> int:
    """Run the benchmark; print its table, or its JSON with --json."""
    overrides: dict[str, object] = {"torch": not args.no_torch, "keras": args.keras}
    overrides["memory"] = not args.no_memory
    if args.config:
        overrides["configs"] = tuple(args.config)
    if args.cell:
        overrides["cells"] = tuple(args.cell)
    if args.threads is not None:
        overrides["threads"] = args.threads
    if args.repeats is not None:
        overrides["repeats"] = args.repeats
    opts = BenchOptions.quick(**overrides) if args.quick else BenchOptions(**overrides)  # type: ignore[arg-type]
    progress = None if args.json else (lambda line: print(line, file=sys.stderr, flush=True))
    result = run_bench(opts, progress)
    text = json.dumps(result, indent=1)
    if args.out:
        atomic_write_text(args.out, text + "\n")
    print(text if args.json else format_table(result))
    return 0
