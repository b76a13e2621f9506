"""Determinism under load (issue 17): a student's grade is a function of the submission, the course and the secret,
never of the machine's load or of ``--jobs``.

One class is graded with ``grade batch`` on an idle machine (``--jobs 1``, then ``--jobs 4``) and on a machine
saturated by busy processes this test starts (4 per usable core, alive for the whole run; ``--jobs 4``, then
``--jobs 1``). Every run must give each submission its expected verdicts, and all runs must agree byte for byte:
gradebook.csv and summary.json as they are, each results.json once the values of its timing keys
(``results.TIMINGS``) are taken out.

The class, graded with small budgets (1 s of CPU and 1 s asleep per check, 0.5 s once a check ran out of time):

- three copies of the reference under different names (full marks) and the untouched stub (0, not attempted);
- a real bug: the Gaussian KL without its 1/2 (tests/mistakes/information.yaml), which fails exactly its checks;
- an infinite loop and a sleep of 10**6 s, each on the first call of one function in a worker. The grader starts a
  new worker after a check runs out of time, so every check that calls the function runs out of time too (the first
  with the topic's budgets, later ones with limits.after_timeout_s): each loses exactly the checks that call it, and
  costs about 1 + 3 * 0.5 s of CPU time (the loop) or of sleep, whatever the load.
"""

from __future__ import annotations

import csv
import difflib
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from autograder.course.config import load_course
from autograder.engine.results import FAILED, NOT_ATTEMPTED, PASSED, without_timings

from conftest import ROOT, topic_course
from mistakes import known_mistakes

SECRET = {"AUTOGRADER_SECRET": "load-test-secret"}
LIMITS = {"cpu_s": 1, "wall_s": 1, "after_timeout_s": 0.5, "memory_mb": 1024}
POINTS = load_course(ROOT / "course.yaml").topic("information").checks  # check id -> points
CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
BUSY = 4 * CORES  # busy processes that saturate the machine

REFERENCE = (ROOT / "solutions" / "information.py").read_text()
STUB = (ROOT / "exercises" / "information.py").read_text()
BUG = known_mistakes("information")["gaussian_kl_no_half"]

# Every check that calls the function (read off checks/public and checks/hidden/information.py).
CALL_ENTROPY = frozenset(["entropy", "identity", "entropy_contract", "hidden_entropy"])
CALL_SOFTMAX_CE = frozenset(["softmax_cross_entropy", "softmax_cross_entropy_stable", "softmax_cross_entropy_contract", "hidden_softmax_cross_entropy"])

FIRST_CALL = '''

# ---- load test --------------------------------------------------------------------------------------------------
_called = set()


def _first_call(name):
    """True on the first call of ``name`` in this process (a worker)."""
    first = name not in _called
    _called.add(name)
    return first


_entropy, _softmax_cross_entropy = entropy, softmax_cross_entropy
'''
LOOP = REFERENCE + FIRST_CALL + '''

def entropy(p):
    if _first_call("entropy"):
        while True:
            pass
    return _entropy(p)
'''
SLEEP = REFERENCE + FIRST_CALL + '''

def softmax_cross_entropy(logits, targets):
    if _first_call("softmax_cross_entropy"):
        import time

        time.sleep(10**6)
    return _softmax_cross_entropy(logits, targets)
'''

CPU_OUT = "of CPU time (limits.cpu_s) without finishing and was stopped"
ASLEEP = "neither computing nor waiting for a CPU (asleep or blocked: limits.wall_s) and was stopped"

# name -> (source, the checks that must not pass, their status, a fragment of each of their messages)
CLASS: dict[str, tuple[str, frozenset[str], str, str]] = {
    "ada": (REFERENCE, frozenset(), PASSED, ""),
    "ben": (REFERENCE, frozenset(), PASSED, ""),
    "cy": (REFERENCE, frozenset(), PASSED, ""),
    "stub": (STUB, frozenset(POINTS), NOT_ATTEMPTED, "not attempted (raises NotImplementedError)"),
    "buggy": (BUG.source, BUG.fails, FAILED, "matches a known mistake: the Gaussian KL is missing its factor 1/2"),
    "loop": (LOOP, CALL_ENTROPY, FAILED, CPU_OUT),
    "sleep": (SLEEP, CALL_SOFTMAX_CE, FAILED, ASLEEP),
}
TOTALS = {"ada": 29, "ben": 29, "cy": 29, "stub": 0, "buggy": 25, "loop": 23, "sleep": 21}


def test_the_expected_totals_are_the_courses():
    assert sum(POINTS.values()) == 29 and CALL_ENTROPY | CALL_SOFTMAX_CE | BUG.fails <= set(POINTS)
    for name, (_, lost, _, _) in CLASS.items():
        assert TOTALS[name] == sum(POINTS.values()) - sum(POINTS[c] for c in lost), name


