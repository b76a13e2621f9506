"""Adversarial submissions that go after other topics and other students (threat model 14).

An attack in one topic leaves the same submission's other topics graded in full (each topic has its own worker). A
submission that signals every process it can see while a classmate is graded beside it, and one that reads and
rewrites a classmate's submission in the same ``grade batch``. In the strict sandbox a worker sees only its own pid
namespace, runs as its own slot's uid and finds its classmates' folders covered: the classmate's grade is intact.
In the process sandbox a worker is the grader's own user, so both attacks would succeed (SECURITY.md says so);
those tests run in strict mode only. See attacks.py for the assertions.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import tempfile
import threading
from pathlib import Path

import pytest

from autograder import batch
from autograder.course.submission import Submission
from autograder.engine.results import PASSED

from attacks import COURSE, REFERENCE, TOTAL, Attack, assert_grader_still_works, attack, forged, strict_only
from conftest import ROOT, STRICT_OK, STRICT_WHY, grade_source

INFORMATION = (ROOT / "solutions" / "information.py").read_text()
INFORMATION_POINTS = sum(COURSE.topic("information").checks.values())

# One attack of each kind that ends or poisons a worker: exiting at import, hanging, forging a frame, a memory bomb.
OTHER_TOPICS = {
    "exit_at_import": "import os\nos._exit(0)\n",
    "hang": "\ndef conv1d(f, h, mode='full'):\n    while True:\n        pass\n",
    "forged_frame": forged('{"ok": True, "values": [{"a": 0, "k": "ndarray"}], "arrays": [{"dtype": "<f8", "shape": [3], "nbytes": 24}]}', 'b"\\0" * 24'),
    "memory_bomb": "\ndef conv1d(f, h, mode='full'):\n    return _np.ones(10**11)\n",
}


@pytest.mark.parametrize("name", sorted(OTHER_TOPICS))
def test_an_attack_in_one_topic_leaves_the_other_topics_intact(tight_grader, name: str):
    code = OTHER_TOPICS[name]
    source = code if name == "exit_at_import" else attack(code)
    report = tight_grader.grade(Submission.from_texts("submission", {"convolution": source, "information": INFORMATION}), topics=["convolution", "information"])
    convolution, information = report.topics
    assert convolution.points < convolution.max_points
    assert information.error is None and information.points == INFORMATION_POINTS, [(c.id, c.message) for c in information.checks if c.status != PASSED]


KILL_EVERYONE = """
import os, signal


def _kill_everyone():
    hit = 0
    for pid in (int(p) for p in os.listdir("/proc") if p.isdigit()):
        if pid != os.getpid():
            for sig in (signal.SIGSTOP, signal.SIGKILL):
                try:
                    os.kill(pid, sig)
                    hit += 1
                except OSError:
                    pass
    try:
        os.kill(-1, signal.SIGKILL)  # every process this uid may signal, but itself
    except OSError:
        pass
    return hit


def conv1d(f, h, mode="full"):
    if _first_call(f):
        print("SIGNALLED", _kill_everyone(), "PROCESSES", flush=True)
    return _wrong(f, h, mode)
"""


def test_signalling_every_visible_process_leaves_a_classmate_graded_beside_it_intact(tight_grader):
    strict_only(tight_grader)
    classmate: list = []
    beside = threading.Thread(target=lambda: classmate.append(grade_source(tight_grader, REFERENCE)))
    beside.start()
    result = Attack(KILL_EVERYONE, phrase=r"are off").run(tight_grader)
    beside.join(60)
    (theirs,) = classmate
    assert theirs.error is None and theirs.points == TOTAL, [(c.id, c.message) for c in theirs.checks if c.status != PASSED]
    assert "SIGNALLED" in result.output
    assert_grader_still_works(tight_grader)


STEAL_FROM_CLASSMATE = """
import os

_BOB = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bob", "convolution.py")
try:
    with open(_BOB) as _fh:
        _stolen = _fh.read()
    print("READ", len(_stolen), "CHARACTERS OF BOB'S WORK", flush=True)
except OSError as exc:
    print("could not read bob's work:", type(exc).__name__, flush=True)
try:
    with open(_BOB, "w") as _fh:
        _fh.write("def conv1d(f, h, mode='full'):\\n    raise ValueError('sabotaged')\\n")
    print("SABOTAGED BOB", flush=True)
except OSError as exc:
    print("could not write bob's work:", type(exc).__name__, flush=True)


def conv1d(f, h, mode="full"):
    return _wrong(f, h, mode)
"""


@pytest.mark.skipif(not STRICT_OK, reason=STRICT_WHY)
def test_a_batch_worker_cannot_read_or_rewrite_a_classmates_submission(tmp_path: Path):
    """Outside /tmp (a strict worker's /tmp is its own anyway): the submissions folder of a real grading server."""
    try:
        base = Path(tempfile.mkdtemp(prefix=".grade-neighbours-", dir=ROOT.parent))
    except OSError as exc:
        pytest.skip(f"no writable folder beside the course outside /tmp: {exc}")
    try:
        submissions = base / "submissions"
        for name, source in (("alice", attack(STEAL_FROM_CLASSMATE)), ("bob", REFERENCE)):
            (submissions / name).mkdir(parents=True)
            (submissions / name / "convolution.py").write_text(source)
        os.chmod(base, 0o755)  # mkdtemp's 0700 would hide the classmates by itself; a server's folders are open
        out = tmp_path / "results"
        code = batch.main(submissions=submissions, out=out, topics=["convolution"], jobs=1, device="cpu", sandbox="strict", course=ROOT / "course.yaml", stream=io.StringIO())
        assert code == 0
        rows = {r["submission"]: r for r in csv.DictReader(io.StringIO((out / "gradebook.csv").read_text()))}
        assert float(rows["bob"]["total"]) == TOTAL
        assert float(rows["alice"]["total"]) < TOTAL
        assert (submissions / "bob" / "convolution.py").read_text() == REFERENCE
        printed = (out / "submissions" / "alice" / "results.json").read_text()
        assert "could not read bob's work: FileNotFoundError" in printed and "SABOTAGED" not in printed
    finally:
        shutil.rmtree(base, ignore_errors=True)
