"""The local web server of ``rnnkit explore``: one page, its script and style, and JSON.

:func:`make_server` binds a :class:`ExploreServer` (the standard library's threading
HTTP server) to the loopback address 127.0.0.1 and nowhere else, on the given port (0:
a free one). It answers GET on its own routes only, and never reads a file named by a
request:

- ``/``, ``/explore.js``, ``/explore.css``: the page, shipped in the package
  (``rnnkit/cli/explore_page``);
- ``/api/model``: :meth:`Explorer.info <rnnkit.cli.explore_views.Explorer.info>`;
- ``/api/analyse?text=...``: :meth:`Explorer.analyse`, the numbers of one text;
- ``/api/step?text=...&section=I&t=N``: :meth:`Explorer.step`, every number of the
  trace's step N (from 1) of section I (from 0);
- ``/api/sample?text=...&temperature=X[&seed=N]``: one token drawn by a language model.

A text the model cannot read is answered with status 400 and ``{"error": "..."}`` (one
line, shown on the page); any other path with 404; a failure inside with 500 and a
one-line message, never a traceback. The page's Content-Security-Policy lets it load
nothing and ask nothing from anywhere but this server.
"""

from __future__ import annotations

import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, urlsplit

from rnnkit.cli.explore_views import Explorer
from rnnkit.errors import ConfigError, DataError, RnnkitError

__all__ = ["ASSETS", "LOOPBACK", "ExploreServer", "make_server"]

#: the only address the explorer listens on: this machine's loopback
LOOPBACK = "127.0.0.1"
#: route -> (file in rnnkit/cli/explore_page, content type)
ASSETS = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/explore.js": ("explore.js", "text/javascript; charset=utf-8"),
    "/explore.css": ("explore.css", "text/css; charset=utf-8"),
}
#: nothing from elsewhere: scripts, styles, images and requests from this server only
POLICY = "default-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'"


class ExploreServer(ThreadingHTTPServer):
    """The explorer's HTTP server: ``explorer`` answers, ``url`` is its address."""

    daemon_threads = True  # a page left open never keeps the command from stopping

    def __init__(self, explorer: Explorer, port: int) -> None:
        super().__init__((LOOPBACK, port), _Handler)
        self.explorer = explorer
        page = resources.files("rnnkit.cli") / "explore_page"
        self.assets = {
            route: ((page / name).read_bytes(), kind) for route, (name, kind) in ASSETS.items()
        }

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A page closed mid-request is no error; anything else gets one line."""
        exc = sys.exc_info()[1]
        if not isinstance(exc, ConnectionError):
            print(f"rnnkit explore: {type(exc).__name__}: {exc}", file=sys.stderr)

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.server_address[1]}/"


def make_server(explorer: Explorer, port: int = 0, host: str = LOOPBACK) -> ExploreServer:
    """A server for `explorer` on `host`:`port` (not yet serving: call ``serve_forever``).

    ConfigError for any host but :data:`LOOPBACK` (the page is for this machine only)
    or a port outside 0..65535; OSError when the port is taken.
    """
    if host != LOOPBACK:
        raise ConfigError(f"host {host!r}: the explorer listens on {LOOPBACK} only")
    if not 0 <= int(port) <= 65535:
        raise ConfigError(f"--port {port}: use 0 (any free port) to 65535")
    return ExploreServer(explorer, int(port))


class _Handler(BaseHTTPRequestHandler):
    server: ExploreServer
    server_version = "rnnkit-explore"
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if not self._from_this_page():
            return self._json(403, {"error": "requests must name this server's own address"})
        if url.path in self.server.assets:
            body, kind = self.server.assets[url.path]
            return self._send(200, body, kind)
        query = parse_qs(url.query, max_num_fields=8)
        ex = self.server.explorer
        routes = {
            "/api/model": lambda: ex.info(),
            "/api/analyse": lambda: ex.analyse(_one(query, "text", "")),
            "/api/step": lambda: ex.step(
                _one(query, "text", ""),
                _number(_one(query, "section", "0"), "section", int),
                _number(_one(query, "t", "1"), "t", int),
            ),
            "/api/sample": lambda: ex.sample(
                _one(query, "text", ""),
                _number(_one(query, "temperature", "1"), "temperature", float),
                _seed(query),
            ),
        }
        if url.path not in routes:
            return self._json(404, {"error": f"no such page: {url.path[:80]}"})
        try:
            answer = routes[url.path]()
        except RnnkitError as exc:
            return self._json(400, {"error": str(exc)})
        except Exception as exc:  # the page gets one line; the terminal says more
            print(f"rnnkit explore: {url.path}: {type(exc).__name__}: {exc}", file=sys.stderr)
            return self._json(500, {"error": f"internal error ({type(exc).__name__})"})
        self._json(200, answer)

    def _from_this_page(self) -> bool:
        """Whether the request names this server (a page of another site that resolved
        its own name to 127.0.0.1 would send its name in Host)."""
        port = self.server.server_address[1]
        return self.headers.get("Host", "") in (f"{LOOPBACK}:{port}", f"localhost:{port}")

    def _json(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body, allow_nan=False, separators=(",", ":")).encode("utf-8")
        self._send(status, data, "application/json")

    def _send(self, status: int, body: bytes, kind: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Security-Policy", POLICY)
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the terminal shows the address and errors, not every request."""


def _one(query: dict[str, list[str]], name: str, default: str) -> str:
    return query.get(name, [default])[0]


def _number(text: str, name: str, kind: Any) -> Any:
    try:
        return kind(text)
    except ValueError:
        raise DataError(f"{name} {text[:20]!r} is not a number") from None


def _seed(query: dict[str, list[str]]) -> int | None:
    text = _one(query, "seed", "")
    return None if not text else _number(text, "seed", int)
