"""The ``rnnkit explore`` verb: a local page on which to type a text and watch the network.

``rnnkit explore DIR [--port N]`` loads a saved classifier, tagger, language model or
seq2seq model; ``rnnkit explore --toy`` the course's 31-parameter example network. It
serves one page on http://127.0.0.1:PORT/ (this machine only; port 0, the default,
picks a free one), prints that address, and answers until Ctrl-C. As the learner types,
the page asks the server for the numbers of the text, computed by rnnkit itself
(:mod:`rnnkit.cli.explore_views`: the forward trace, the task's outputs, the gradient
through time), and draws them: the tokens, each state and gate as a heat strip, the
equation under the pointer with its numbers, the output, and ||dL/dh_t|| by distance
from the end. The routes are :mod:`rnnkit.cli.explore_server`'s.
"""

from __future__ import annotations

import argparse
from typing import Any

from rnnkit.cli.explore_server import make_server
from rnnkit.cli.explore_views import open_explorer, toy_explorer
from rnnkit.errors import ConfigError

__all__ = ["add_parser", "run"]


def add_parser(sub: Any) -> argparse.ArgumentParser:
    """The ``explore`` verb."""
    p = sub.add_parser("explore", help="a local page: type a text, watch the network think")
    p.add_argument("model_dir", nargs="?", metavar="DIR", help="a saved model directory")
    p.add_argument(
        "--toy", action="store_true", help="the course's example network (31 parameters)"
    )
    p.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: a free one)")
    return p


def run(args: argparse.Namespace) -> int:
    """``rnnkit explore DIR`` or ``rnnkit explore --toy``: serve until Ctrl-C."""
    if args.toy and args.model_dir is not None:
        raise ConfigError(f"give a model directory or --toy, not both ({args.model_dir})")
    if not args.toy and args.model_dir is None:
        raise ConfigError("give a model directory to explore, or --toy")
    explorer = toy_explorer() if args.toy else open_explorer(args.model_dir)
    server = make_server(explorer, args.port)
    print(f"rnnkit explore: {explorer.name} ({explorer.task}) on {server.url}", flush=True)
    print("open it in a browser; Ctrl-C stops", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("stopped", flush=True)
    finally:
        server.server_close()
    return 0
