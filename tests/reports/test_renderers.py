"""Every output format of the same report, against golden files (UPDATE_GOLDEN=1 rewrites them after a change
you meant to make; review the diff); and the machine-readable ones stay readable whatever a student's code sent."""

from __future__ import annotations

import json
import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from autograder.course.submission import Submission
from autograder.engine.results import ERROR, FAILED, CheckResult, Report, TopicResult
from autograder.reports import plots
from autograder.reports.renderers import FORMATS, render

from conftest import ROOT

GOLDEN = ROOT / "tests" / "golden"


@pytest.fixture(scope="module")
def example_report(grader):
    report = grader.grade(Submission.from_path(ROOT / "examples" / "submission", grader.course))
    # What depends on the machine, not on the grading: the sandbox mode, the notes about it, where the clone is, and
    # the CPU time each topic and check took (fixed here at figures that show how each format rounds them).
    report.sandbox, report.notes = "strict", []
    report.submission = "examples/submission"
    for topic in report.topics:
        topic.file = str(Path(topic.file).relative_to(ROOT))
        topic.cpu_s = 1.2345
        for check in topic.checks:
            check.cpu_s = 0.0125
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
    assert re.findall(r"-> known mistake: (\S+)", text) == ["kernel-flip"] * 2 + ["circular-fft", "kernel-flip", "kernel-flip", "circular-fft"]  # bad_mode passes: its control is not judged on numbers


def test_markdown_escapes_table_cells_and_fences_student_text():
    check = CheckResult("a|b", "title", 1.0, FAILED, hidden=True, message="got ```x```\nand | more")
    topic = TopicResult("t", "T", "t.py", [check], output="printed ````")
    text = render(Report("Course", "sub", "process", ["cpu"], [topic]), "markdown")
    assert "| a\\|b (hidden) | 0/1 | ❌ failed |" in text
    assert "````\ngot ```x```\nand | more\n````" in text  # a fence longer than any backtick run inside
    assert "`````\nprinted ````\n`````" in text


# What a student's code can put in a report: a diverging trajectory's numbers, and any text it prints or raises.
HOSTILE = [
    pytest.param(float("nan"), id="nan"),
    pytest.param(float("inf"), id="inf"),
    pytest.param(float("-inf"), id="minus-inf"),
    pytest.param("\ud800", id="lone-surrogate"),
    pytest.param("\x00", id="nul"),
    pytest.param("\x1b[31m", id="escape-sequence"),
]


def hostile_report(value: float | str) -> Report:
    """``value`` in a check's figure data and in every message, title and excerpt a student's code can reach."""
    number = value if isinstance(value, float) else 1.0
    text = f"got {value} where 1 was expected"
    figure = plots.trajectory(title=text, series={"yours": [[0.0, number]], "reference": [[0.0, 1.0]]}, losses={"yours": [number], "reference": [1.0]})
    mistake = {"id": "m", "title": text, "fix": text}
    check = CheckResult("c", "title", 1.0, FAILED, hidden=False, message=f"{text}\nsecond line {value}", mistake=mistake, figures=[figure])
    broken = CheckResult("d", "title", 1.0, ERROR, hidden=False, message=text)
    topic = TopicResult("t", "T", "t.py", [check, broken], error=None, output=f"printed {value}")
    return Report("Course", f"sub{value}", "strict", ["cpu"], [topic], notes=[text])


def _no_constants(name: str) -> None:
    raise ValueError(f"{name} is not RFC 8259 JSON")


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize("fmt", ["json", "gradescope"])
def test_json_reports_are_rfc_8259_json_whatever_the_student_sent(fmt: str, value: float | str):
    text = render(hostile_report(value), fmt)
    data = json.loads(text, parse_constant=_no_constants)
    if fmt == "json":
        losses = data["topics"][0]["checks"][0]["figures"][0]["losses"]["yours"]
        assert losses == [None if isinstance(value, float) else 1.0]
    json.dumps(data, ensure_ascii=False).encode("utf-8")  # raises on a lone surrogate, which strict parsers refuse


@pytest.mark.parametrize("value", HOSTILE)
def test_junit_is_well_formed_xml_whatever_the_student_sent(value: float | str):
    root = ET.fromstring(render(hostile_report(value), "junit"))
    failure = root.find("testsuite/testcase/failure")
    assert failure is not None and failure.get("message", "").startswith("got ")
    assert root.find("testsuite/testcase/error") is not None and root.find("testsuite/system-out") is not None


def test_the_readme_shows_the_golden_80_column_report():
    """The README's example report is cut from the golden file, so it cannot drift from what grade prints."""
    readme = (ROOT / "README.md").read_text()
    block = readme.split("At 80 columns, the example submission reads:\n\n  ```\n", 1)[1].split("\n  ```", 1)[0]
    head, tail = (part.splitlines() for part in block.split("\n  ...\n"))
    golden = (GOLDEN / "example.text").read_text().splitlines()
    shown = [line[2:] for line in head]
    assert golden[: len(shown)] == shown and golden[-len(tail) :] == [line[2:] for line in tail]
