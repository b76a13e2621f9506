"""What a hidden check sends must not come back to the student through text the submission controls, and nothing the
submission writes may pass for the sandbox's own word (threat model 5 and 6: reading the grader's values, reading
the hidden tests; course.yaml ``feedback.hidden`` below ``full``).

A submission can spell a hidden input in words (no digit for the number blanker to find), in an exception's message,
in the name of an exception class of its own, or in a topic-level error (a module that fails to load again after a
hidden check stopped its worker); it can also write a frame claiming that the sandbox failed. Each is graded for real
and every output format of the restricted report is searched for what it spelled.
"""

from __future__ import annotations

import re

import pytest

from attacks import FORGE, Attack, D, attack
from autograder.course.submission import Submission
from autograder.engine.results import PASSED, Report
from autograder.engine.visibility import ERROR_WITHHELD, redact
from autograder.reports.renderers import FORMATS, render

from conftest import grade_source

# The first input value, spelled: "minus zero point three one four ..." has no digit in it.
SPELL = """
_WORDS = "zero one two three four five six seven eight nine".split()


def _spell(x):
    text = f"{float(_np.ravel(x)[0]):.6f}"
    return "SPELLED " + " ".join({"-": "minus", ".": "point"}.get(c) or _WORDS[int(c)] for c in text)
"""

LEAKS = {
    "exception_message": SPELL + D("""
        def conv1d(f, h, mode="full"):
            raise ValueError(_spell(f))
        """),
    "exception_class_name": SPELL + D("""
        def conv1d(f, h, mode="full"):
            name = "_".join(_spell(f).split())
            raise type(name, (Exception,), {})("nothing to see")
        """),
}

_SPELLED = re.compile(r"SPELLED[ _](?:[a-z]+[ _]){3,}[a-z]+")


def _restricted(result, level: str) -> list[str]:
    report = Report("course", "submission", "strict", ["cpu"], [redact(result, level)], hidden_feedback=level)
    return [render(report, fmt) for fmt in FORMATS]


@pytest.mark.parametrize("level", ["no-values", "pass-fail"])
@pytest.mark.parametrize("name", sorted(LEAKS))
def test_hidden_inputs_spelled_in_words_reach_no_output_below_full(tight_grader, name: str, level: str):
    """6: below ``full`` a failing hidden check shows the grader's words only, never the submission's."""
    result = Attack(LEAKS[name], phrase=None).run(tight_grader)
    spelled = {m for c in result.checks if c.hidden for m in _SPELLED.findall(c.message)}
    assert spelled, "the attack did not spell any hidden input in the full report"
    for text in _restricted(result, level):
        assert not [s for s in spelled if s in text or s.replace(" ", "_") in text]
    hidden = [c for c in redact(result, level).checks if c.hidden and c.status != PASSED]
    assert hidden and all("SPELLED" not in c.message for c in hidden)
    if level == "no-values":
        assert any("raised an exception" in c.message or "raised ValueError" in c.message for c in hidden), [c.message for c in hidden]


FORGED_SANDBOX_ERROR = FORGE + """
_forge({"ok": False, "arrays": [], "sandbox_error": "FORGED: the sandbox is fine, this text is the submission's"})
"""


def test_a_forged_sandbox_failure_is_the_submissions_and_not_the_sandboxs(tight_grader):
    """5: a frame that says "sandbox_error" is only a frame the submission wrote: the topic fails as malformed, and
    neither its text nor a claim that the sandbox failed reaches the report."""
    result = grade_source(tight_grader, attack(FORGED_SANDBOX_ERROR))
    assert result.points == 0 and result.error is not None
    assert "could not be set up" not in result.error and "FORGED" not in result.error, result.error
    assert "malformed" in result.error, result.error


# The first worker, stopped by a hidden check, leaves the spelled input where the next one can read it (possible in
# the process sandbox only); the next worker's import fails with it: a topic-level error after a hidden check.
RELOAD_LEAK = SPELL + """
import os as _os

_NOTE = "/tmp/autograder-leak-" + str(_os.getuid())
if _os.path.exists(_NOTE):
    with open(_NOTE) as _fh:
        _said = _fh.read()
    _os.unlink(_NOTE)
    raise ValueError(_said)


def conv1d(f, h, mode="full"):
    with open(_NOTE, "w") as fh:
        fh.write(_spell(f))
    _os._exit(1)
"""


@pytest.mark.parametrize("level", ["no-values", "pass-fail"])
def test_a_topic_error_after_a_hidden_check_follows_the_hidden_rules(tight_grader, level: str):
    """5, 6: the module failing to load again once a hidden check ran is hidden text below ``full``."""
    report = grade_report_checks(tight_grader, attack(RELOAD_LEAK), ["hidden_conv1d", "conv1d_full"])
    result = report.topics[0]
    assert result.points == 0
    if tight_grader.mode == "process":  # a file survives between workers here: the leak is attempted for real
        assert result.error and "SPELLED" in result.error
    restricted = redact(result, level)
    assert "SPELLED" not in (restricted.error or "")
    if result.error:
        assert restricted.error == ERROR_WITHHELD
    for text in _restricted(result, level):
        assert "SPELLED" not in text


def grade_report_checks(grader, source: str, checks: list[str]):
    """Grade only ``checks``, in this order (a hidden check first)."""
    return grader.grade(Submission.from_texts("submission", {"convolution": source}), topics=["convolution"], checks=checks)
