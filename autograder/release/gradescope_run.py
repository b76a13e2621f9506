"""``grade gradescope run``: what the Gradescope autograder runs for each submission. It chooses the folder to grade,
grades it and writes results/results.json, always: with score 0 and the reason when the submission is refused or
grading cannot finish.

The student names every path in the submission, so the folder is chosen here, over real directory entries
(``find_topic_folder``: links are not followed, a name holding a control character is refused, the choice must
resolve inside the submission), not by a shell pipeline over printed paths: a newline in a folder name once made
``find | sort | head`` grade the course's own solutions.
"""

from __future__ import annotations

import sys
import traceback
from pathlib import Path
from typing import Iterable

from ..course.config import load_course
from ..course.submission import Submission, find_topic_folder
from ..engine.grading import Grader, resolve_devices
from ..errors import GraderError, SandboxUnavailable, UsageError
from ..reports.output import deliver, to_json, write_atomically
from ..reports.renderers import render
from .gradescope_build import ALLOW_PROCESS_FLAG

__all__ = ["main", "choose_folder", "Refused"]

_REGRADE = "Your score is 0 until it is regraded: tell your instructor."


class Refused(UsageError):
    """The submission cannot be graded as it was handed in; the student can fix it and submit again."""


def choose_folder(submission: Path, topics: Iterable[str]) -> Path:
    """The shallowest real folder in ``submission`` that holds a topic's file (uploaded files, or a repository with
    exercises/ inside); Refused, naming the entry, when a name is unsafe or no folder holds a topic file."""
    try:
        return find_topic_folder(submission, topics)
    except UsageError as exc:
        raise Refused(str(exc)) from None


def main(*, root: Path, sandbox: str) -> int:
    """Grade ``root``/submission with the course in ``root``/source into ``root``/results/results.json and return the
    exit code: 0 graded, 3 a check failed internally (the report is complete, that check gave no points), else that
    of the error, whose reason results.json gives with score 0. Only a results folder that cannot be written raises."""
    results = root / "results" / "results.json"
    try:
        course = load_course(root / "source" / "course.yaml")
        folder = choose_folder(root / "submission", [t.id for t in course.topics])
        with Grader(course=course, sandbox=sandbox, devices=resolve_devices("auto"), hide=[results.parent]) as grader:
            report = grader.grade(Submission.from_path(folder, course))
        deliver(lambda fmt: render(report, fmt), fmt="gradescope", output=results)
        return 3 if report.internal_errors else 0
    except Exception as exc:  # noqa: BLE001 - whatever happened, the student gets a results.json that says so
        code, output = _failure(exc)
    print(output, file=sys.stderr)
    zero = {"score": 0, "output": output, "output_format": "text", "visibility": "visible", "stdout_visibility": "hidden", "tests": []}
    write_atomically(results, to_json(zero))
    return code


def _failure(exc: Exception) -> tuple[int, str]:
    """The exit code and what the student (and the instructor, in the log) reads: the reason on one line."""
    reason = _one_line(str(exc))
    if isinstance(exc, Refused):
        return exc.exit_code, f"This submission was not graded: {reason}.\nYour score is 0: fix this and submit again."
    if isinstance(exc, SandboxUnavailable):
        return exc.exit_code, (
            f"The autograder could not grade this submission: it grades in the strict sandbox only, and this machine cannot provide it ({reason}).\n{_REGRADE}\n"
            f"Instructor: rebuild the autograder with `grade gradescope build {ALLOW_PROCESS_FLAG}` to grade in the process sandbox"
            " where strict is unavailable (no file-system or network isolation: see SECURITY.md), upload it, and regrade."
        )
    if isinstance(exc, GraderError):
        said, code = f"Error: {reason}", exc.exit_code
    else:
        traceback.print_exc()  # the grader's own bug: the whole traceback for the instructor's log
        said, code = f"{type(exc).__name__}: {reason}", 1
    return code, f"The autograder could not grade this submission (grade exited with {code}): {said}\n{_REGRADE}"


def _one_line(text: str) -> str:
    """``text`` with what is not printable shown as escapes: a reason may name a path the student chose, and a newline,
    carriage return or terminal escape in it would forge lines of the log and of the student's feedback."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)