# ---- grading ----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def klass(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("load")
    for name, (source, *_) in CLASS.items():
        (root / "submissions" / name).mkdir(parents=True)
        (root / "submissions" / name / "information.py").write_text(source)
    (root / "course").mkdir()
    return {"submissions": root / "submissions", "course": topic_course(root / "course", "information", **LIMITS)}


def grade_batch(klass: dict[str, Path], out: Path, jobs: int) -> Path:
    """``grade batch`` the class into ``out`` in a fresh process (start-up included, as a CI job runs it)."""
    command = [sys.executable, "-m", "autograder", "batch", str(klass["submissions"]), "--out", str(out), "--course", str(klass["course"]), "--jobs", str(jobs), "--allow-process-sandbox"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=900, env={**os.environ, **SECRET}, cwd=ROOT)
    assert done.returncode == 0, f"grade batch --jobs {jobs} exited with {done.returncode}:\n{done.stderr}"
    return out


@pytest.fixture(scope="module")
def idle(klass, tmp_path_factory) -> Path:
    """The class graded one submission at a time on the idle machine: what every other run must give."""
    return grade_batch(klass, tmp_path_factory.mktemp("idle") / "results", jobs=1)


@pytest.fixture
def saturated():
    """BUSY processes that compute for as long as the test runs; asserts on the way out that none of them ended."""
    procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"], stdin=subprocess.DEVNULL) for _ in range(BUSY)]
    try:
        yield procs
        assert all(p.poll() is None for p in procs), "a busy process ended during the run: the machine was not saturated throughout"
    finally:
        for p in procs:
            p.kill()
        for p in procs:
            p.wait()


# ---- what a run must give ---------------------------------------------------------------------------------------


def results(out: Path, name: str) -> dict[str, Any]:
    return json.loads((out / "submissions" / name / "results.json").read_text())


def assert_expected(out: Path) -> None:
    """Each submission's verdicts, check by check, and its gradebook row."""
    rows = {r["submission"]: r for r in csv.DictReader(io.StringIO((out / "gradebook.csv").read_text()))}
    assert sorted(rows) == sorted(CLASS)
    for name, (_, lost, status, fragment) in CLASS.items():
        (topic,) = results(out, name)["topics"]
        verdicts = {c["id"]: c["status"] for c in topic["checks"]}
        expected = {c: status if c in lost else PASSED for c in POINTS}
        assert verdicts == expected, f"{name}: {[(c, v, expected[c]) for c, v in verdicts.items() if v != expected[c]]}"
        assert all(fragment in c["message"] for c in topic["checks"] if c["id"] in lost), name
        assert topic["error"] is None and topic["points"] == TOTALS[name], name
        assert (rows[name]["status"], float(rows[name]["total"]), rows[name]["error"]) == ("graded", TOTALS[name], ""), rows[name]


def _dump(value: Any) -> list[str]:
    return json.dumps(value, indent=1, sort_keys=True, ensure_ascii=False).splitlines()


def assert_same(baseline: Path, out: Path) -> None:
    """gradebook.csv and summary.json byte-identical; each results.json identical but for its timings' values."""
    for name in ("gradebook.csv", "summary.json"):
        a, b = (baseline / name).read_text(), (out / name).read_text()
        assert a == b, f"{name} differs:\n" + "\n".join(difflib.unified_diff(a.splitlines(), b.splitlines(), "idle", "this run", lineterm=""))
    for name in CLASS:
        a, b = without_timings(results(baseline, name)), without_timings(results(out, name))
        assert a == b, f"{name}/results.json differs:\n" + "\n".join(difflib.unified_diff(_dump(a), _dump(b), "idle", "this run", lineterm=""))


# ---- the runs ---------------------------------------------------------------------------------------------------


def test_an_idle_machine_gives_each_submission_its_grade(idle):
    assert_expected(idle)
    # The timings are there (they are what a run may change), with values: a loop spent its CPU seconds.
    loop = results(idle, "loop")["topics"][0]
    assert loop["cpu_s"] >= LIMITS["cpu_s"] + 3 * LIMITS["after_timeout_s"] and all("cpu_s" in c for c in loop["checks"])


def test_four_jobs_grade_as_one(klass, idle, tmp_path):
    out = grade_batch(klass, tmp_path / "results", jobs=4)
    assert_expected(out)
    assert_same(idle, out)


@pytest.mark.timeout(1500)
@pytest.mark.parametrize("jobs", [4, 1])
def test_a_saturated_machine_grades_as_an_idle_one(klass, idle, saturated, jobs, tmp_path):
    out = grade_batch(klass, tmp_path / "results", jobs=jobs)
    assert_expected(out)
    assert_same(idle, out)
