"""Every output format of the same report, against golden files (UPDATE_GOLDEN=1 rewrites them after a change
you meant to make; review the diff)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from autograder.course.submission import Submission
from autograder.engine.results import FAILED, CheckResult, Report, TopicResult
from autograder.reports.renderers import FORMATS, render

from conftest import ROOT

GOLDEN = ROOT / "tests" / "golden"


@pytest.fixture(scope="module")
def example_report(grader):
    report = grader.grade(Submission.from_path(ROOT / "examples" / "submission", grader.course))
    # What depends on the machine, not on the grading: the sandbox mode, the notes about it, where the clone is.
    report.sandbox, report.notes = "strict", []
    report.submission = "examples/submission"
    for topic in report.topics:
        topic.file = str(Path(topic.file).relative_to(ROOT))
        if topic.error:  # a topic with no file names the path it looked for
            topic.error = topic.error.replace(f"{ROOT}/", "")
            for check in topic.checks:
                check.message = check.message.replace(f"{ROOT}/", "")
    return report


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_report_matches_golden_file(example_report, fmt: str):
    text = render(example_report, fmt)
    golden = GOLDEN / f"example.{fmt}"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(text)
    assert text == golden.read_text()


def test_golden_text_has_no_traceback_and_names_mistakes():
    text = (GOLDEN / "example.text").read_text()
    assert "Traceback" not in text
    assert re.findall(r"-> known mistake: (\S+)", text) == ["kernel-flip"] * 3 + ["circular-fft", "kernel-flip", "kernel-flip", "circular-fft"]


def test_markdown_escapes_table_cells_and_fences_student_text():
    check = CheckResult("a|b", "title", 1.0, FAILED, hidden=True, message="got ```x```\nand | more")
    topic = TopicResult("t", "T", "t.py", [check], output="printed ````")
    text = render(Report("Course", "sub", "process", ["cpu"], [topic]), "markdown")
    assert "| a\\|b (hidden) | 0/1 | ❌ failed |" in text
    assert "````\ngot ```x```\nand | more\n````" in text  # a fence longer than any backtick run inside
    assert "`````\nprinted ````\n`````" in text
