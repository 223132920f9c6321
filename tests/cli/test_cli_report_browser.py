"""``rnnkit report`` as a person sees it: each task's page opened in Chromium at a phone's width.

The page of every task's tiny model (evaluated on a small --data file where the task
has a reader for one) is opened from its file in headless Chromium, driven by
Playwright through the browser's own executable (the ``browser`` fixture of
tests/cli/conftest.py: without Chromium or Playwright the tests skip and say which is
missing).

One browser serves the whole module; each page gets a fresh context 375 pixels wide
(a phone's), in which every request is intercepted: the page file itself is served,
anything else is refused and fails the test. A full-page screenshot of each page is
kept in pytest's tmp_path, or in RNNKIT_SCREENSHOTS when that names a directory.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tiny_models import TASKS, save_all

pytestmark = pytest.mark.browser

SECTIONS = ["Model", "Parameters", "Training curves", "Evaluation", "Gradients through time"]
#: a phone's screen in CSS pixels (an iPhone SE's width)
PHONE = {"width": 375, "height": 667}

#: a small file of each task the tiny models can read, evaluated with --data; the
#: regressor's page shows its note instead (its frames need a target per step)
DATA = {
    "classify": ("reviews.csv", "text,label\nmovie was good,pos\nbad film,neg\ngood movie,pos\n"),
    "tag": ("tags.conll", "the\tDET\nmovie\tNOUN\nwas\tAUX\ngood\tADJ\n\na\tDET\nfilm\tNOUN\n"),
    "lm": ("text.txt", "namaste\n" * 3),
    "seq2seq": ("pairs.tsv", "ab\tba\nabb\tbba\nba\tab\n"),
    "frames": ("frames.csv", "series_id,t,x1,x2,label\na,0,0.1,0.2,up\na,1,0.5,0.9,up\n"
               "b,0,-0.1,-0.2,down\nb,1,-0.6,-0.8,down\n"),
}  # fmt: skip

#: what the browser measures on the page, once every image has been decoded (or failed to)
MEASURE = """async () => {
  await Promise.all([...document.images].map(i => i.decode().catch(() => null)));
  return {
    innerWidth: window.innerWidth,
    bodyScrollWidth: document.body.scrollWidth,
    pageScrollWidth: document.documentElement.scrollWidth,
    h2: [...document.querySelectorAll("section > h2")].map(h => h.textContent),
    ids: [...document.querySelectorAll("section")].map(s => s.id),
    images: [...document.images].map(i => ({alt: i.alt, complete: i.complete,
        naturalWidth: i.naturalWidth, width: i.getAttribute("width")})),
    tables: Object.fromEntries([...document.querySelectorAll("section")].map(
        s => [s.id, s.querySelectorAll("table").length])),
    wide: [...document.querySelectorAll("body *")]
        .filter(e => !e.parentElement.closest("div.scroll, pre"))
        .filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5)
        .map(e => e.tagName.toLowerCase() + ": " + e.textContent.slice(0, 40)),
  };
}"""


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory, run_cli: Any) -> dict[str, Path]:
    """The report of every task's tiny model, by task."""
    root = tmp_path_factory.mktemp("browser")
    data = root / "data"
    data.mkdir()
    out = {}
    for task, saved in save_all(root / "models").items():
        argv: list[str | Path] = ["report", saved.path, "--out", root / f"{task}.html"]
        if task in DATA:
            name, text = DATA[task]
            (data / name).write_text(text, encoding="utf-8")
            argv += ["--data", data / name]
        result = run_cli(*argv)
        assert result.code == 0, result.err
        out[task] = root / f"{task}.html"
    return out


@dataclass
class Visit:
    """What opening one page showed: its measures, and what went wrong on the way."""

    measures: dict[str, Any]
    screenshot: Path
    errors: list[str]  # console errors and warnings, uncaught exceptions
    requests: list[str]  # every URL the page asked for, itself included


