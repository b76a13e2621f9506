"""What a failing hidden check may tell the student (course.yaml ``feedback.hidden``), applied once to the results.

``full`` shows everything. ``no-values`` blanks every number in a hidden check's message (inputs, expected values,
shapes) and drops its figures, keeping what failed and any named mistake. ``pass-fail`` keeps only the status. Below
``full`` the excerpt of what the code printed is withheld for the whole topic: a submission can print its inputs.
"""

from __future__ import annotations

import dataclasses
import re

from .results import PASSED, CheckResult, TopicResult

__all__ = ["redact", "WITHHELD"]

# A number standing alone (not the 1 of conv1d or the 64 of float64): signs, decimals, exponents, inf and nan.
_NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?(?![\w.])|(?<![\w])[-+]?(?:inf|nan)(?!\w)")
WITHHELD = "(withheld: this course does not show the values of hidden checks, and printed output could contain them)"


def _check(check: CheckResult, level: str) -> CheckResult:
    if not check.hidden or check.status == PASSED:
        return check
    if level == "pass-fail":
        return dataclasses.replace(check, message=f"{check.status} (this course shows hidden checks as pass/fail only)", mistake=None, figures=[])
    return dataclasses.replace(check, message=_NUMBER.sub("…", check.message), figures=[])


def redact(result: TopicResult, level: str) -> TopicResult:
    """``result`` as a student may see it under ``level`` (one of config.HIDDEN_FEEDBACK)."""
    if level == "full" or not any(c.hidden for c in result.checks):
        return result
    return dataclasses.replace(result, checks=[_check(c, level) for c in result.checks], output=WITHHELD if result.output else "")
