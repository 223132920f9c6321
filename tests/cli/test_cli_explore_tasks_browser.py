"""``rnnkit explore`` as a learner sees it: each task's page (tiny models) at a desktop's
and a phone's width, and a language model's sampling.

Served, opened and screenshotted as in test_cli_explore_browser.py (tests/explore_page.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from explore_page import VIEWS, shoot, visit
from rnnkit.cli.explore_views import open_explorer
from tiny_models import save_all

pytestmark = pytest.mark.browser

#: a text each tiny model reads
TEXTS = {"classify": "movie was good", "tag": "the film was odd", "lm": "nama", "seq2seq": "abb"}


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return {task: s.path for task, s in save_all(tmp_path_factory.mktemp("tiny")).items()}


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
        shoot(v, screenshot_folder, f"{task}-{view}")
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
