"""grade batch: a class of submissions of every kind, results in every format, the gradebook and summary, and a batch
that is interrupted, resumed, rerun with something its results depend on changed, or started twice on the same results."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import pytest
import yaml

from autograder import batch as batch_module
from autograder.batch import DONE, FILES, Outcome, Progress, report_link
from autograder.entry import Content, Entry, course_digest, normalized, opened
from autograder.course.config import load_course
from autograder.engine.results import without_timings
from autograder.reports.renderers import FORMATS

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


# name -> (how it is submitted, expected gradebook status, total, its not_attempted column, a fragment of the error column)
CLASS = {
    "alice": ("folder: the reference", "graded", 29, "", ""),
    "bob": ("folder: the KL swapped", "graded", 20, "", ""),
    "carol": ("folder: the untouched stub", "graded", 0, "information", ""),
    "cora": ("folder: the untouched stub too", "graded", 0, "information", ""),
    "dan": ("folder: os._exit at import", "graded", 0, "", "information: importing"),
    "eve": ("folder: an infinite loop in entropy", "graded", 23, "", ""),
    "gina": ("nested folder: bob's code with a comment and other blank lines", "graded", 20, "", ""),
    "hugo": ("zip of a repository: bob's code", "graded", 20, "", ""),
    "ivan": ("zip with a ../ entry", "failed", 0, "", "points outside the zip"),
    "judy": ("empty folder", "failed", 0, "", "no topic file (information.ipynb, information.py) in it"),
    "kim": ("zip that expands 1000-fold", "failed", 0, "", "-fold); the limits are"),
    "lee": ("notebook: the reference", "graded", 29, "", ""),
    "zed": ("zip whose file raises at import", "graded", 0, "", "information: importing zed.zip:work/information.py failed: ValueError: boom"),
}
FAILED = sum(status == "failed" for _, status, *_ in CLASS.values())
WRITTEN = {FILES[f] for f in FILES if f in FORMATS} | {DONE}  # the report formats this grader renders, then the mark


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
    _zip(folder / "zed.zip", {"work/information.py": b"import numpy as np\n\nraise ValueError('boom')\n"})


def _course(folder: Path) -> Path:
    """The information topic alone, over the repo's files. eve's loop computes, so it runs out of CPU time: 1 s in
    the first check that calls entropy, after_timeout_s (1 s) in each later one. Every other check takes about 0.01 s
    of CPU time, however busy the machine. Nothing here sleeps or blocks: wall_s stays the course's."""
    return topic_course(folder, "information", cpu_s=1, memory_mb=1024)


def batch(submissions: Path, out: Path, course: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "autograder", "batch", str(submissions), "--out", str(out), "--course", str(course), *extra], capture_output=True, text=True, timeout=600, env={**os.environ, **SECRET}, cwd=ROOT)


def grade_class(root: Path) -> dict[str, Path]:
    """CLASS in ``root``, graded there by ``grade batch`` on this machine (tests/cluster compares a cluster's with it)."""
    (root / "submissions").mkdir()
    (root / "course").mkdir()
    _submissions(root / "submissions")
    course = _course(root / "course")
    done = batch(root / "submissions", root / "results", course)
    assert done.returncode == 4, done.stderr  # ivan, judy and kim cannot be graded
    return {"submissions": root / "submissions", "results": root / "results", "course": course, "log": root / "log", "stderr": done.stderr}  # type: ignore[dict-item]


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> dict[str, Path]:
    return grade_class(tmp_path_factory.mktemp("batch"))


def _gradebook(results: Path) -> dict[str, dict[str, str]]:
    return {row["submission"]: row for row in csv.DictReader(io.StringIO((results / "gradebook.csv").read_text()))}


@pytest.mark.parametrize("name", sorted(CLASS))
def test_every_submission_gets_its_row(graded, name: str):
    _, status, total, untouched, error = CLASS[name]
    row = _gradebook(graded["results"])[name]
    assert (row["status"], float(row["total"]), row["not_attempted"]) == (status, total, untouched), row
    assert error in row["error"] and (error or not row["error"]), row  # a topic not attempted is no error
    if status == "graded":
        assert float(row["max"]) == 29
        assert {p.name for p in (graded["results"] / "submissions" / name).iterdir()} == WRITTEN


# entry -> the submission as its results name it: a zip's temporary folder is <entry>.zip, a notebook's copy the entry
SHOWN = {"hugo": "hugo.zip:repo/exercises", "zed": "zed.zip:work", "lee": "lee.ipynb"}


@pytest.mark.parametrize("name", sorted(SHOWN))
def test_a_zip_or_notebook_is_named_by_its_entry_never_by_a_temporary_path(graded, name: str):
    results = json.loads((graded["results"] / "submissions" / name / "results.json").read_text())
    assert results["submission"] == SHOWN[name]
    assert _temporary_paths(graded["results"] / "submissions" / name, allowed=()) == []


