"""The HTML report: one self-contained page in which everything from the report is escaped and the figures are drawn
inline; and, in a real headless browser (Debian's chromium), the page renders at phone width, its figures are
visible, and it fetches nothing. The shipped example's page is tests/golden/example.html (test_renderers.py keeps it
current)."""

from __future__ import annotations

import json
import os
import re
import select
import shutil
import subprocess
import time
from html import escape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from autograder.course.config import load_course
from autograder.engine.results import FAILED, NOT_ATTEMPTED, PASSED, CheckResult, Report, TopicResult
from autograder.reports.plots import curves, trajectory
from autograder.reports.renderers import render

from conftest import ROOT

EXAMPLE = ROOT / "tests" / "golden" / "example.html"
HOSTILE = '<script>document.title="pwned"</script><img src="http://127.0.0.1:9/leak.png">'
SVG_NAMESPACE = "http://www.w3.org/2000/svg"  # names the namespace; nothing is fetched from it


def _descent(lr: float) -> np.ndarray:
    A, b, x, xs = np.array([[10.0, 2.0], [2.0, 1.0]]), np.array([1.0, 0.0]), np.array([1.0, 1.0]), []
    for _ in range(13):
        xs.append(x)
        x = x - lr * (A @ x - b)
    return np.array(xs)


def figures_report(**text: str) -> Report:
    """Two checks with figures (two planar trajectories, a curves panel) and an untouched topic; ``text`` puts a string
    where a student's code (or its file name) can reach: message, output, note, submission, figure title, error."""
    long = ",".join(["0.125"] * 60)  # a printed array: one word wider than a phone
    say = {"message": f"got [{long}] where 2 was expected", "output": "step 1", "note": "a note", "submission": "alice", "figure": "trajectories", "error": "bob.py not found", **text}
    paths = {"reference": _descent(0.05), "yours": _descent(0.15)}
    losses = {k: np.linalg.norm(v, axis=1) + 1.0 for k, v in paths.items()}
    path_figures = [trajectory(title=title, series=paths, losses=losses, quadratic=([[10.0, 2.0], [2.0, 1.0]], [1.0, 0.0])) for title in (say["figure"], "the same, again")]
    steps_figure = curves(title="steps against condition number", x_label="condition number", y_label="steps", series={"reference": ([1, 10, 100], [3, 20, 150]), "yours": ([1, 10, 100], [4, 30, 400])})
    mistake = {"id": "too-large-step", "title": "the step is too large", "fix": "divide the gradient by the largest eigenvalue"}
    checks = [
        CheckResult("gd_path", "gradient descent on a quadratic", 2.0, FAILED, hidden=False, message=say["message"], mistake=mistake, figures=path_figures),
        CheckResult("gd_steps", "steps against condition number", 1.0, PASSED, hidden=True, figures=[steps_figure]),
    ]
    untouched = [CheckResult("adam", "Adam", 2.0, NOT_ATTEMPTED, hidden=False, message="bob.py not found")]
    topics = [TopicResult("optimizers", "Optimizers", "optimizers.py", checks, output=say["output"]), TopicResult("adam", "Adam", "adam.py", untouched, error=say["error"])]
    return Report("Course", say["submission"], "strict", ["cpu"], topics, notes=[say["note"]])


@pytest.mark.parametrize("where", ["message", "output", "note", "submission", "figure", "error"])
def test_student_text_shows_as_text_never_as_markup(where: str):
    page = render(figures_report(**{where: HOSTILE}), "html")
    assert "<script" not in page and "<img" not in page
    assert escape(HOSTILE, quote=where != "figure") in page  # SVG text content keeps its quotes: they end nothing there


def test_every_figure_is_drawn_inline_even_where_files_were_written():
    report = figures_report()
    report.topics[0].checks[0].figures[0]["file"] = "/tmp/figures/optimizers.gd_path.svg"  # as --figures leaves it
    page = render(report, "html")
    assert page.count("<svg ") == 3 and ".svg" not in page
    ids = re.findall(r' id="([^"]+)"', page)
    assert len(ids) == len(set(ids)), "element ids repeat: a clip path would refer to another figure's"
    assert set(re.findall(r"url\(#([^)]+)\)", page)) <= set(ids)


