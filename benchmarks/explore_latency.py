"""Time from a keystroke to the updated ``rnnkit explore`` page, for a medium classifier.

    python benchmarks/explore_latency.py [--cells rnn,lstm,gru] [--repeats 15]

For each cell a word classifier of d = 256 units (embedding 128, trained one epoch on
synthetic reviews, so its numbers are those of a real saved model) is served by
``rnnkit explore``'s server in this process and opened in headless Chromium (the
system's, through Playwright). The input holds a text of T = 40 words (B = 1); each
repeat types one character at its end, which changes the last word, and waits for the
page to show the answer. The page records, for the last keystroke, when the input event
fired, when the request left (after the page's 150 ms debounce), when the answer came
and when it was drawn, the equation of the step under the pointer included (a second,
small request; ``window.rnnkitExplore.last``); the median of each interval is
printed, with the server's own time for one analysis (trace, outputs and gradient) and
the size of its JSON answer. The cells are measured in turn, repeat by repeat
(interleaved), so a change in the machine's load falls on all of them alike.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from rnnkit.cli.explore_server import make_server
from rnnkit.cli.explore_views import Explorer, open_explorer
from rnnkit.models import SequenceClassifier

T, D, EMBED = 40, 256, 128
WORDS = ["good", "bad", "movie", "plot", "was", "not", "great", "dull", "cast", "story"]


def medium_model(cell: str, root: Path) -> Explorer:
    """A classifier of `cell` with d = 256 units, saved under `root` and reopened."""
    rng = np.random.default_rng(0)
    texts = [" ".join(rng.choice(WORDS, T)) for _ in range(64)]
    labels = ["pos" if t.count("good") >= t.count("bad") else "neg" for t in texts]
    model = SequenceClassifier(cell=cell, hidden=D, embed_dim=EMBED, epochs=1, seed=0, verbose=0)
    model.fit(texts, labels).save(root / cell)
    return open_explorer(str(root / cell))


def _median(marks: list[dict[str, float]], start: str, end: str) -> float:
    return statistics.median(m[end] - m[start] for m in marks)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cells", default="rnn,lstm,gru")
    p.add_argument("--repeats", type=int, default=15)
    p.add_argument("--chromium", default=shutil.which("chromium") or "chromium")
    args = p.parse_args()
    from playwright.sync_api import sync_playwright

    cells = args.cells.split(",")
    root = Path(tempfile.mkdtemp())
    text = " ".join(np.random.default_rng(1).choice(WORDS, T))
    servers, pages, server_ms, sizes = {}, {}, {c: [] for c in cells}, {}
    timings: dict[str, list[dict[str, float]]] = {c: [] for c in cells}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=args.chromium)
        for cell in cells:
            servers[cell] = make_server(medium_model(cell, root))
            threading.Thread(target=servers[cell].serve_forever, args=(0.05,), daemon=True).start()
            page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
            page.goto(servers[cell].url)
            page.locator("#text").fill(text)
            page.wait_for_function("t => (window.rnnkitExplore.last || {}).text === t", arg=text)
            pages[cell] = page
            sizes[cell] = len(json.dumps(servers[cell].explorer.analyse(text)))
        for i in range(args.repeats):
            typed = text + "abcdefghijklmnopqrstuvwxyz"[: i + 1]
            for cell in cells:  # interleaved: one repeat of every cell in turn
                start = time.perf_counter()
                servers[cell].explorer.analyse(typed)
                server_ms[cell].append(1000 * (time.perf_counter() - start))
                page = pages[cell]
                page.locator("#text").press("End")
                page.keyboard.type(typed[-1])
                page.wait_for_function("t => (window.rnnkitExplore.last || {}).text === t",
                                       arg=typed, timeout=60_000)  # fmt: skip
                timings[cell].append(page.evaluate("() => window.rnnkitExplore.last"))
        browser.close()
    for s in servers.values():
        s.shutdown()
    print(f"B = 1, T = {T} words, d = {D}, embedding {EMBED}; medians of {args.repeats} keystrokes")
    head = ("cell", "key->drawn", "(debounce)", "analyse", "draw+step", "server", "JSON")
    print(f"{head[0]:<6}" + "".join(f"{h:>12}" for h in head[1:]))
    for cell in cells:
        spans = [("inputAt", "renderedAt"), ("inputAt", "sentAt"), ("sentAt", "receivedAt"),
                 ("receivedAt", "renderedAt")]  # fmt: skip
        ms = [_median(timings[cell], a, b) for a, b in spans] + [statistics.median(server_ms[cell])]
        print(f"{cell:<6}" + "".join(f"{m:>10.0f}ms" for m in ms) + f"{sizes[cell] / 1e6:>10.2f}MB")
    shutil.rmtree(root)


if __name__ == "__main__":
    main()
