"""Opening ``rnnkit explore``'s page in a browser for the tests: the views, a visit.

:func:`visit` opens a served page in a fresh Playwright context at one of :data:`VIEWS`
and lets through only requests to the server's own address, recording every URL and
every console error; :class:`Visit` waits on the page's own render counter
(``window.rnnkitExplore``), never on a clock, and keeps screenshots with :func:`shoot`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["PATIENCE", "REFUSED", "VIEWS", "Visit", "shoot", "visit"]

#: the widths the page is checked at, in CSS pixels (a laptop; an iPhone SE)
VIEWS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 375, "height": 667}}
#: what Chromium logs when the server answers a text it cannot read with status 400
REFUSED = "Failed to load resource: the server responded with a status of 400"
#: how long a render may take on a loaded machine before the test gives up (ms)
PATIENCE = 30_000


@dataclass
class Visit:
    """An open page, what it logged and every URL it asked for."""

    page: Any
    url: str
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def rendered(self, n: int = 1) -> None:
        """Wait until the page has drawn `n` answers."""
        self.page.wait_for_function(
            "n => window.rnnkitExplore.renders >= n", arg=n, timeout=PATIENCE
        )

    def renders(self) -> int:
        return int(self.page.evaluate("() => window.rnnkitExplore.renders"))

    def type_text(self, text: str, keys: bool = False) -> None:
        """Replace the input by `text` (with `keys`, key by key, as a person types) and
        wait for the page to show it."""
        box = self.page.locator("#text")
        if keys:
            box.fill("")  # one input event: an empty text (the page says so)
            box.press_sequentially(text)
        else:
            box.fill(text)
        self.page.wait_for_function(
            "t => (window.rnnkitExplore.last || {}).text === t", arg=text, timeout=PATIENCE
        )

    def off_server(self) -> list[str]:
        return [u for u in self.requests if not u.startswith(self.url)]

    def measures(self) -> dict[str, Any]:
        return self.page.evaluate(
            """() => ({innerWidth: window.innerWidth,
                       scrollWidth: document.documentElement.scrollWidth})"""
        )


@contextmanager
def visit(browser: Any, server: Any, view: str) -> Iterator[Visit]:
    """Open the server's page at `view`'s size; only the server's own URLs are served."""
    phone = view == "phone"
    context = browser.new_context(viewport=VIEWS[view], is_mobile=phone, has_touch=phone)
    try:
        page = context.new_page()
        v = Visit(page, server.url)
        page.on("console", lambda m: v.errors.append(f"console {m.type}: {m.text}")
                if m.type in ("error", "warning") else None)  # fmt: skip
        page.on("pageerror", lambda e: v.errors.append(f"page error: {e}"))

        def only_the_server(route: Any) -> None:
            v.requests.append(route.request.url)
            if route.request.url.startswith(server.url):
                route.continue_()
            else:
                route.abort()

        context.route("**/*", only_the_server)
        page.goto(server.url, wait_until="load")
        yield v
    finally:
        context.close()


def shoot(v: Visit, folder: Path, name: str) -> Path:
    path = folder / f"explore-{name}.png"
    v.page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")
    return path
