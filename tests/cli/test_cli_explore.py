"""``rnnkit explore``: the JSON routes give ``rnnkit trace``'s numbers, the model's own
predictions and its gradient; the server keeps to 127.0.0.1 and its own routes.

Each server runs in a thread of the test (the ``serving`` fixture of conftest.py) and is
shut down after; the command itself runs in a subprocess, stopped by SIGINT once it has
printed its address.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rnnkit.cli.explore_server import LOOPBACK, ExploreServer, make_server
from rnnkit.cli.explore_views import MAX_CHARS, MAX_TOKENS, open_explorer, toy_explorer
from rnnkit.cli.trace import toy_model
from rnnkit.errors import ConfigError
from rnnkit.models import SequenceTagger, load_model
from tiny_models import save_all

#: a text each tiny model reads (words it was trained on, and one it was not)
TEXTS = {
    "classify": "movie was good",
    "tag": "the film was odd",
    "lm": "nama",
    "seq2seq": "a b b",
}


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A tiny trained model of every task, saved (a few milliseconds each)."""
    return {task: s.path for task, s in save_all(tmp_path_factory.mktemp("tiny")).items()}


def get(server: ExploreServer, path: str, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    """GET `path` (quoted as given); the status and the decoded JSON (or raw bytes)."""
    request = urllib.request.Request(server.url.rstrip("/") + path, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as r:
            status, body, kind = r.status, r.read(), r.headers["Content-Type"]
    except urllib.error.HTTPError as exc:
        status, body, kind = exc.code, exc.read(), exc.headers["Content-Type"]
    return status, json.loads(body) if kind == "application/json" else body


def analyse(server: ExploreServer, text: str) -> tuple[int, Any]:
    return get(server, "/api/analyse?text=" + urllib.request.quote(text))


def traced(cli, *argv: str) -> dict:
    r = cli("trace", *argv, "--json")
    assert r.code == 0, r.err
    (t,) = json.loads(r.out)["traces"]
    del t["text"]
    return t


def assert_same_as_trace(server: ExploreServer, text: str, d: dict, expected: dict) -> None:
    """The outline of the analysis, and every step the page can ask for, are exactly
    what ``rnnkit trace --json`` printed for `text`."""
    sections = expected["sections"]
    outline = {**expected, "sections": [{**s, "steps": len(s["steps"])} for s in sections]}
    assert d["trace"] == outline
    assert d["output_step"] == sections[-1]["steps"][-1]
    for i, section in enumerate(sections):
        for step in section["steps"]:
            if step["t"] is None:
                continue
            q = urllib.parse.urlencode({"text": text, "section": i, "t": step["t"]})
            status, view = get(server, "/api/step?" + q)
            assert status == 200 and view["step"] == step
            assert view["section"]["title"] == section["title"]


# -- the numbers are rnnkit's own --------------------------------------------------------------
def test_the_toy_page_gives_the_notes_numbers_as_trace_does(cli, serving) -> None:
    with serving(toy_explorer()) as server:
        status, d = analyse(server, "movie was good")
        assert status == 200
        assert_same_as_trace(server, "movie was good", d, traced(cli, "--toy", "movie was good"))
    assert d["tokens"] == ["movie", "was", "good"]
    (strip,) = d["strips"]
    (h,) = strip["rows"]
    assert h["key"] == "h" and h["label"] == "h_t = tanh(U x_t + W h_{t-1} + b)"
    np.testing.assert_allclose(h["values"][2], [-0.1251, -0.5561, -0.5572], atol=5e-5)  # h_3
    out = d["output"]
    assert out["labels"] == ["negative", "positive"] and out["predicted"] == "positive"
    assert round(out["probs"][1], 4) == 0.7654 == round(d["trace"]["output"][0], 4)


def test_occlusion_is_the_model_on_the_text_without_each_token(serving) -> None:
    model = toy_model("float64")
    with serving(toy_explorer()) as server:
        _, d = analyse(server, "movie was not good")
    ids = [[1, 4, 2], [0, 4, 2], [0, 1, 2], [0, 1, 4]]  # each of the four words left out
    p = model.predict([np.array(i) for i in ids])[:, 0]
    np.testing.assert_allclose(np.array(d["output"]["occlusion"])[:, 1], p, rtol=1e-12)
    with serving(toy_explorer()) as server:
        _, one = analyse(server, "good")
    assert one["output"]["occlusion"] == [None]  # nothing is left without the only word


def test_the_toy_gradient_at_the_last_step_is_the_output_layers(serving) -> None:
    """dL/dh_3 = (y - 1) V for the sigmoid's cross-entropy at the predicted label 1."""
    with serving(toy_explorer()) as server:
        _, d = analyse(server, "movie was good")
    g = d["gradients"]
    (norms,) = g["entries"].values()
    assert len(norms) == 3 and "positive" in g["target"]
    y, V = d["output"]["probs"][1], toy_model("float64").get_weights()[3][:, 0]
    assert norms[0] == pytest.approx(abs(y - 1.0) * np.linalg.norm(V), rel=1e-12)
    assert g["loss"] == pytest.approx(-np.log(y), rel=1e-12)


@pytest.mark.parametrize("task", sorted(TEXTS))
def test_every_tasks_trace_is_rnnkit_traces(task: str, saved, cli, serving) -> None:
    with serving(open_explorer(str(saved[task]))) as server:
        status, d = analyse(server, TEXTS[task])
        assert status == 200, d
        assert_same_as_trace(server, TEXTS[task], d, traced(cli, str(saved[task]), TEXTS[task]))
    assert d["task"] == task
    for strip in d["strips"]:
        for row in strip["rows"]:
            assert np.array(row["values"]).shape[0] == len(d["tokens"])
    assert all(len(v) >= 1 for v in d["gradients"]["entries"].values())


def test_the_classifiers_probabilities_are_predict_probas(saved, serving) -> None:
    model = load_model(saved["classify"])
    with serving(open_explorer(str(saved["classify"]))) as server:
        _, d = analyse(server, "bad unknown film")
    np.testing.assert_allclose(d["output"]["probs"], model.predict_proba(["bad unknown film"])[0])
    assert d["output"]["predicted"] == model.predict(["bad unknown film"])[0]
    assert any("<unk>" in note for note in d["notes"])


def test_the_taggers_tags_and_probabilities_are_its_own(saved, serving) -> None:
    model = load_model(saved["tag"])
    words = TEXTS["tag"].split()
    with serving(open_explorer(str(saved["tag"]))) as server:
        _, d = analyse(server, TEXTS["tag"])
    out = d["output"]
    assert out["tags"] == model.predict([words])[0] and out["crf"] is False
    P = model.predict_proba([words])[0]
    expected = [P[i, model.labels_.index(tag)] for i, tag in enumerate(out["tags"])]
    np.testing.assert_allclose(out["probs"], expected)


def test_a_crf_taggers_tags_are_its_viterbi_path(tmp_path: Path, serving) -> None:
    """A BIO tagger (a CRF, character features, a bidirectional LSTM by default): its
    network is traced up to the emission scores, the tags are ``predict``'s."""
    sentences = [["alice", "met", "bob", "in", "paris"]] * 6
    tags = [["B-PER", "O", "B-PER", "O", "B-LOC"]] * 6
    model = SequenceTagger(hidden=4, embed_dim=4, epochs=2, seed=0, verbose=0, dropout=0)
    model.fit(sentences, tags).save(tmp_path / "ner")
    words = "Alice met Carol in Paris".split()
    with serving(open_explorer(str(tmp_path / "ner"))) as server:
        status, d = analyse(server, " ".join(words))
    assert status == 200, d
    assert d["output"]["crf"] is True and d["output"]["tags"] == model.predict([words])[0]
    assert "the CRF is not traced" in d["notes"][-1]
    assert {s["direction"] for s in d["strips"]} == {"forward", "backward"}
    assert [r["key"] for r in d["strips"][0]["rows"]] == ["i", "f", "g", "o", "c", "h"]
    assert any(name.endswith(" c") for name in d["gradients"]["entries"])  # dL/dc_t too


def test_the_language_models_next_tokens_follow_its_forward_pass(saved, serving) -> None:
    model = load_model(saved["lm"])
    with serving(open_explorer(str(saved["lm"]))) as server:
        _, d = analyse(server, "nama")
        status, s = get(server, "/api/sample?text=nama&temperature=0")
        _, again = get(server, "/api/sample?text=nama&temperature=0.8&seed=3")
        _, same = get(server, "/api/sample?text=nama&temperature=0.8&seed=3")
        hot, refused = get(server, "/api/sample?text=nama&temperature=9")
    nexts = d["output"]["next"]
    assert len(nexts) == 4 and all(len(n) == min(10, len(model.vocab_)) for n in nexts)
    assert nexts[-1][0]["token"] == model.predict_next("nama")
    ps = [c["p"] for c in nexts[-1]]
    assert ps == sorted(ps, reverse=True) and 0 < sum(ps) <= 1 + 1e-12
    assert status == 200 and s["token"] == model.predict_next("nama")  # greedy
    assert again == same and again["token"] in model.vocab_
    assert hot == 400 and "temperature" in refused["error"]


def test_the_seq2seq_output_and_attention_are_its_decoders(saved, serving) -> None:
    model = load_model(saved["seq2seq"])
    with serving(open_explorer(str(saved["seq2seq"]))) as server:
        _, d = analyse(server, "a b b")
    out = d["output"]
    decoded = model.decode([["a", "b", "b"]], beam=1)
    assert out["output"] == model.translate([["a", "b", "b"]])[0]
    if decoded.attention is None:
        assert out["attention"] is None
    else:
        shape = decoded.attention[0].shape  # (T_out, T_in): (0, 3) when nothing comes out
        np.testing.assert_allclose(np.reshape(out["attention"], shape), decoded.attention[0])


# -- bad input: a message, never a traceback ----------------------------------------------------
@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("movie was great", "'great' is not in the toy vocabulary"),
        ("   ", "empty"),
        ("good " * (MAX_CHARS // 5 + 1), f"at most {MAX_CHARS}"),
        ("good " * (MAX_TOKENS + 1), f"{MAX_TOKENS + 1} tokens: at most {MAX_TOKENS}"),
    ],
)
def test_bad_input_gets_one_line(text: str, says: str, serving) -> None:
    with serving(toy_explorer()) as server:
        status, d = analyse(server, text)
    assert status == 400 and set(d) == {"error"}
    assert says in d["error"] and "\n" not in d["error"] and "Traceback" not in d["error"]


@pytest.mark.parametrize(
    ("query", "says"),
    [("section=5&t=1", "section 5"), ("section=0&t=4", "t = 4"), ("section=x&t=1", "not a number")],
)
def test_a_step_outside_the_trace_gets_one_line(query: str, says: str, serving) -> None:
    with serving(toy_explorer()) as server:
        status, d = get(server, "/api/step?text=movie+was+good&" + query)
    assert status == 400 and says in d["error"]


def test_a_character_models_tokens_are_counted_as_it_splits_them(saved, serving) -> None:
    text = "nam" * (MAX_TOKENS // 3 + 1)  # one word of more than MAX_TOKENS characters
    with serving(open_explorer(str(saved["lm"]))) as server:
        status, d = analyse(server, text)
        unknown, said = analyse(server, "namaz")
    assert status == 400 and f"at most {MAX_TOKENS}" in d["error"]
    assert unknown == 400 and "'z'" in said["error"]  # a character it never saw


def test_sampling_is_for_language_models_only(serving) -> None:
    with serving(toy_explorer()) as server:
        status, d = get(server, "/api/sample?text=movie&temperature=1")
    assert status == 400 and "language models" in d["error"]


# -- the server keeps to its address and its routes ---------------------------------------------
@pytest.mark.parametrize("host", ["0.0.0.0", "", "::", "192.168.1.2", "localhost"])
def test_the_server_refuses_to_bind_anything_but_the_loopback(host: str) -> None:
    with pytest.raises(ConfigError, match=r"127\.0\.0\.1 only"):
        make_server(toy_explorer(), 0, host=host)


def test_the_server_listens_on_the_loopback_only(serving) -> None:
    with serving(toy_explorer()) as server:
        assert server.server_address[0] == LOOPBACK
        assert server.url.startswith("http://127.0.0.1:")


@pytest.mark.parametrize(
    "path",
    ["/etc/passwd", "/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/explore_page/index.html",
     "/explore.js/../../pyproject.toml", "//etc/passwd", "/api", "/api/analyse/x", "/favicon.ico"],
)  # fmt: skip
def test_a_path_outside_its_routes_is_refused(path: str, serving) -> None:
    with serving(toy_explorer()) as server:
        status, d = get(server, path)
    assert status == 404 and d["error"].startswith("no such page")


def test_the_page_and_its_assets_are_served_with_a_strict_policy(serving) -> None:
    with serving(toy_explorer()) as server:
        for path in ("/", "/explore.js", "/explore.css"):
            with urllib.request.urlopen(server.url.rstrip("/") + path, timeout=30) as r:
                assert r.status == 200
                assert "default-src 'self'" in r.headers["Content-Security-Policy"]
        page = get(server, "/")[1].decode()
    assert "http://" not in page and "https://" not in page  # nothing from elsewhere


def test_a_request_naming_another_host_is_refused(serving) -> None:
    with serving(toy_explorer()) as server:
        status, d = get(server, "/api/model", {"Host": "evil.example:80"})
    assert status == 403 and "own address" in d["error"]


# -- the command -------------------------------------------------------------------------------
def test_the_command_needs_a_model_or_toy_but_not_both(cli, user_error, saved) -> None:
    assert "--toy" in user_error(cli("explore"))
    assert "not both" in user_error(cli("explore", saved["classify"], "--toy"))
    assert "real-valued frames" in user_error(cli("explore", saved["frames"]))
    assert "--port 70000" in user_error(cli("explore", "--toy", "--port", "70000"))


def test_a_port_in_use_is_one_line(cli, user_error) -> None:
    with socket.socket() as taken:
        taken.bind((LOOPBACK, 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert "in use" in user_error(cli("explore", "--toy", "--port", str(port)))


def test_the_command_prints_its_address_and_stops_on_ctrl_c() -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "rnnkit.cli.main", "explore", "--toy"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # printed once the server is listening
        assert line.startswith("rnnkit explore: toy (classify) on http://127.0.0.1:"), line
        port = int(line.rsplit(":", 1)[1].strip(" /\n"))
        # a page left open: a kept-alive connection must not keep the server from stopping
        page = http.client.HTTPConnection(LOOPBACK, port, timeout=30)
        page.request("GET", "/api/model")
        assert json.loads(page.getresponse().read())["toy"] is True
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
        page.close()
    finally:
        proc.kill() if proc.poll() is None else None
    assert proc.returncode == 0, err
    assert "stopped" in out and "Traceback" not in err
