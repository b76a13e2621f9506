"""Files the grader writes: ordinary files, 0666 less the umask, like any other program's (mkstemp's would be 0600,
unreadable by the web server or the colleague the instructor shares the results with)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from autograder.engine.results import PASSED, CheckResult, Report, TopicResult
from autograder.reports.output import write_atomically
from autograder.reports.plots import curves, write_figures


def _new_report(tmp: Path) -> list[Path]:
    write_atomically(tmp / "results" / "report.txt", "text\n")
    return [tmp / "results" / "report.txt"]


def _replaced(tmp: Path) -> list[Path]:
    target = tmp / "report.txt"
    target.write_text("old\n")
    target.chmod(0o600)
    write_atomically(target, "new\n")
    return [target]


def _figures(tmp: Path) -> list[Path]:
    figure = curves(title="steps", x_label="condition number", y_label="steps", series={"reference": ([1, 10], [3, 20])})
    check = CheckResult("steps", "steps", 1.0, PASSED, hidden=False, figures=[figure])
    assert write_figures(Report("Course", "sub", "process", ["cpu"], [TopicResult("t", "T", "t.py", [check])]), tmp / "figures") == 1
    return [tmp / "figures" / "t.steps.svg"]


@pytest.mark.parametrize("write", [_new_report, _replaced, _figures], ids=["report", "replacing-a-0600-file", "figure"])
@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002], ids=oct)
def test_written_files_are_0666_less_the_umask(tmp_path: Path, write, umask: int):
    previous = os.umask(umask)
    try:
        paths = write(tmp_path)
    finally:
        os.umask(previous)
    assert {p.name: oct(stat.S_IMODE(p.stat().st_mode)) for p in paths} == {p.name: oct(0o666 & ~umask) for p in paths}
    assert not [p.name for p in paths[0].parent.iterdir() if p.name.startswith(".")]  # no temporary file left behind
