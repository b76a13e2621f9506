"""grade batch: a class of submissions of every kind, results in every format, the gradebook and summary, and a batch
that is interrupted, resumed, or started twice on the same results."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from autograder.batch import normalized
from autograder.engine.results import without_timings

from conftest import ROOT, topic_course
from mistakes import known_mistakes

SECRET = {"AUTOGRADER_SECRET": "batch-test-secret"}
REFERENCE = (ROOT / "solutions" / "information.py").read_text()
SWAPPED = known_mistakes("information")["kl_swapped"].source
HANG = REFERENCE.replace("def entropy(p: np.ndarray) -> np.ndarray:\n", "def entropy(p: np.ndarray) -> np.ndarray:\n    while True:\n        pass\n", 1)


def _notebook(code: str) -> str:
    return json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{"cell_type": "code", "source": code, "metadata": {}, "outputs": [], "execution_count": None}]})


def _zip(path: Path, files: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files.items():
            z.writestr(name, data)


# name -> (how it is submitted, expected gradebook status, total, a fragment of the error column)
CLASS = {
    "alice": ("folder: the reference", "graded", 29, ""),
    "bob": ("folder: the KL swapped", "graded", 20, ""),
    "carol": ("folder: the untouched stub", "graded", 0, ""),
    "cora": ("folder: the untouched stub too", "graded", 0, ""),
    "dan": ("folder: os._exit at import", "graded", 0, "information: importing"),
    "eve": ("folder: an infinite loop in entropy", "graded", 23, ""),
    "gina": ("nested folder: bob's code with a comment and other blank lines", "graded", 20, ""),
    "hugo": ("zip of a repository: bob's code", "graded", 20, ""),
    "ivan": ("zip with a ../ entry", "failed", 0, "points outside the zip"),
    "judy": ("empty folder", "failed", 0, "no topic file (information.ipynb, information.py) in it"),
    "kim": ("zip that expands 1000-fold", "failed", 0, "-fold); the limits are"),
    "lee": ("notebook: the reference", "graded", 29, ""),
}


def _submissions(folder: Path) -> None:
    stub = (ROOT / "exercises" / "information.py").read_text()
    sources = {"alice": REFERENCE, "bob": SWAPPED, "carol": stub, "cora": stub, "dan": "import os\nos._exit(0)\n", "eve": HANG}
    for name, text in sources.items():
        (folder / name).mkdir()
        (folder / name / "information.py").write_text(text)
    (folder / "gina" / "exercises").mkdir(parents=True)
    (folder / "gina" / "exercises" / "information.py").write_text("# my own work\n" + SWAPPED.replace("\n\n\n", "\n\n"))
    _zip(folder / "hugo.zip", {"repo/exercises/information.py": SWAPPED.encode(), "repo/README.md": b"hugo"})
    _zip(folder / "ivan.zip", {"../information.py": SWAPPED.encode()})
    (folder / "judy").mkdir()
    _zip(folder / "kim.zip", {"information.py": b"x = 0\n" + b"#" * (20 << 20)})
    (folder / "lee.ipynb").write_text(_notebook(REFERENCE))


def _course(folder: Path) -> Path:
    """The information topic alone, over the repo's files. eve's loop computes, so it runs out of CPU time: 1 s in
    the first check that calls entropy, after_timeout_s (1 s) in each later one. Every other check takes about 0.01 s
    of CPU time, however busy the machine. Nothing here sleeps or blocks: wall_s stays the course's."""
    return topic_course(folder, "information", cpu_s=1, memory_mb=1024)


def batch(submissions: Path, out: Path, course: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "autograder", "batch", str(submissions), "--out", str(out), "--course", str(course), *extra], capture_output=True, text=True, timeout=600, env={**os.environ, **SECRET}, cwd=ROOT)


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("batch")
    (root / "submissions").mkdir()
    (root / "course").mkdir()
    _submissions(root / "submissions")
    course = _course(root / "course")
    done = batch(root / "submissions", root / "results", course)
    assert done.returncode == 0, done.stderr
    return {"submissions": root / "submissions", "results": root / "results", "course": course, "log": root / "log", "stderr": done.stderr}  # type: ignore[dict-item]


