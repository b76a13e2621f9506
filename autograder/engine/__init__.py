"""The referee: runs each check in the grading process, asks a sandboxed worker for the student's answers, compares
them with the reference's on its own copies of the inputs, and keeps the results; it never imports student code.

``grading`` (the Grader), ``checks`` (the API checks are written in), ``compare`` (tolerances and messages),
``seeding`` (inputs keyed by the secret and the submission), ``results`` (the results model), ``visibility`` (what a
hidden check may tell).
"""

from .checks import USES_AUTOGRAD, Check, Program, StudentError, Trial, check, checks_in
from .compare import CheckFailed, Mistake, assert_close, describe
from .grading import Grader, default_jobs, resolve_devices
from .results import ERROR, FAILED, NOT_ATTEMPTED, PASSED, CheckResult, Report, TopicResult
from .seeding import check_seed, digest
from .visibility import WITHHELD, redact

__all__ = [
    "Grader", "resolve_devices", "default_jobs",
    "check", "Check", "Trial", "Program", "StudentError", "USES_AUTOGRAD", "checks_in",
    "CheckFailed", "Mistake", "assert_close", "describe",
    "check_seed", "digest",
    "PASSED", "FAILED", "NOT_ATTEMPTED", "ERROR", "CheckResult", "TopicResult", "Report",
    "redact", "WITHHELD",
]
