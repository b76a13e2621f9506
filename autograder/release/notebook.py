"""What a released notebook's test cells call when a student runs them in their own Jupyter.

At ``nbgrader autograde`` these cells never run (autograder.release.nbgrader_plugin grades instead). In a student's kernel,
``check`` grades the *saved* notebook ``<topic>.ipynb`` in the current folder (Jupyter's is the notebook's) with the
course found there or above it: the course.yaml ``grade release nbgrader`` puts beside each notebook (that topic's public
checks and their recorded answers), or a student bundle's. It grades in the sandbox, once per saved version, and then
passes or raises for the one check the cell names. Nothing goes to stderr on success: nbgrader scores a cell with
stderr 0.
"""

from __future__ import annotations

import atexit
import hashlib
from pathlib import Path
from typing import Any

__all__ = ["check", "check_hidden", "CheckNotPassed"]

_state: dict[str, Any] = {"grader": None, "reports": {}}


class CheckNotPassed(Exception):
    """The check this cell names did not pass; the message says why."""


def _result(topic: str) -> Any:
    from ..course.config import load_course, locate_course
    from ..course.submission import Submission
    from ..engine.grading import Grader
    from ..engine.results import TopicResult
    from ..errors import UsageError

    notebook = Path.cwd() / f"{topic}.ipynb"
    if not notebook.is_file():
        raise CheckNotPassed(f"{notebook} not found: the test cells grade the saved notebook {topic}.ipynb in the current folder")
    key = hashlib.sha256(notebook.read_bytes()).hexdigest()
    if key not in _state["reports"]:
        if _state["grader"] is None:
            try:
                found = locate_course(None, notebook)
            except UsageError:
                raise CheckNotPassed(
                    f"no course.yaml in {notebook.parent} or above it: the test cells grade with the files released beside"
                    f" {topic}.ipynb (course.yaml, checks/public/{topic}.py, answers/{topic}.npz); put them back beside it"
                    " (nbgrader fetch does), or set AUTOGRADER_COURSE to the course.yaml of a course that has this topic"
                ) from None
            _state["grader"] = Grader(course=load_course(found), sandbox="auto", devices=["cpu"])
            atexit.register(_state["grader"].close)
        report = _state["grader"].grade(Submission.from_path(notebook, _state["grader"].course), topics=[topic])
        _state["reports"][key] = report.topics[0]
    result: TopicResult = _state["reports"][key]
    return result


def check(topic: str, check_id: str) -> None:
    """Grade the saved notebook's code (save it first) and report the check ``check_id``."""
    result = _result(topic)
    if result.error:
        raise CheckNotPassed(result.error)
    found = [c for c in result.checks if c.id == check_id]
    if not found:
        raise CheckNotPassed(f"topic {topic!r} has no check {check_id!r} in this course.yaml")
    if found[0].status != "passed":
        raise CheckNotPassed(f"{check_id} {found[0].status}: {found[0].message}")
    print(f"passed: {found[0].title}")


def check_hidden(topic: str) -> None:
    """Hidden checks draw their inputs when you submit; here there is nothing to run."""
    print(f"The hidden checks of {topic!r} run in the course grader when you submit; passing every public check does not guarantee them.")
