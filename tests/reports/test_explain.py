"""What a report says per check: the call a not-attempted check found missing, and a named mistake explained once
per topic (autograder.reports.explain)."""

from __future__ import annotations

import pytest

from autograder.engine.results import FAILED, NOT_ATTEMPTED, PASSED, CheckResult, Report, TopicResult
from autograder.reports.explain import messages, missing
from autograder.reports.renderers import render

FLIP = {"id": "kernel-flip", "title": "the kernel is not flipped", "fix": "Reverse h before sliding it."}
EXPLAINED = "conv1d(f, h): your answer matches a known mistake: the kernel is not flipped. Reverse h before sliding it."


def _check(check_id: str, status: str = FAILED, message: str = EXPLAINED, mistake: dict | None = FLIP) -> CheckResult:
    return CheckResult(check_id, f"title of {check_id}", 1.0, status, False, message, mistake)


@pytest.mark.parametrize("check, call", [
    pytest.param(_check("value_log", NOT_ATTEMPTED, "v0.log(): not attempted (raises NotImplementedError)", None), "v0.log()", id="the-call"),
    pytest.param(_check("x", NOT_ATTEMPTED, "convolution.py not found: nothing submitted for this topic", None), "", id="nothing-submitted"),
    pytest.param(_check("x", FAILED, "f(): not attempted in the way expected", None), "", id="only-not-attempted-checks"),
])
def test_missing_names_the_call(check, call):
    assert missing(check) == call


def test_a_mistake_is_explained_under_its_first_check_and_referred_to_after():
    topic = TopicResult("convolution", "Convolutions", "convolution.py", [_check("a"), _check("b", PASSED, "", None), _check("c"), _check("d")])
    said = messages(topic)
    assert said["a"] == EXPLAINED
    assert said["c"] == said["d"] == "conv1d(f, h): your answer matches a known mistake: the kernel is not flipped (kernel-flip: explained under a)"


@pytest.mark.parametrize("fmt", ["text", "markdown"])
def test_text_and_markdown_explain_each_mistake_once(fmt):
    topic = TopicResult("convolution", "Convolutions", "convolution.py", [_check("a"), _check("c"), _check("v", NOT_ATTEMPTED, "v0.log(): not attempted (raises NotImplementedError)", None)])
    text = render(Report("Course", "sub", "strict", ["cpu"], [topic]), fmt)
    # Markdown heads the first check with the fix as well as its message; no later check repeats it.
    assert text.count("Reverse h before sliding it.") == {"text": 1, "markdown": 2}[fmt]
    assert "explained under a" in text
    assert "v0.log()" in text and "not attempted" in text