def _visit(browser: Any, html: Path, screenshot: Path) -> Visit:
    """Open `html` at a phone's width, offline, and measure it once it has loaded."""
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    try:
        page = context.new_page()
        url = html.as_uri()
        errors: list[str] = []
        requests: list[str] = []
        page.on("console", lambda m: errors.append(f"console {m.type}: {m.text}")
                if m.type in ("error", "warning") else None)  # fmt: skip
        page.on("pageerror", lambda e: errors.append(f"page error: {e}"))

        def serve_only_the_page(route: Any) -> None:
            requests.append(route.request.url)
            if route.request.url == url:
                route.continue_()
            else:
                route.abort()

        context.route("**/*", serve_only_the_page)
        page.goto(url, wait_until="load")
        measures = page.evaluate(MEASURE)
        page.screenshot(path=str(screenshot), full_page=True)
        return Visit(measures, screenshot, errors, requests)
    finally:
        context.close()


@pytest.fixture(scope="module")
def visits(browser: Any, pages: dict[str, Path], screenshot_folder: Path) -> dict[str, Visit]:
    """Every task's page opened once; the tests below read what each visit showed."""
    folder = screenshot_folder
    return {
        task: _visit(browser, html, folder / f"report-{task}.png") for task, html in pages.items()
    }


@pytest.mark.parametrize("task", sorted(TASKS))
def test_the_page_loads_offline_without_errors(task: str, visits, pages) -> None:
    visit = visits[task]
    assert visit.errors == []
    assert visit.requests == [pages[task].as_uri()]  # the page itself, nothing else


@pytest.mark.parametrize("task", sorted(TASKS))
def test_every_image_is_decoded_at_its_stated_size(task: str, visits) -> None:
    images = visits[task].measures["images"]
    assert images, "the training curves at least"
    for image in images:
        assert image["complete"] and image["naturalWidth"] > 0, image
        assert image["width"] == str(image["naturalWidth"]), image


@pytest.mark.parametrize("task", sorted(TASKS))
def test_every_section_is_there_with_its_tables(task: str, visits) -> None:
    measures = visits[task].measures
    assert measures["h2"] == SECTIONS
    assert measures["ids"] == ["model", "parameters", "curves", "evaluation", "gradients"]
    tables = measures["tables"]
    assert tables["model"] >= 2 and tables["parameters"] == 1 and tables["curves"] == 1
    assert tables["evaluation"] >= (1 if task in DATA else 0)


@pytest.mark.parametrize("task", sorted(TASKS))
def test_the_page_reads_at_a_phones_width(task: str, visits) -> None:
    measures = visits[task].measures
    assert measures["innerWidth"] == PHONE["width"]  # the page sets its viewport
    assert measures["bodyScrollWidth"] <= measures["innerWidth"]
    assert measures["pageScrollWidth"] <= measures["innerWidth"]
    assert measures["wide"] == []  # only tables and preformatted text scroll, in their box


@pytest.mark.parametrize("task", sorted(TASKS))
def test_a_screenshot_of_the_whole_page_is_kept(task: str, visits) -> None:
    png = visits[task].screenshot.read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert width == PHONE["width"] and height > PHONE["height"]  # the full page, not the screen


def test_a_request_off_the_page_fails_the_visit(browser, tmp_path) -> None:
    """The guard itself: a page that fetches anything is caught, and gets nothing."""
    html = tmp_path / "fetches.html"
    html.write_text('<!DOCTYPE html><meta name="viewport" content="width=device-width">'
                    '<img alt="x" src="https://example.com/x.png">', encoding="utf-8")  # fmt: skip
    visit = _visit(browser, html, tmp_path / "fetches.png")
    assert visit.requests == [html.as_uri(), "https://example.com/x.png"]
    assert visit.measures["images"][0]["naturalWidth"] == 0
    assert any("console error" in e for e in visit.errors)  # the refused request
