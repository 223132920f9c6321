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
from rnnkit.data import FORMATS, FrameSet
from rnnkit.errors import RnnkitError

__all__ = ["main"]


class UsageError(Exception):
    """A bad command line (unknown verb, missing or malformed flag)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):
        raise UsageError(f"{self.prog}: {message}")


def _format_flags(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("data format")
    g.add_argument(
        "--format",
        choices=[f.name for f in FORMATS],
        default=None,
        help="data format (inferred from the file name and header when omitted)",
    )
    g.add_argument("--text-col", default="text", help="table: text column, name or 0-based index")
    g.add_argument("--label-col", default="label", help="table: label column, name or index")
    g.add_argument("--no-header", action="store_true", help="table: the file has no header row")
    g.add_argument(
        "--delimiter",
        default=None,
        help="table: field separator (tab for .tsv/.txt, comma for .csv)",
    )
    g.add_argument(
        "--tag-col", default=None, choices=["upos", "xpos"], help="conllu: the tag column (upos)"
    )
    g.add_argument(
        "--source-level", choices=["char", "word"], help="pairs: how sources split (--level)"
    )
    g.add_argument(
        "--target-level", choices=["char", "word"], help="pairs: how targets split (--level)"
    )
    g.add_argument("--encoding", default="utf-8", help="text encoding of the file (utf-8)")


def _model_flags(t: argparse.ArgumentParser) -> None:
    """Model and training flags; left out, each takes the task model's default."""
    m = t.add_argument_group("model (defaults: the task model's)")
    m.add_argument("--cell", choices=["rnn", "lstm", "gru"], help="recurrent cell (rnn)")
    m.add_argument("--hidden", type=int, help="state size d, per direction")
    m.add_argument("--layers", type=int, help="stacked recurrent layers (1-6)")
    m.add_argument(
        "--bidirectional",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="read each sequence in both directions",
    )
    m.add_argument("--activation", choices=["tanh", "relu", "sigmoid"], help="f of the cell")
    m.add_argument(
        "--pooling",
        choices=["mean", "last", "max"],
        help="classify: what the output reads, the mean of the states, h_T or the max",
    )
    inp = m.add_mutually_exclusive_group()
    inp.add_argument("--embed", type=int, help="embedding size")
    inp.add_argument("--one-hot", action="store_true", help="one-hot inputs, no embedding")
    m.add_argument(
        "--level",
        choices=["word", "char"],
        help="classify, lm, seq2seq (both sides): tokens are words or characters",
    )
    m.add_argument("--min-freq", type=int, help="rarer tokens become <unk>")
    m.add_argument(
        "--standardize",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="frames: scale each feature by its training mean and std (default)",
    )
    m.add_argument(
        "--forecast",
        type=int,
        metavar="H",
        help="regress: learn to predict the frame H steps ahead from the frames so far",
    )
    m.add_argument("--bptt", type=int, help="lm: steps per truncated-BPTT window (64)")
    m.add_argument(
        "--stateful",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="lm: carry the state from window to window (default), or start each from zero",
    )
    s2s = t.add_argument_group("seq2seq (encoder-decoder)")
    s2s.add_argument(
        "--attention",
        choices=["dot", "general", "additive", "none"],
        help="how the decoder scores the encoder outputs (dot)",
    )
    s2s.add_argument("--decoder-cell", choices=["rnn", "lstm", "gru"], help="(the encoder's)")
    s2s.add_argument("--decoder-hidden", type=int, help="(the encoder's output size)")
    s2s.add_argument("--decoder-layers", type=int, help="stacked decoder layers (1)")
    s2s.add_argument(
        "--sampling-ratio",
        type=float,
        help="scheduled sampling: share of the decoder's own predictions fed back (0)",
    )
    s2s.add_argument("--beam", type=int, help="beam width for decoding (1 = greedy)")
    s2s.add_argument("--length-penalty", type=float, help="beam: log p / length ** X (1.0)")
    m.add_argument("--max-vocab", type=int)
    m.add_argument("--dropout", type=float)
    m.add_argument("--embed-dropout", type=float)
    m.add_argument(
        "--word-dropout",
        type=float,
        help="tag: training words replaced by <unk> with this probability",
    )
    o = t.add_argument_group("training")
    o.add_argument("--epochs", type=int)
    o.add_argument("--batch-size", type=int)
    o.add_argument("--lr", type=float)
    o.add_argument(
        "--lr-decay",
        type=float,
        help="lm: multiply lr by this after an epoch with no better validation loss (0 = off)",
    )
    o.add_argument("--optimizer", choices=["adam", "sgd", "momentum", "adagrad"])
    o.add_argument("--clip", type=float, help="global gradient-norm clip (0 = off)")
    o.add_argument("--patience", type=int, help="early-stopping patience (epochs)")
    o.add_argument("--seed", type=int, default=0)
    o.add_argument("--max-minutes", type=float, help="training time budget")
    o.add_argument(
        "--max-len",
        type=int,
        metavar="N",
        help="classify, tag, regress: cut training sequences longer than N steps (counted)",
    )
    o.add_argument(
        "--checkpoint-every",
        type=int,
        metavar="N",
        help="also checkpoint every N steps into OUT/checkpoint (always: every epoch end)",
    )
    o.add_argument(
        "--resume",
        action="store_true",
        help="continue the run in OUT/checkpoint exactly where it stopped (same flags)",
    )
    o.add_argument(
        "--log-grad-norms",
        action="store_true",
        help="write every step's gradient norms (global, clipped or not, per parameter) "
        "to OUT/grad_norms.csv",
    )


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
    t.add_argument("--task", required=True, choices=["classify", "tag", "lm", "seq2seq", "regress"])
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
    _model_flags(t)
    t.add_argument("--plot", action="store_true", help="write confusion-matrix PNGs (matplotlib)")
    _format_flags(t)
    t.set_defaults(run=commands.train)

    e = sub.add_parser("evaluate", help="score a saved model on labelled data")
    e.add_argument("model_dir")
    e.add_argument("--data", required=True)
    e.add_argument("--json", action="store_true", help="print one JSON object")
    e.add_argument("--plot", metavar="PNG", help="write the confusion matrix as a PNG")
    e.add_argument("--beam", type=int, help="seq2seq: beam width (default: the model's)")
    _format_flags(e)
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
