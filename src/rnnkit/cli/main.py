"""The ``rnnkit`` command: one module per verb, each with ``add_parser`` and ``run``.

Exit codes: 0 success; 2 a user's mistake (bad input, bad flags), reported as one
line ``error: ...`` on stderr with no traceback; 1 an internal failure.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from rnnkit.cli import (
    bench,
    demo,
    diagnose,
    evaluate,
    explore,
    export,
    generate,
    import_model,
    predict,
    report,
    summary,
    tag,
    trace,
    train,
    translate,
)
from rnnkit.errors import RnnkitError
from rnnkit.version import __version__

__all__ = ["VERBS", "build_parser", "main"]

#: the verbs, in the order ``rnnkit --help`` lists them
VERBS = (
    demo,
    train,
    evaluate,
    tag,
    predict,
    summary,
    generate,
    translate,
    trace,
    diagnose,
    report,
    explore,
    export,
    import_model,
    bench,
)


class UsageError(Exception):
    """A bad command line (unknown verb, missing or malformed flag)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):
        raise UsageError(f"{self.prog}: {message}")


def build_parser() -> argparse.ArgumentParser:
    """The parser of every verb; ``args.run(args)`` runs the verb given."""
    p = _Parser(prog="rnnkit", description="Recurrent neural networks: train, evaluate, use.")
    p.add_argument("--version", action="version", version=f"rnnkit {__version__}")
    sub = p.add_subparsers(
        dest="verb", required=True, parser_class=_Parser, help="what to do (VERB --help: its flags)"
    )
    for verb in VERBS:
        verb.add_parser(sub).set_defaults(run=verb.run)
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
