"""What a failing hidden check may tell the student (course.yaml ``feedback.hidden``), applied once to the results.

``full`` shows everything. Below it, nothing the submission wrote reaches the student for a hidden check: its
exception messages, its class names, its printed output, a traceback (a submission can spell what a hidden check
sent it in any of them, in words as easily as in digits). ``no-values`` keeps what failed in the grader's own words
(``CheckResult.summary``: which call, and whether it raised, gave the wrong result, ran out of time or crashed) with
every number in it blanked, and any named mistake; figures are dropped. ``pass-fail`` keeps only the status. A
topic-level error that came once a hidden check had run (the module failing to load again) is hidden text too, and
the excerpt of printed output is withheld for the whole topic.
"""

from __future__ import annotations

import dataclasses
import re

from .results import PASSED, CheckResult, TopicResult

__all__ = ["redact", "redact_check", "WITHHELD"]

# A number standing alone (not the 1 of conv1d or the 64 of float64): signs, decimals, exponents, inf and nan.
_NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?(?![\w.])|(?<![\w])[-+]?(?:inf|nan)(?!\w)")
WITHHELD = "(withheld: this course does not show the values of hidden checks, and printed output could contain them)"
ERROR_WITHHELD = "the module could not be loaded again after a hidden check ran (details withheld: this course does not show what hidden checks send)"


def redact_check(check: CheckResult, level: str) -> CheckResult:
    """One check's result as a student may see it under ``level``."""
    if not check.hidden or check.status == PASSED:
        return check
    if level == "pass-fail":
        return dataclasses.replace(check, message=f"{check.status} (this course shows hidden checks as pass/fail only)", mistake=None, figures=[], summary="", stopped_at="")
    return dataclasses.replace(check, message=_NUMBER.sub("…", check.summary or check.status), figures=[], summary="", stopped_at="")


def redact(result: TopicResult, level: str) -> TopicResult:
    """``result`` as a student may see it under ``level`` (one of config.HIDDEN_FEEDBACK)."""
    if level == "full" or not any(c.hidden for c in result.checks):
        return result
    error = ERROR_WITHHELD if result.error and result.error_after_hidden else result.error
    stopped_at = "" if result.error_after_hidden else result.stopped_at
    return dataclasses.replace(result, checks=[redact_check(c, level) for c in result.checks], output=WITHHELD if result.output else "", error=error, stopped_at=stopped_at)
