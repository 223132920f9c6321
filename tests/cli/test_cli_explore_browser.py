"""``rnnkit explore`` as a learner sees it: the page in headless Chromium, typed into.

The server runs in a thread (the ``serving`` fixture); the page is opened in Chromium
driven by Playwright (the ``browser`` fixture: skipped, saying why, without Chromium or
Playwright), at a desktop's width and at a phone's. Every request the page makes is
recorded and only those to the server's own address are let through: the page must need
nothing else. The tests wait on the page's own render counter
(``window.rnnkitExplore.renders``), never on a clock. A full-page screenshot of each view
is kept in pytest's tmp dir (printed), or in RNNKIT_SCREENSHOTS when that names a
directory.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from rnnkit.cli.explore_views import open_explorer, toy_explorer
from tiny_models import save_all

pytestmark = pytest.mark.browser

#: the widths the page is checked at, in CSS pixels (a laptop; an iPhone SE)
VIEWS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 375, "height": 667}}
#: a text each tiny model reads
TEXTS = {"classify": "movie was good", "tag": "the film was odd", "lm": "nama", "seq2seq": "abb"}
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

    def type_text(self, text: str) -> None:
        """Replace the input by `text`, key by key, and wait for the page to show it."""
        box = self.page.locator("#text")
        box.fill("")  # one input event: an empty text (the page says so)
        box.press_sequentially(text)
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


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return {task: s.path for task, s in save_all(tmp_path_factory.mktemp("tiny")).items()}


def _shoot(v: Visit, folder: Path, name: str) -> Path:
    path = folder / f"explore-{name}.png"
    v.page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")
    return path


# -- the course's network ------------------------------------------------------------------------
@pytest.mark.parametrize("view", sorted(VIEWS))
def test_the_toy_page_shows_the_notes_numbers(view: str, browser, serving, screenshot_folder):
    with serving(toy_explorer()) as server, visit(browser, server, view) as v:
        v.rendered()
        probs = v.page.inner_text("#probs")
        equation = v.page.inner_text("#equation")
        output = v.page.inner_text(".output-eq")
        measures = v.measures()
        shot = _shoot(v, screenshot_folder, f"toy-{view}")
    assert v.errors == [] and v.off_server() == []
    assert "positive" in probs and "0.7654" in probs
    assert output == "y = sigmoid(V h_3 + c) = [0.7654]"
    assert "h_3 = tanh(U x_3 + W h_2 + b)" in equation
    assert "[-0.1251 -0.5561 -0.5572]" in equation  # h_3, as the notes and trace print it
    assert measures["scrollWidth"] <= measures["innerWidth"]  # nothing wider than the screen
    assert shot.read_bytes().startswith(b"\x89PNG")


def test_typing_a_review_updates_probabilities_strips_and_equation(browser, serving):
    with serving(toy_explorer()) as server, visit(browser, server, "desktop") as v:
        v.rendered()
        before = v.page.inner_text("#probs")
        width = v.page.eval_on_selector("#strips canvas", "c => c.width")
        v.type_text("movie was not good")
        after = v.page.inner_text("#probs")
        tokens = v.page.locator("#tokens .token").count()
        equation = v.page.inner_text("#equation")
        wider = v.page.eval_on_selector("#strips canvas", "c => c.width")
    assert [e for e in v.errors if REFUSED not in e] == [] and v.off_server() == []
    assert after != before and tokens == 4
    assert "h_4 = tanh(U x_4 + W h_3 + b)" in equation and '"good"' in equation
    assert wider == width // 3 * 4  # one more column: a fourth step


def test_pointing_at_a_cell_shows_its_equation(browser, serving):
    with serving(toy_explorer()) as server, visit(browser, server, "desktop") as v:
        v.rendered()
        box = v.page.locator("#strips canvas").bounding_box()
        # the first step's column, the third unit's row (3 rows of equal height)
        v.page.mouse.move(box["x"] + 2, box["y"] + box["height"] * 5 / 6)
        v.page.wait_for_function(
            "() => document.querySelector('#equation .where').textContent.includes('t = 1')",
            timeout=PATIENCE,
        )
        where = v.page.inner_text("#equation .where")
        current = v.page.inner_text("#equation .row.current")
    assert 'step t = 1 "movie", unit 3' in where
    assert current.startswith("h_1 = tanh(U x_1 + W h_0 + b)")
    assert "unit 3: 0.1240" in current  # h_1 of the notes: [0.2385 0.5756 0.1240]


def test_a_word_the_model_cannot_read_gets_a_message(browser, serving):
    with serving(toy_explorer()) as server, visit(browser, server, "phone") as v:
        v.rendered()
        v.page.locator("#text").fill("movie was great")
        v.page.wait_for_function("() => window.rnnkitExplore.errors >= 1", timeout=PATIENCE)
        message = v.page.locator("#message")
        text, cls = message.inner_text(), message.get_attribute("class")
        body = v.page.inner_text("body")
    assert cls == "error" and "'great' is not in the toy vocabulary" in text
    assert "Traceback" not in body
    assert all(REFUSED in e for e in v.errors)  # the refusal itself, and nothing else


# -- each task's page ----------------------------------------------------------------------------
@pytest.mark.parametrize("view", sorted(VIEWS))
@pytest.mark.parametrize("task", sorted(TEXTS))
def test_each_tasks_page_draws_its_output(
    task: str, view: str, saved, browser, serving, screenshot_folder
):
    explorer = open_explorer(str(saved[task]))
    expected = explorer.analyse(TEXTS[task])["output"]
    with serving(explorer) as server, visit(browser, server, view) as v:
        v.type_text(TEXTS[task])
        shown = v.page.inner_text("#output")
        tokens = v.page.locator("#tokens .token").all_inner_texts()
        strips = v.page.locator("#strips canvas").count()
        bars = v.page.locator("#gradients canvas").count()
        nexts = v.page.locator("#next .bar-row").count()
        measures = v.measures()
        _shoot(v, screenshot_folder, f"{task}-{view}")
    assert v.errors == [] and v.off_server() == []
    assert strips >= 1
    assert bars >= (1 if task != "seq2seq" or expected["output"] else 0)  # a target to take
    assert measures["scrollWidth"] <= measures["innerWidth"]
    if task == "classify":
        assert expected["predicted"] in shown and f"{max(expected['probs']):.4f}" in shown
    if task == "tag":
        shown_tags = [t.split("\n")[1].split()[0] for t in tokens]
        assert shown_tags == expected["tags"]
    if task == "lm":
        assert nexts == len(expected["next"][-1])
    if task == "seq2seq":
        assert (" ".join(expected["output"]) or "(empty)") in shown


def test_a_language_model_samples_one_token_at_a_time(saved, browser, serving):
    with serving(open_explorer(str(saved["lm"]))) as server, visit(browser, server, "desktop") as v:
        v.type_text("nama")
        v.page.locator("#temperature").fill("0")  # greedy: the most likely next token
        drawn = v.renders()
        v.page.locator("#sample").click()
        v.rendered(drawn + 1)
        value = v.page.input_value("#text")
    assert v.errors == [] and v.off_server() == []
    assert value.startswith("nama") and len(value) == 5
