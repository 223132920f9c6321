"""The ``rnnkit`` command.

Exit codes: 0 success; 2 a user's mistake (bad input, bad flags), reported as one
line ``error: ...`` on stderr with no traceback; 1 an internal failure.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from rnnkit import __version__
from rnnkit.cli import bench, commands, demo, diagnose, language, report, seq2seq, tagging, trace
from rnnkit.cli.data_flags import add_format_flags
from rnnkit.cli.train_flags import add_train_flags
from rnnkit.data import FORMATS, FrameSet
from rnnkit.data.formats import TASKS
from rnnkit.errors import RnnkitError

__all__ = ["main"]


class UsageError(Exception):
    """A bad command line (unknown verb, missing or malformed flag)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):
        raise UsageError(f"{self.prog}: {message}")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="rnnkit", description="Recurrent neural networks: train, evaluate, use.")
    p.add_argument("--version", action="version", version=f"rnnkit {__version__}")
    sub = p.add_subparsers(dest="verb", required=True, parser_class=_Parser)

    d = sub.add_parser("demo", help="train a sentiment RNN on the bundled MR reviews")
    d.add_argument("--out", default="rnnkit-demo-model", help="model directory to write")
    d.add_argument("--epochs", type=int, default=30)
    d.add_argument("--seed", type=int, default=0)
    d.add_argument("--max-minutes", type=float, default=4.0)
    d.set_defaults(run=demo.run)

    t = sub.add_parser("train", help="train a model and save its directory")
    t.add_argument("--task", required=True, choices=list(TASKS))
    t.add_argument("--data", required=True, help="training file")
    t.add_argument("--valid", help="validation file (early stopping, best epoch)")
    t.add_argument(
        "--valid-split",
        type=float,
        default=0.1,
        help="without --valid, hold out this fraction of --data (lm: its last part; 0 = none)",
    )
    t.add_argument("--test", help="also evaluate on this file after training")
    t.add_argument("--out", required=True, help="model directory to write")
    t.add_argument(
        "--model",
        choices=["rnn", "bow-nb"],
        default="rnn",
        help="the recurrent network, or the bag-of-words Naive Bayes baseline",
    )
    add_train_flags(t)
    t.add_argument("--plot", action="store_true", help="write confusion-matrix PNGs (matplotlib)")
    add_format_flags(t)
    t.set_defaults(run=commands.train)

    e = sub.add_parser("evaluate", help="score a saved model on labelled data")
    e.add_argument("model_dir")
    e.add_argument("--data", required=True)
    e.add_argument("--json", action="store_true", help="print one JSON object")
    e.add_argument("--plot", metavar="PNG", help="write the confusion matrix as a PNG")
    e.add_argument("--beam", type=int, help="seq2seq: beam width (default: the model's)")
    add_format_flags(e)
    e.set_defaults(run=commands.evaluate)

    tg = sub.add_parser("tag", help="tag the tokens of sentences with a saved tagger")
    tg.add_argument("model_dir")
    tg.add_argument("texts", nargs="+", metavar="TEXT", help="a sentence, tokens split on spaces")
    tg.add_argument("--json", action="store_true")
    tg.set_defaults(run=tagging.tag)

    pr = sub.add_parser(
        "predict", help="classify texts, or predict for sequences of a frames or npz file"
    )
    pr.add_argument("model_dir")
    pr.add_argument("texts", nargs="*", metavar="TEXT")
    pr.add_argument("--data", help="frames CSV or npz file (models of real-valued inputs)")
    pr.add_argument("--row", type=int, action="append", help="--data: the N-th sequence (from 0)")
    pr.add_argument("--id", action="append", help="--data: the sequence with this id")
    real_valued = [f.name for f in FORMATS if f.returns is FrameSet]
    pr.add_argument("--format", choices=real_valued, help="--data: its format")
    pr.add_argument("--encoding", default="utf-8", help="--data: text encoding (utf-8)")
    pr.add_argument("--json", action="store_true")
    pr.set_defaults(run=commands.predict)

    s = sub.add_parser("summary", help="show a saved model's layers and settings")
    s.add_argument("model_dir")
    s.set_defaults(run=commands.summary)

    language.add_parser(sub)
    seq2seq.add_parser(sub)
    trace.add_parser(sub)
    diagnose.add_parser(sub)
    report.add_parser(sub)
    bench.add_parser(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    try:
        argv = sys.argv[1:] if argv is None else list(argv)
        args = build_parser().parse_args(argv)
        args.argv = argv
        return int(args.run(args) or 0)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except RnnkitError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the reader of our output went away (| head): not an error
        sys.stderr.close()
        return 0
    except OSError as exc:  # a file we could not read or write
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