def _gradebook(results: Path) -> dict[str, dict[str, str]]:
    return {row["submission"]: row for row in csv.DictReader(io.StringIO((results / "gradebook.csv").read_text()))}


@pytest.mark.parametrize("name", sorted(CLASS))
def test_every_submission_gets_its_row(graded, name: str):
    _, status, total, error = CLASS[name]
    row = _gradebook(graded["results"])[name]
    assert (row["status"], float(row["total"])) == (status, total), row
    assert error in row["error"]
    if status == "graded":
        assert {p.name for p in (graded["results"] / "submissions" / name).iterdir()} == {"report.txt", "results.json", "gradescope.json", "junit.xml", "batch.json"}


def test_a_batch_result_is_what_grade_run_gives(graded):
    run = subprocess.run([sys.executable, "-m", "autograder", "run", str(graded["submissions"] / "bob"), "--format", "json", "--course", str(graded["course"])], capture_output=True, text=True, env={**os.environ, **SECRET}, cwd=ROOT)
    assert without_timings(json.loads(run.stdout)) == without_timings(json.loads((graded["results"] / "submissions" / "bob" / "results.json").read_text()))


def test_the_summary_counts_scores_failures_mistakes_and_same_code(graded):
    summary = json.loads((graded["results"] / "summary.json").read_text())
    assert (summary["submissions"], summary["graded"], summary["max_points"]) == (12, 9, 29)
    assert sum(b["count"] for b in summary["scores"]["histogram"]) == 9
    assert summary["most_named_mistakes"][0] == {"mistake": "kl-swapped: the KL divergence has its arguments swapped: this is KL(q||p), not KL(p||q)", "submissions": 3}
    # identity uses entropy, cross_entropy and kl_divergence: the three KL-swapped, two stubs, the crash and the hang
    assert summary["most_failed_checks"][0] == {"check": "information.identity", "failed": 7}
    same = {tuple(d["submissions"]): d["identical"] for d in summary["same_code"]}
    assert same[("bob", "gina", "hugo")] == "identical up to whitespace and comments"
    assert same[("alice", "lee")] == "identical up to whitespace and comments"  # a notebook's cells carry an In[k] line
    assert not any("carol" in names for names in same)  # the untouched stub is everyone's
    assert "## Submissions with the same code" in (graded["results"] / "summary.md").read_text()


def test_the_log_says_what_happens_without_a_terminal(graded):
    assert "12 submissions in" in graded["stderr"] and "[12/12 graded, 3 failed]" in graded["stderr"]


def test_a_second_run_grades_nothing_and_writes_the_same_gradebook(graded):
    before = (graded["results"] / "gradebook.csv").read_bytes()
    done = batch(graded["submissions"], graded["results"], graded["course"])
    assert done.returncode == 0 and "12 already graded, 0 to grade" in done.stderr
    assert (graded["results"] / "gradebook.csv").read_bytes() == before


def test_a_killed_batch_resumes_with_what_is_missing_and_the_same_gradebook(graded, tmp_path):
    expected = (graded["results"] / "gradebook.csv").read_bytes()
    command = [sys.executable, "-m", "autograder", "batch", str(graded["submissions"]), "--out", str(tmp_path / "results"), "--course", str(graded["course"]), "--jobs", "1"]
    process = subprocess.Popen(command, env={**os.environ, **SECRET}, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 120
    while not list((tmp_path / "results" / "submissions").glob("*/batch.json")) and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)  # the grader, its fork server and its workers, mid-batch
    process.wait()
    kept = len(list((tmp_path / "results" / "submissions").glob("*/batch.json")))
    assert 1 <= kept < len(CLASS)
    done = batch(graded["submissions"], tmp_path / "results", graded["course"])
    assert done.returncode == 0, done.stderr
    assert f"{kept} already graded, {len(CLASS) - kept} to grade" in done.stderr
    assert (tmp_path / "results" / "gradebook.csv").read_bytes() == expected


