"""course.yaml feedback.hidden: what a failing hidden check tells the student, in every output format."""

from __future__ import annotations

import dataclasses
import json
import re

import pytest

from autograder.course.config import load_course
from autograder.course.submission import Submission
from autograder.engine.grading import Grader
from autograder.engine.results import FAILED, PASSED, CheckResult, Report, TopicResult
from autograder.engine.visibility import ERROR_WITHHELD, WITHHELD, redact
from autograder.errors import ConfigError
from autograder.reports.renderers import FORMATS, render

from conftest import ROOT
from mistakes import known_mistakes

MESSAGE = "conv1d(f, h) with len(f)=9: got 0.2395 at index (0, 3), expected -1.5e-3"
SUMMARY = "conv1d(f, h) with len(f)=9: not the expected result"  # the grader's words only
FIGURE = {"kind": "curves", "title": "t", "series": {}}


def _topic() -> TopicResult:
    checks = [
        CheckResult("public_fail", "p", 1, FAILED, False, MESSAGE, {"id": "m", "title": "t", "fix": "f"}, ["cpu"], [FIGURE]),
        CheckResult("hidden_fail", "h", 1, FAILED, True, MESSAGE, {"id": "m", "title": "t", "fix": "f"}, ["cpu"], [FIGURE], SUMMARY),
        CheckResult("hidden_pass", "h", 1, PASSED, True, "", None, ["cpu"], []),
    ]
    return TopicResult("convolution", "Convolutions", "c.py", checks, output="f = [0.25, 0.5]")


@pytest.mark.parametrize(
    "level, message, mistake, figures, output",
    [
        pytest.param("full", MESSAGE, True, True, "f = [0.25, 0.5]", id="full"),
        pytest.param("no-values", "conv1d(f, h) with len(f)=…: not the expected result", True, False, WITHHELD, id="no-values"),
        pytest.param("pass-fail", "failed (this course shows hidden checks as pass/fail only)", False, False, WITHHELD, id="pass-fail"),
    ],
)
def test_each_level_keeps_what_it_promises(level: str, message: str, mistake: bool, figures: bool, output: str):
    result = redact(_topic(), level)
    public, hidden, passed = result.checks
    assert public == _topic().checks[0] and passed == _topic().checks[2]  # public checks and passes are untouched
    assert hidden.summary == "" or level == "full"  # the summary itself is not carried further
    assert (hidden.message, hidden.mistake is not None, bool(hidden.figures), result.output) == (message, mistake, figures, output)


def test_an_unknown_level_is_refused_naming_the_key(tmp_path):
    bad = tmp_path / "course.yaml"
    text = (ROOT / "course.yaml").read_text()
    assert text.count("  hidden: full ") == 1
    bad.write_text(text.replace("  hidden: full ", "  hidden: some "))
    (tmp_path / "exercises").symlink_to(ROOT / "exercises")
    (tmp_path / "solutions").symlink_to(ROOT / "solutions")
    (tmp_path / "checks").symlink_to(ROOT / "checks")
    with pytest.raises(ConfigError, match=r"feedback.hidden: expected one of full, no-values, pass-fail, got 'some'"):
        load_course(bad)


PRINTS_INPUTS = "\n\n_conv1d = conv1d\n\n\ndef conv1d(f, h, mode='full'):\n    print('inputs', list(f), list(h))\n    return _conv1d(f, h, mode)\n"


@pytest.mark.parametrize("level", ["pass-fail", "no-values"])
def test_no_hidden_input_or_expected_value_reaches_any_output_format(course, level: str):
    """The numbers of the hidden checks' full messages (their inputs, expected and wrong values), and what a
    submission printed of its inputs, appear in no format once the course restricts hidden feedback."""
    source = known_mistakes("convolution")["kernel_flip"].source + PRINTS_INPUTS
    reports = {}
    for name, feedback in (("full", "full"), ("restricted", level)):
        with Grader(course=dataclasses.replace(course, hidden_feedback=feedback), devices=["cpu"]) as grader:
            reports[name] = grader.grade(Submission.from_texts("student", {"convolution": source}), topics=["convolution"])
    full = reports["full"].topics[0]
    secrets = {n for c in full.checks if c.hidden and c.status != PASSED for n in re.findall(r"-?\d+\.\d{3,}(?:e-?\d+)?", c.message)}
    secrets |= set(re.findall(r"-?\d+\.\d{6,}", full.output))  # the hidden inputs the submission printed
    assert len(secrets) > 10
    restricted: Report = reports["restricted"]
    assert any(c.hidden and c.status != PASSED for c in restricted.topics[0].checks)
    for fmt in FORMATS:
        text = render(restricted, fmt)
        assert not [s for s in secrets if s in text], fmt


@pytest.mark.parametrize("level, hidden_visibility", [("full", "visible"), ("no-values", "visible"), ("pass-fail", "after_due_date")])
def test_gradescope_visibility_of_hidden_checks_follows_the_level(level: str, hidden_visibility: str):
    report = Report("Course", "sub", "process", ["cpu"], [redact(_topic(), level)], hidden_feedback=level)
    tests = {t["extra_data"]["check"]: t for t in json.loads(render(report, "gradescope"))["tests"]}
    assert {c: t["visibility"] for c, t in tests.items()} == {"public_fail": "visible", "hidden_fail": hidden_visibility, "hidden_pass": hidden_visibility}


@pytest.mark.parametrize(
    "level, error, after_hidden, shown",
    [
        pytest.param("full", "importing c.py failed: ValueError: zero point two", True, "importing c.py failed: ValueError: zero point two", id="full-after-hidden"),
        pytest.param("no-values", "importing c.py failed: SyntaxError", False, "importing c.py failed: SyntaxError", id="before-any-hidden-check"),
        pytest.param("no-values", "importing c.py failed: ValueError: zero point two", True, ERROR_WITHHELD, id="no-values-after-hidden"),
        pytest.param("pass-fail", "importing c.py failed: ValueError: zero point two", True, ERROR_WITHHELD, id="pass-fail-after-hidden"),
    ],
)
def test_a_topic_error_after_a_hidden_check_follows_the_level(level: str, error: str, after_hidden: bool, shown: str):
    """A module that fails to load again once a hidden check ran could say (in words) what that check sent it."""
    topic = dataclasses.replace(_topic(), error=error, error_after_hidden=after_hidden)
    assert redact(topic, level).error == shown