class _Markup(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.attrs: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attrs += [(name, value or "") for name, value in attrs]


@pytest.mark.parametrize("page", [pytest.param(lambda: EXAMPLE.read_text(), id="example"), pytest.param(lambda: render(figures_report(), "html"), id="figures")])
def test_the_page_refers_to_nothing_outside_itself(page):
    text = page()
    markup = _Markup()
    markup.feed(text)
    assert not markup.tags & {"script", "link", "img", "iframe", "object", "embed", "base", "form", "audio", "video", "source", "image", "use"}
    assert not [name for name, _ in markup.attrs if name in ("src", "srcset", "action", "poster", "background") or name.startswith("on")]
    assert not [value for name, value in markup.attrs if name.endswith("href") and not value.startswith("#")]
    assert set(re.findall(r"\w+://[^\s\"'<>]*", text)) <= {SVG_NAMESPACE}
    assert all(ref.startswith("#") for ref in re.findall(r"url\(\s*['\"]?([^)'\"]*)", text)) and "@import" not in text
    assert "Content-Security-Policy\" content=\"default-src 'none'" in text


def test_the_example_page_explains_each_mistake_once_and_shows_untouched_topics_in_one_line():
    page = EXAMPLE.read_text()
    untouched = len(load_course(ROOT / "course.yaml").topics) - 1
    assert page.count("<table>") == 1  # convolution; every topic with no file gets a line
    assert len(re.findall(r'<p class="todo">Not attempted \([^<]*not found: nothing submitted for this topic\)\.</p>', page)) == untouched
    assert page.count("Test with an asymmetric kernel") == 1 and "kernel-flip: explained under conv1d_full" in page
    assert "not attempted: <code>receptive_field([[4, 1], [4, 1]])</code>" in page


# --- in a real browser -----------------------------------------------------------------------------------------------

# Run by the test through the DevTools protocol, not by the page (which has no script and may run none).
MEASURE = """({
  title: document.title,
  scripts: document.scripts.length,
  text: document.body.innerText,
  viewport: innerWidth,
  scrollWidth: document.documentElement.scrollWidth,
  figures: [...document.querySelectorAll('figure svg')].map(svg => {
    const box = svg.getBoundingClientRect();
    const drawn = [...svg.querySelectorAll('polyline')].filter(p => { const b = p.getBoundingClientRect(); return b.width > 0 && b.height > 0; });
    return {width: box.width, height: box.height, visibility: getComputedStyle(svg).visibility, lines: drawn.length};
  }),
})"""
PHONE = {"width": 375, "height": 800, "deviceScaleFactor": 1, "mobile": True}


class Chromium:
    """Headless chromium driven over the DevTools protocol on a pipe (fds 3 and 4: no port, no websocket library)."""

    def __init__(self, profile: Path) -> None:
        self._log = profile / "chromium.log"
        flags = ["--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe", f"--user-data-dir={profile}", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", "about:blank"]
        with self._log.open("w") as log:  # the shell moves our pipes to the fds the protocol uses
            self._proc = subprocess.Popen(["sh", "-c", 'exec "$@" 3<&0 4>&1 </dev/null >/dev/null', "sh", "chromium", *flags], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log)
        self._buffer, self._next, self.events = b"", 0, []
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self._session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for method, params in (("Network.enable", {}), ("Page.enable", {}), ("Emulation.setDeviceMetricsOverride", PHONE)):
            self.call(method, session=True, **params)

    def _receive(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            ready, _, _ = select.select([self._proc.stdout], [], [], max(0.0, deadline - time.monotonic()))
            chunk = os.read(self._proc.stdout.fileno(), 1 << 16) if ready else b""
            if not chunk:
                raise AssertionError(f"chromium did not answer within 20 s; its log:\n{self._log.read_text()[-2000:]}")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def call(self, method: str, *, session: bool = False, **params: Any) -> dict[str, Any]:
        self._next += 1
        message = {"id": self._next, "method": method, "params": params, **({"sessionId": self._session} if session else {})}
        self._proc.stdin.write(json.dumps(message).encode() + b"\0")
        self._proc.stdin.flush()
        deadline = time.monotonic() + 20
        while (answer := self._receive(deadline)).get("id") != self._next:
            self.events.append(answer)
        assert "error" not in answer, f"{method}: {answer['error']}"
        return answer["result"]

    def open(self, page: Path) -> tuple[list[str], dict[str, Any]]:
        """The URLs requested while loading ``page`` and what MEASURE finds there."""
        self.events.clear()
        self.call("Page.navigate", session=True, url=page.resolve().as_uri())
        deadline = time.monotonic() + 20
        while not any(e.get("method") == "Page.loadEventFired" for e in self.events):
            self.events.append(self._receive(deadline))
        urls = [e["params"]["request"]["url"] for e in self.events if e.get("method") == "Network.requestWillBeSent"]
        return urls, self.call("Runtime.evaluate", session=True, expression=MEASURE, returnByValue=True)["result"]["value"]

    def close(self) -> None:
        self.call("Browser.close")
        self._proc.wait(timeout=20)


@pytest.fixture(scope="module")
def chromium(tmp_path_factory):
    if shutil.which("chromium") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is not installed, and CI=true requires the browser test (.ci/run installs Debian's chromium)")
        pytest.skip("chromium is not installed (Debian: apt-get install chromium): the HTML page is not checked in a browser")
    browser = Chromium(tmp_path_factory.mktemp("chromium"))
    yield browser
    browser.close()


def test_the_browser_sees_what_a_page_fetches(chromium, tmp_path):
    """The control: the same measurement does see a request, on a page that makes one."""
    page = tmp_path / "control.html"
    page.write_text('<!DOCTYPE html><img src="http://127.0.0.1:9/probe.png">')
    urls, _ = chromium.open(page)
    assert urls == [page.as_uri(), "http://127.0.0.1:9/probe.png"]


@pytest.mark.parametrize("name, figures", [("example", 0), ("figures", 3)])
def test_the_page_renders_at_phone_width_with_its_figures_and_fetches_nothing(chromium, tmp_path, name: str, figures: int):
    page = EXAMPLE if name == "example" else tmp_path / "figures.html"
    if name == "figures":
        page.write_text(render(figures_report(note=HOSTILE, output=HOSTILE), "html"))
    urls, seen = chromium.open(page)
    assert urls == [page.resolve().as_uri()]
    assert seen["scripts"] == 0 and "pwned" not in seen["title"]
    assert seen["viewport"] == PHONE["width"] and seen["scrollWidth"] <= seen["viewport"], "the page scrolls sideways on a phone"
    assert len(seen["figures"]) == figures
    for figure in seen["figures"]:
        assert 0 < figure["width"] <= seen["viewport"] and figure["height"] > 0 and figure["visibility"] == "visible", figure
        assert figure["lines"] >= 2, figure  # the reference and the student's series are drawn
    if name == "figures":
        assert HOSTILE in seen["text"]  # the note, shown as the text it is