def test_no_class_file_or_result_shows_a_temporary_path(graded):
    """Every path under the temporary folder in the results is one of this test's own (a folder submission's)."""
    assert _temporary_paths(graded["results"], allowed=(str(graded["results"].parent), os.path.realpath(graded["results"].parent))) == []


def _temporary_paths(folder: Path, *, allowed: tuple[str, ...]) -> list[str]:
    under = "|".join(re.escape(p) for p in {tempfile.gettempdir(), os.path.realpath(tempfile.gettempdir())})
    found = [(f.relative_to(folder), m) for f in sorted(folder.rglob("*")) if f.is_file() for m in re.findall(rf"(?:{under})/[^\s\"'<>:]*", f.read_text(errors="replace"))]
    return [f"{file}: {path}" for file, path in found if not path.startswith(allowed)]


def test_a_batch_result_is_what_grade_run_gives(graded):
    run = subprocess.run([sys.executable, "-m", "autograder", "run", str(graded["submissions"] / "bob"), "--format", "json", "--course", str(graded["course"])], capture_output=True, text=True, env={**os.environ, **SECRET}, cwd=ROOT)
    assert without_timings(json.loads(run.stdout)) == without_timings(json.loads((graded["results"] / "submissions" / "bob" / "results.json").read_text()))


def test_the_summary_counts_scores_failures_mistakes_and_same_code(graded):
    summary = json.loads((graded["results"] / "summary.json").read_text())
    assert (summary["submissions"], summary["graded"], summary["max_points"]) == (len(CLASS), len(CLASS) - FAILED, 29)
    assert sum(b["count"] for b in summary["scores"]["histogram"]) == len(CLASS) - FAILED
    assert summary["most_named_mistakes"][0] == {"mistake": "kl-swapped: the KL divergence has its arguments swapped: this is KL(q||p), not KL(p||q)", "submissions": 3}
    # identity uses entropy, cross_entropy and kl_divergence: the three KL-swapped, the crashes and the hang; not the stubs
    assert summary["most_failed_checks"][0] == {"check": "information.identity", "failed": 6}
    assert summary["not_attempted"] == [{"topic": "information", "submissions": 2}]
    same = {tuple(d["submissions"]): d["identical"] for d in summary["same_code"]}
    assert same[("bob", "gina", "hugo")] == "identical up to whitespace and comments"
    assert same[("alice", "lee")] == "identical up to whitespace and comments"  # a notebook's cells carry a "# cell N" line
    assert not any("carol" in names for names in same)  # the untouched stub is everyone's
    markdown = (graded["results"] / "summary.md").read_text()
    assert "## Submissions with the same code" in markdown and "- information: not attempted by 2 submissions" in markdown


@pytest.mark.parametrize("name", ["alice", "hugo", "lee"])
def test_the_summary_links_each_graded_submission_to_its_report(graded, name: str):
    link, total = report_link(name), CLASS[name][2]
    assert link is not None and (graded["results"] / link).is_file()
    assert {"submission": name, "points": total, "max_points": 29, "report": link} in json.loads((graded["results"] / "summary.json").read_text())["reports"]
    assert f"- [{name}]({link}): {total}/29\n" in (graded["results"] / "summary.md").read_text()


def test_the_log_says_what_happens_without_a_terminal(graded):
    assert f"{len(CLASS)} submissions in" in graded["stderr"] and f"[{len(CLASS)}/{len(CLASS)} graded, {FAILED} failed]" in graded["stderr"]


def test_a_second_run_grades_again_only_what_failed_and_writes_the_same_gradebook(graded):
    before = (graded["results"] / "gradebook.csv").read_bytes()
    done = batch(graded["submissions"], graded["results"], graded["course"])
    assert done.returncode == 4 and f"{len(CLASS) - FAILED} already graded, {FAILED} to grade (failed last time)" in done.stderr
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
    records = [json.loads(p.read_text()) for p in (tmp_path / "results" / "submissions").glob("*/batch.json")]
    kept = sum(r["status"] == "graded" for r in records)  # what failed is tried again
    assert 1 <= len(records) < len(CLASS)
    done = batch(graded["submissions"], tmp_path / "results", graded["course"])
    assert done.returncode == 4, done.stderr
    assert f"{kept} already graded, {len(CLASS) - kept} to grade" in done.stderr
    assert (tmp_path / "results" / "gradebook.csv").read_bytes() == expected


def test_a_changed_submission_is_graded_again(graded, tmp_path):
    shutil.copytree(graded["submissions"], tmp_path / "subs", symlinks=True)
    shutil.copytree(graded["results"], tmp_path / "results")
    (tmp_path / "subs" / "bob" / "information.py").write_text(REFERENCE)
    done = batch(tmp_path / "subs", tmp_path / "results", graded["course"])
    assert f"{len(CLASS) - FAILED - 1} already graded, {FAILED + 1} to grade (failed last time: {FAILED}; submission changed: 1)" in done.stderr
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


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