def test_a_changed_submission_is_graded_again(graded, tmp_path):
    import shutil

    shutil.copytree(graded["submissions"], tmp_path / "subs", symlinks=True)
    shutil.copytree(graded["results"], tmp_path / "results")
    (tmp_path / "subs" / "bob" / "information.py").write_text(REFERENCE)
    done = batch(tmp_path / "subs", tmp_path / "results", graded["course"])
    assert "11 already graded, 1 to grade" in done.stderr
    assert float(_gradebook(tmp_path / "results")["bob"]["total"]) == 29


def test_a_second_batch_on_the_same_results_is_refused(graded, tmp_path):
    import fcntl

    (tmp_path / "results").mkdir()
    with open(tmp_path / "results" / ".lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        lock.write("pid 4242")
        lock.flush()
        done = batch(graded["submissions"], tmp_path / "results", graded["course"])
    assert done.returncode == 2 and "another grade batch (pid 4242) is writing these results" in done.stderr
    assert "Traceback" not in done.stderr


def test_results_inside_the_submissions_are_refused(graded):
    done = batch(graded["submissions"], graded["submissions"] / "results", graded["course"])
    assert done.returncode == 2 and "inside the submissions folder" in done.stderr


@pytest.mark.parametrize(
    "a, b, same",
    [
        pytest.param("x = 1  # one\n", "x = 1\n\n\n", True, id="comments-and-blank-lines"),
        pytest.param("def f():\n    return 1\n", "def f():\n        return 1\n", True, id="indentation-width"),
        pytest.param("x = 1\n", "x = 2\n", False, id="a-different-constant"),
        pytest.param("s = 'a # b'\n", "s = 'a'\n", False, id="a-hash-inside-a-string-is-code"),
    ],
)
def test_same_code_ignores_only_what_does_not_run(a: str, b: str, same: bool):
    assert (normalized(a) == normalized(b)) is same


def test_on_a_terminal_progress_is_one_live_line_with_rate_and_eta():
    from autograder.batch import Outcome, Progress

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream = Terminal()
    progress = Progress(2, stream)
    for name in ("a", "b"):
        progress.update(Outcome(name, "graded", None, 0.1, {"t": 1.0}, {"t": 2.0}))
    lines = stream.getvalue().split("\r")
    assert lines[-1].startswith("[" + "#" * 30 + "] 2/2 graded") and "/s  ETA" in lines[-1] and stream.getvalue().endswith("\n")


@pytest.mark.parametrize("allow", [pytest.param(False, id="refused"), pytest.param(True, id="allowed-when-asked")])
def test_the_process_sandbox_grades_a_class_only_when_asked(tmp_path: Path, allow: bool):
    """A batch grades for credit: where only the process sandbox would grade, it refuses before grading anything,
    in one line that says how to go on anyway."""
    (tmp_path / "subs" / "alice").mkdir(parents=True)
    (tmp_path / "subs" / "alice" / "information.py").write_text(REFERENCE)
    command = [sys.executable, "-m", "autograder", "batch", str(tmp_path / "subs"), "--out", str(tmp_path / "out"), "--sandbox", "process", "--topic", "information", "--course", str(ROOT / "course.yaml"), *(["--allow-process-sandbox"] if allow else [])]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, env={**os.environ, **SECRET}, cwd=ROOT)
    if allow:
        assert done.returncode == 0, done.stderr[-2000:]
        assert _gradebook(tmp_path / "out")["alice"]["status"] == "graded"
    else:
        assert done.returncode == 2 and "--allow-process-sandbox" in done.stderr.splitlines()[-1], done.stderr[-2000:]
        assert not (tmp_path / "out" / "submissions").exists() and not (tmp_path / "out" / "gradebook.csv").exists()
