"""``grade run``: grade one submission and write the report in the requested format."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Sequence

from .course.config import load_course, locate_course

__all__ = ["main"]


BELOW_THRESHOLD = 4  # exit code: graded, but under --fail-under


def main(*, path: Path | None, topics: Sequence[str], device: str, fmt: str, output: Path | None, sandbox: str, course: Path | None, public_only: bool, figures: Path | None = None, fail_under: float | None = None) -> int:
    """Grade; return the exit code (0 graded, 3 a check or the grader failed, 4 under ``fail_under`` percent of the
    points graded; config and usage errors raise)."""
    from .course.submission import Submission
    from .engine.grading import Grader, resolve_devices
    from .reports.output import deliver
    from .reports.renderers import render

    submission_path = path if path is not None else Path("exercises")
    course_obj = load_course(locate_course(course, submission_path))
    for topic in topics:
        course_obj.topic(topic)  # an unknown topic is a usage error before anything starts
    if figures is None and output is not None:
        figures = output.parent / f"{output.stem}-figures"
    hide = [p.resolve() for p in (output, figures) if p is not None]
    submission = Submission.from_path(submission_path, course_obj)
    with Grader(course=course_obj, sandbox=sandbox, devices=resolve_devices(device), hide=hide) as grader:
        report = grader.grade(submission, topics=topics or None, public_only=public_only)
    if figures is not None:
        from .reports.plots import write_figures

        write_figures(report, figures)
    deliver(lambda f: render(report, f), fmt=fmt, output=output)
    if output is None and fmt != "text":  # the text report already starts with them
        for note in report.notes:
            print(note, file=sys.stderr)
    if report.internal_errors:
        return 3
    if fail_under is not None and report.points < fail_under / 100 * report.max_points:
        print(f"score {report.points:g}/{report.max_points:g} is under --fail-under {fail_under:g}% ({fail_under / 100 * report.max_points:g} points)", file=sys.stderr)
        return BELOW_THRESHOLD
    return 0