LONG = "b.zip: " + "a message longer than any terminal is wide, " * 3  # a log line is never wrapped
OUTCOMES = [Outcome("a", "graded", None, 0.1, {"t": 1.0}, {"t": 2.0}), Outcome("b", "failed", LONG, 0.0, {}, {})]
COLOUR = re.compile(r"\x1b\[[0-9;]*[1-9][0-9;]*m")  # an SGR sequence other than a reset


def _progress(stream: io.StringIO, monkeypatch, *, no_color: str | None) -> str:
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    if no_color is not None:
        monkeypatch.setenv("NO_COLOR", no_color)
    with Progress(total=2, stream=stream) as progress:
        for outcome in OUTCOMES:
            progress.update(outcome)
    return stream.getvalue()


def test_progress_in_a_log_is_a_plain_line_per_graded_submission(monkeypatch):
    assert _progress(io.StringIO(), monkeypatch, no_color=None).splitlines() == ["[1/2 graded] a: 1/2 (0.1 s)", f"[2/2 graded, 1 failed] b: failed: {LONG} (0.0 s)"]


@pytest.mark.parametrize("no_color, coloured", [pytest.param(None, True, id="coloured"), pytest.param("1", False, id="NO_COLOR-plain")])
def test_progress_on_a_terminal_is_a_bar_with_the_last_submission_and_its_score(monkeypatch, no_color: str | None, coloured: bool):
    text = _progress(_Terminal(), monkeypatch, no_color=no_color)
    last = COLOUR.sub("", text.rstrip().split("\r")[-1])  # the bar as it was left
    assert "2/2" in last and "b: failed (1 failed)" in last, repr(last)
    assert "graded]" not in text  # no log lines on a terminal
    assert bool(COLOUR.search(text)) is coloured, repr(text)


# ---- the cache key: what a result depends on -----------------------------------------------------------------------

TWO_TOPICS = ("probability", "information")  # in the course's order


@pytest.fixture(scope="module")
def two_topics(tmp_path_factory) -> dict[str, Path]:
    """A class graded once under a course of two topics: alice submits information alone (probability is not
    attempted), judy nothing (a failed entry)."""
    root = tmp_path_factory.mktemp("keys")
    _two_topic_course(root / "course", link=True)
    (root / "subs" / "alice").mkdir(parents=True)
    (root / "subs" / "alice" / "information.py").write_text(REFERENCE)
    (root / "subs" / "judy").mkdir()
    code, log = _run_in_process(root / "subs", root / "results", root / "course" / "course.yaml", ())
    assert code == 4 and "2 submissions in" in log, log  # judy cannot be graded
    return {"subs": root / "subs", "results": root / "results", "course": root / "course", "alice": float(_gradebook(root / "results")["alice"]["total"])}  # type: ignore[dict-item]


def _two_topic_course(folder: Path, *, link: bool) -> Path:
    """TWO_TOPICS over the repository's files: linked (the grader imports checks and solutions by name, so every
    course graded in one process must have them at the same real path), or copied (for a test to edit)."""
    data = yaml.safe_load((ROOT / "course.yaml").read_text())
    data["topics"] = [t for t in data["topics"] if t["id"] in TWO_TOPICS]
    data["limits"] = {**data["limits"], "cpu_s": 1, "memory_mb": 1024}
    folder.mkdir()
    for name in ("exercises", "solutions", "checks"):
        (folder / name).symlink_to(ROOT / name) if link else shutil.copytree(ROOT / name, folder / name, ignore=shutil.ignore_patterns("__pycache__"))
    (folder / "course.yaml").write_text(yaml.safe_dump(data, allow_unicode=True))
    return folder / "course.yaml"


def _run_in_process(subs: Path, out: Path, course: Path, topics: tuple[str, ...]) -> tuple[int, str]:
    stream = io.StringIO()
    code = batch_module.main(submissions=subs, out=out, topics=topics, jobs=1, device="cpu", sandbox="auto", course=course, allow_process=True, stream=stream)
    return code, stream.getvalue()


def _another_secret(monkeypatch) -> None:
    monkeypatch.setenv("AUTOGRADER_SECRET", "another-secret")


