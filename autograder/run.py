"""``grade run``: grade one submission; the text report comes to the terminal as checks finish, and any number of
formats go to files in the same run."""

from __future__ import annotations

import fnmatch
import sys
from pathlib import Path
from typing import Any, Sequence

from .course.config import Course, load_course, locate_course
from .errors import UsageError

__all__ = ["main", "default_path", "select_checks"]


BELOW_THRESHOLD = 4  # exit code: graded, but under --fail-under


def default_path(cwd: Path, course: Course) -> Path:
    """What ``grade`` grades without a PATH: ./exercises, or the current folder when it holds topic files itself
    (``cd exercises && grade``)."""
    names = {f"{t.id}{s}" for t in course.topics for s in (".py", ".ipynb")}
    if not (cwd / "exercises").is_dir() and any((cwd / n).exists() for n in names):
        return cwd
    return cwd / "exercises"


def select_checks(course: Course, checks_of: Any, topics: Sequence[str], patterns: Sequence[str]) -> dict[str, list[str]]:
    """Topic id -> the ids of its checks matching any of ``patterns`` (``ID``, a glob such as ``conv2d_*``, or
    ``TOPIC.ID``), in grading order; a pattern that matches nothing is a usage error that lists what exists."""
    chosen: dict[str, list[str]] = {}
    matched = set()
    for topic in topics or [t.id for t in course.topics]:
        for check_id in (c.id for c in checks_of(topic)):
            hits = [p for p in patterns if fnmatch.fnmatchcase(check_id, p) or fnmatch.fnmatchcase(f"{topic}.{check_id}", p)]
            if hits:
                chosen.setdefault(topic, []).append(check_id)
                matched.update(hits)
    unknown = [p for p in patterns if p not in matched]
    if unknown:
        raise UsageError(f"--check {unknown[0]}: no check matches it; `grade list --checks` lists the check ids (globs such as 'conv2d_*' and TOPIC.ID work)")
    return chosen


def main(*, path: Path | None, topics: Sequence[str], device: str, formats: Sequence[tuple[str, Path | None]], output: Path | None, sandbox: str, course: Path | None, public_only: bool, figures: Path | None = None, fail_under: float | None = None, checks: Sequence[str] = ()) -> int:
    """Grade; return the exit code (0 graded, 3 a check or the grader failed, 4 under ``fail_under`` percent of the
    points graded; config and usage errors raise). ``formats``: (format, file or None for stdout/``output``)."""
    from .course.submission import Submission
    from .engine.grading import Grader, resolve_devices
    from .engine.results import Report, TopicResult
    from .reports.output import to_stdout, write_atomically
    from .reports.plots import write_figures
    from .reports.renderers import render
    from .reports.terminal import LiveReport

    course_obj = load_course(locate_course(course, path or Path.cwd()))
    submission_path = path if path is not None else default_path(Path.cwd(), course_obj)
    for topic in topics:
        course_obj.topic(topic)  # an unknown topic is a usage error before anything starts
    unbound = [fmt for fmt, file in formats if file is None]
    if len(unbound) > 1:
        raise UsageError(f"--format {unbound[0]} and --format {unbound[1]}: only one report can go to {'--output' if output else 'the terminal'}; give the others a file (--format {unbound[1]}:PATH)")
    if output is not None and not unbound:
        raise UsageError("--output: every --format already names its file; drop --output or give one --format without a file")
    to_screen = unbound[0] if unbound and output is None else None
    if figures is None and output is not None:
        figures = output.parent / f"{output.stem}-figures"
    files = [(fmt, file if file is not None else output) for fmt, file in formats if file is not None or output is not None]
    hide = [p.resolve() for p in [*(f for _, f in files), figures] if p is not None]
    submission = Submission.from_path(submission_path, course_obj)
    with Grader(course=course_obj, sandbox=sandbox, devices=resolve_devices(device), hide=hide) as grader:
        only = select_checks(course_obj, lambda t: grader.checks(t, hidden=not public_only), topics, checks) if checks else None
        live = None
        if to_screen in (None, "text"):
            live = LiveReport(course=course_obj.title, titles={t.id: t.title for t in course_obj.topics}, submission=submission.label, sandbox=grader.mode, devices=grader.devices)

        def topic_done(result: TopicResult) -> None:
            if figures is not None:  # drawn as each topic ends, so that its report names the files
                write_figures(Report("", "", "", [], [result]), figures)
            if live is not None:
                live.topic(result)

        try:
            report = grader.grade(submission, topics=list(only) if only is not None else list(topics) or None, public_only=public_only, checks=only, on_check=live.check if live else None, on_topic=topic_done)
        finally:
            if live is not None:
                live.stop()
    for fmt, file in files:
        write_atomically(file, render(report, fmt))
    if live is not None:
        live.finish(report)
    else:
        to_stdout(render(report, to_screen))
        for note in report.notes:
            print(note, file=sys.stderr)
    if report.internal_errors:
        return 3
    if fail_under is not None and report.points < fail_under / 100 * report.max_points:
        print(f"score {report.points:g}/{report.max_points:g} is under --fail-under {fail_under:g}% ({fail_under / 100 * report.max_points:g} points)", file=sys.stderr)
        return BELOW_THRESHOLD
    return 0
