"""``rnnkit explore`` as a learner sees it: the course's network typed into and pointed
at, at a desktop's and a phone's width.

The server runs in a thread (the ``serving`` fixture); the page is opened in Chromium
driven by Playwright (the ``browser`` fixture: skipped, saying why, without Chromium or
Playwright) through tests/explore_page.py, which lets only requests to the server's own
address through and waits on the page's render counter, never on a clock. A full-page
screenshot of each view is kept in pytest's tmp dir (printed), or in RNNKIT_SCREENSHOTS
when that names a directory.
"""

from __future__ import annotations

import pytest

from explore_page import PATIENCE, REFUSED, VIEWS, shoot, visit
from rnnkit.cli.explore_views import toy_explorer

pytestmark = pytest.mark.browser


# -- the course's network ------------------------------------------------------------------------
@pytest.mark.parametrize("view", sorted(VIEWS))
def test_the_toy_page_shows_the_notes_numbers(view: str, browser, serving, screenshot_folder):
    with serving(toy_explorer()) as server, visit(browser, server, view) as v:
        v.rendered()
        probs = v.page.inner_text("#probs")
        equation = v.page.inner_text("#equation")
        output = v.page.inner_text(".output-eq")
        measures = v.measures()
        shot = shoot(v, screenshot_folder, f"toy-{view}")
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
        v.type_text("movie was not good", keys=True)
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
        strip = v.page.locator("#strips canvas")
        strip.scroll_into_view_if_needed()
        box = strip.bounding_box()
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


def test_the_arrow_keys_move_along_a_strip(browser, serving):
    with serving(toy_explorer()) as server, visit(browser, server, "phone") as v:
        v.rendered()
        v.page.locator("#strips canvas").focus()  # the selection starts at h_3, unit 1
        v.page.keyboard.press("ArrowLeft")
        v.page.keyboard.press("ArrowDown")
        v.page.wait_for_function(
            "() => document.querySelector('#equation .where').textContent.includes('unit 2')",
            timeout=PATIENCE,
        )
        where = v.page.inner_text("#equation .where")
        pointed = v.page.locator("#tokens .token.pointed").inner_text()
    assert 'step t = 2 "was", unit 2' in where and pointed.startswith("was")
    assert v.errors == []


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