@pytest.mark.parametrize(
    "change, topics, says, columns",
    [
        pytest.param(None, ("information",), "0 already graded, 2 to grade (failed last time: 1; topics changed: 1)", ("information",), id="another-topic-list"),
        pytest.param(_another_secret, (), "0 already graded, 2 to grade (failed last time: 1; secret changed: 1)", TWO_TOPICS, id="another-secret"),
    ],
)
def test_a_rerun_grades_exactly_what_its_key_changed_and_the_gradebook_is_this_runs(two_topics, tmp_path, monkeypatch, change, topics: tuple[str, ...], says: str, columns: tuple[str, ...]):
    """The issue's case: a class graded, then again with --topic; and another secret. (A course edited: the digest
    tests below; nothing changed: test_a_second_run_grades_again_only_what_failed_and_writes_the_same_gradebook.)"""
    shutil.copytree(two_topics["results"], tmp_path / "results")
    if change is not None:
        change(monkeypatch)
    code, log = _run_in_process(two_topics["subs"], tmp_path / "results", two_topics["course"] / "course.yaml", topics)
    assert code == 4 and f"2 submissions in {two_topics['subs']}: {says}\n" in log, log
    rows = _gradebook(tmp_path / "results")
    maximum = sum(load_course(two_topics["course"] / "course.yaml").topic(t).points for t in columns)
    assert [k for k in rows["alice"] if k in TWO_TOPICS] == list(columns)
    assert (float(rows["alice"]["total"]), float(rows["alice"]["max"]), rows["alice"]["not_attempted"]) == (two_topics["alice"], maximum, " ".join(t for t in columns if t != "information"))
    assert json.loads((tmp_path / "results" / "summary.json").read_text())["max_points"] == maximum
    assert (rows["judy"]["status"], rows["judy"]["max"]) == ("failed", "0")


@pytest.mark.parametrize(
    "edited, changes",
    [
        pytest.param("course.yaml", True, id="course-yaml"),
        pytest.param("checks/public/information.py", True, id="a-public-check-file"),
        pytest.param("checks/hidden/information.py", True, id="a-hidden-check-file"),
        pytest.param("solutions/information.py", True, id="a-reference-solution"),
        pytest.param("checks/public/convolution.py", False, id="a-topic-not-graded"),
        pytest.param("exercises/information.py", False, id="the-stub"),
        pytest.param(None, False, id="the-course-moved-elsewhere"),
    ],
)
def test_the_course_digest_covers_what_a_result_depends_on(tmp_path: Path, edited: str | None, changes: bool):
    course = load_course(_two_topic_course(tmp_path / "course", link=False))
    before = course_digest(course=course, topics=TWO_TOPICS)
    if edited is None:
        (tmp_path / "course").rename(tmp_path / "moved")
    else:
        (tmp_path / "course" / edited).write_text((tmp_path / "course" / edited).read_text() + "\n# edited\n")
    after = load_course(tmp_path / ("moved" if edited is None else "course") / "course.yaml")
    assert (course_digest(course=after, topics=TWO_TOPICS) != before) is changes


KEY = {"topics": ["information"], "devices": ["cpu"], "course": "c0", "secret": "s0", "grader": "0.1.0", "submission": "d0"}


@pytest.mark.parametrize(
    "record, why",
    [
        pytest.param(None, "new", id="no-results"),
        pytest.param({"status": "graded", "key": KEY}, None, id="the-same-key"),
        pytest.param({"status": "failed", "key": KEY}, "failed last time", id="failed-is-tried-again"),
        pytest.param({"status": "graded", "key": KEY, "retry": True}, "grader error last time", id="a-grader-error"),
        pytest.param({"status": "graded"}, "grader version changed", id="written-before-keys"),
        *[pytest.param({"status": "graded", "key": {**KEY, part: "other"}}, why, id=part) for part, why in batch_module.KEY.items()],
    ],
)
def test_a_result_is_stale_when_any_part_of_its_key_changed(record: dict | None, why: str | None):
    assert batch_module.stale(record, KEY) == why


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


@pytest.mark.parametrize(
    "name, topics, topic, error",
    [
        pytest.param("jdoe-convolution.ipynb", (), "convolution", None, id="inferred-from-its-name"),
        pytest.param("homework.ipynb", ("information",), "information", None, id="the-one-topic-given"),
        pytest.param("homework.ipynb", ("information", "convolution"), None, "no topic matches homework.ipynb: neither its metadata", id="several-topics-given-and-nothing-tells"),
    ],
)
def test_a_notebook_entry_is_graded_as_the_topic_it_answers(tmp_path: Path, name: str, topics: tuple[str, ...], topic: str | None, error: str | None):
    """Without one --topic, a notebook's topic comes from the notebook (autograder.course.notebooks.topic_of_notebook)."""
    from autograder.errors import UsageError

    (tmp_path / name).write_text(_notebook("x = 1\n"))
    content = Content.read(Entry(Path(name).stem, tmp_path / name))
    course = load_course(ROOT / "course.yaml")
    if error is not None:
        with pytest.raises(UsageError, match=re.escape(error)), opened(content, course, topics):
            pass
        return
    with opened(content, course, topics) as submission:
        assert list(submission.sources) == [topic]
