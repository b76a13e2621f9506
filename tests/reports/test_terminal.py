"""The text report as a terminal shows it while grading runs: the same lines a file gets, wrapped and coloured."""

import io
import re

import pytest

from autograder.engine.results import ERROR, FAILED, NOT_ATTEMPTED, PASSED, CheckResult, Report, TopicResult
from autograder.reports.renderers import text
from autograder.reports.terminal import LiveReport

LONG = "conv1d(f, h, mode='full') with len(f)=9, len(h)=4: " + "a very long explanation " * 12


def _check(check_id, status, message="", hidden=False, mistake=None):
    return CheckResult(check_id, f"title of {check_id}", 2.0, status, hidden, message, mistake)


def _report():
    kernel = {"id": "kernel-flip", "title": "the kernel is not flipped", "fix": "reverse h"}
    started = TopicResult("conv", "Convolutions", "conv.py", [
        _check("a_todo", NOT_ATTEMPTED, "receptive_field(x): not attempted (raises NotImplementedError)"),
        _check("b_fail", FAILED, f"{LONG}: the kernel is not flipped. reverse h", mistake=kernel),
        _check("c_ok", PASSED),
        _check("d_err", ERROR, "internal error in check conv.d_err"),
        _check("e_hidden", FAILED, "the kernel is not flipped. reverse h", hidden=True, mistake=kernel),
    ], output="printed\nlines")
    untouched = [TopicResult(t, t.title(), None, [_check("x", NOT_ATTEMPTED, f"{t}.py not found: nothing submitted")], error=f"{t}.py not found") for t in ("probability", "information")]
    stub = TopicResult("optimizers", "Optimizers", "optimizers.py", [_check("y", NOT_ATTEMPTED, "sgd(x): not attempted (raises NotImplementedError)")])
    return Report("Course", "sub", "strict", ["cpu"], [*untouched[:1], started, *untouched[1:], stub], notes=["note: " + "n " * 50])


def _live(report, width, **kw):
    out = io.StringIO()
    live = LiveReport(course=report.course, titles={t.id: t.title for t in report.topics}, submission=report.submission, sandbox=report.sandbox, devices=report.devices, file=out, width=width, **kw)
    for topic in report.topics:
        for check in topic.checks if topic.file else []:
            live.check(topic.id, check)
        live.topic(topic)
    live.finish(report)
    return out.getvalue()


@pytest.mark.parametrize("width", [60, 80, 100, 200], ids=lambda w: f"{w}cols")
def test_live_report_prints_what_a_file_gets_and_fits_the_width(width):
    report = _report()
    printed = _live(report, width)
    assert printed == text.render(report, width=width)
    assert max(len(line) for line in printed.splitlines()) <= width
    assert not any(line.endswith(" ") for line in printed.splitlines())


def test_an_untouched_topic_is_one_line_and_a_mistake_is_explained_once():
    printed = text.render(_report())
    assert "Probability [probability]  0/2  todo (no file submitted)" in printed
    assert "Optimizers [optimizers]  0/2  todo (nothing implemented yet)" in printed
    assert printed.count("reverse h") == 1  # e_hidden refers to b_fail's explanation
    assert "(kernel-flip: explained under b_fail)" in printed
    assert "todo       0/2  a_todo: receptive_field(x) not attempted" in printed  # a started topic keeps its todo rows


@pytest.mark.parametrize(("env", "coloured"), [({}, True), ({"NO_COLOR": "1"}, False)], ids=["terminal", "NO_COLOR"])
def test_colour_on_a_terminal_unless_no_color(monkeypatch, env, coloured):
    monkeypatch.delenv("NO_COLOR", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    out = io.StringIO()
    console = text.console(file=out, color=True)
    console.print(text.row(_check("b_fail", FAILED), 80))
    assert bool(re.search(r"\x1b\[[0-9;]*3[0-7]m", out.getvalue())) is coloured  # a foreground colour (NO_COLOR allows bold)
    assert "FAIL" in out.getvalue()
