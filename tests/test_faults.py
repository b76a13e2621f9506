"""Faults in the middle of a batch: the fork server killed, a worker out of memory, a full or unwritable results
folder, the grader itself failing. Each time nothing already written is lost or corrupted, the message says what
happened and what to do, and the next run completes. (A worker killed by SIGKILL mid-check is an adversarial test,
tests/adversarial/test_exits.py; an interrupted and resumed batch and two batches on one results folder are in
tests/test_batch.py.)"""

from __future__ import annotations

import csv
import errno
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml

from autograder import batch
from autograder.engine.grading import Grader
from autograder.errors import ResultsUnwritable

from conftest import ROOT
from test_batch import REFERENCE, SECRET, _course

MEMORY_HOG = REFERENCE.replace(
    "def entropy(p: np.ndarray) -> np.ndarray:\n",
    "def entropy(p: np.ndarray) -> np.ndarray:\n    hog = []\n    while True:\n        hog.append(b\"x\" * (64 << 20))\n",
    1,
)
FULL_MARKS = 29  # the information topic


@pytest.fixture
def small_course(tmp_path: Path, monkeypatch) -> Path:
    for key, value in SECRET.items():
        monkeypatch.setenv(key, value)
    (tmp_path / "course").mkdir()
    path = _course(tmp_path / "course")
    data = yaml.safe_load(path.read_text())
    data["limits"]["memory_mb"] = 256  # the hog reaches it after about 0.2 s of CPU time: well within a check's 1 s
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    return path


def _class(folder: Path, sources: dict[str, str]) -> Path:
    for name, text in sources.items():
        (folder / name).mkdir(parents=True)
        (folder / name / "information.py").write_text(text)
    return folder


def _gradebook(out: Path) -> dict[str, dict[str, str]]:
    return {row["submission"]: row for row in csv.DictReader(io.StringIO((out / "gradebook.csv").read_text()))}


def _run(submissions: Path, out: Path, course: Path) -> tuple[int, str]:
    stream = io.StringIO()
    code = batch.main(submissions=submissions, out=out, topics=[], jobs=1, device="cpu", sandbox="auto", course=course, stream=stream)
    return code, stream.getvalue()


def _fork_servers() -> set[int]:
    """This process's fork servers (children running the server's boot code)."""
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
                with open(f"/proc/{entry}/cmdline", "rb") as fh:
                    argv = fh.read().split(b"\0")
            except (OSError, ValueError, IndexError):
                continue
            if ppid == os.getpid() and len(argv) > 2 and argv[1] == b"-c" and b"forkserver" in argv[2]:
                found.add(int(entry))
    return found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the fork server runs on Linux only")
def test_a_fork_server_killed_mid_batch_is_started_again_and_a_worker_out_of_memory_fails_alone(tmp_path: Path, small_course: Path):
    names = ["a-ref", "b-hog", "c-ref", "d-ref", "e-ref"]
    submissions = _class(tmp_path / "submissions", {n: MEMORY_HOG if n == "b-hog" else REFERENCE for n in names})
    out = tmp_path / "results"
    before = _fork_servers()
    killed: list[int] = []

    def kill_the_server_after_the_first_submission() -> None:
        deadline = time.monotonic() + 120
        while not (out / "submissions" / "a-ref" / batch.DONE).exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        for pid in _fork_servers() - before:
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)

    killer = threading.Thread(target=kill_the_server_after_the_first_submission)
    killer.start()
    code, log = _run(submissions, out, small_course)
    killer.join()
    assert killed, "the test did not find the batch's fork server"
    assert code == 0, log
    rows = _gradebook(out)
    assert {n: (rows[n]["status"], float(rows[n]["total"])) for n in names if n != "b-hog"} == {n: ("graded", FULL_MARKS) for n in names if n != "b-hog"}
    assert rows["b-hog"]["status"] == "graded" and 0 < float(rows["b-hog"]["total"]) < FULL_MARKS
    hog = json.loads((out / "submissions" / "b-hog" / "results.json").read_text())
    entropy = next(c for c in hog["topics"][0]["checks"] if c["id"] == "entropy")
    assert re.search(r"memory", entropy["message"], re.I), entropy["message"]


def test_a_full_disk_stops_the_batch_keeps_what_was_written_and_the_next_run_completes(tmp_path: Path, small_course: Path, monkeypatch):
    names = ["a", "b", "c"]
    submissions = _class(tmp_path / "submissions", dict.fromkeys(names, REFERENCE))
    out = tmp_path / "results"
    real = batch.write_atomically

    def full_at_b(path: Path, text: str) -> None:
        if path.parent.name == "b" and path.name == "results.json":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        real(path, text)

    monkeypatch.setattr(batch, "write_atomically", full_at_b)
    with pytest.raises(ResultsUnwritable, match=r"results/submissions/b: cannot write the results \(No space left on device\); ([12]) of 3 graded and kept; .* run the same command again") as raised:
        _run(submissions, out, small_course)
    kept = [n for n in names if (out / "submissions" / n / batch.DONE).exists()]  # c may have been graded while b was written
    assert len(kept) == int(re.search(r"(\d) of 3", str(raised.value)).group(1)) and "a" in kept and "b" not in kept
    for name in kept:
        assert json.loads((out / "submissions" / name / batch.DONE).read_text())["status"] == "graded"
        assert json.loads((out / "submissions" / name / "results.json").read_text())["points"] == FULL_MARKS
    assert not [p for p in out.rglob(".*") if p.name != ".lock"], "a half-written temporary file was left behind"

    monkeypatch.setattr(batch, "write_atomically", real)
    code, log = _run(submissions, out, small_course)
    assert code == 0 and f"{len(kept)} already graded, {3 - len(kept)} to grade" in log
    assert {n: float(r["total"]) for n, r in _gradebook(out).items()} == dict.fromkeys(names, FULL_MARKS)


def test_a_grader_failure_is_reported_and_retried_on_the_next_run(tmp_path: Path, small_course: Path, monkeypatch):
    submissions = _class(tmp_path / "submissions", dict.fromkeys(["a", "b"], REFERENCE))
    out = tmp_path / "results"
    real = Grader.grade

    def fails_for_b(self, submission, **kwargs):
        if Path(submission.label).name == "b":
            raise RuntimeError("the fork server went away and could not be started again")
        return real(self, submission, **kwargs)

    monkeypatch.setattr(Grader, "grade", fails_for_b)
    code, _ = _run(submissions, out, small_course)
    assert code == 4  # a submission could not be graded
    assert _gradebook(out)["b"]["status"] == "failed"
    assert "the grader failed (RuntimeError: the fork server went away" in _gradebook(out)["b"]["error"]

    monkeypatch.setattr(Grader, "grade", real)
    code, log = _run(submissions, out, small_course)
    assert code == 0 and "1 already graded, 1 to grade" in log
    assert {n: (r["status"], float(r["total"])) for n, r in _gradebook(out).items()} == dict.fromkeys(["a", "b"], ("graded", FULL_MARKS))


VICTIM = REFERENCE.replace(
    "def entropy(p: np.ndarray) -> np.ndarray:\n",
    "def entropy(p: np.ndarray) -> np.ndarray:\n"
    "    import ctypes, time\n"
    "    ctypes.CDLL(None).prctl(15, NAME.encode(), 0, 0, 0)  # PR_SET_NAME: findable in /proc/*/comm\n"
    "    time.sleep(30)\n",
    1,
)


def _named(name: str) -> list[int]:
    found = []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{entry}/comm") as fh:
                if fh.read().strip() == name:
                    found.append(int(entry))
        except OSError:
            pass
    return found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="finds the worker through /proc")
def test_a_worker_killed_from_outside_mid_check_fails_that_check_and_the_rest_are_graded(grader):
    """SIGKILL from outside (an operator, the OOM killer) while a check runs: that check fails saying so, the
    checks after it run in a fresh worker, and the grader goes on."""
    from autograder.course.submission import Submission

    name = f"victim{os.getpid() % 100000}"
    killed: list[int] = []
    done = threading.Event()

    def kill_every_worker_that_sleeps() -> None:  # every check that calls entropy gets a fresh worker, killed too
        while not done.is_set():
            for pid in _named(name):
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
            time.sleep(0.05)

    killer = threading.Thread(target=kill_every_worker_that_sleeps)
    killer.start()
    try:
        report = grader.grade(Submission.from_texts("victim", {"information": VICTIM.replace("NAME", repr(name))}), topics=["information"])
    finally:
        done.set()
        killer.join()
    assert killed, "the worker was never found"
    (topic,) = report.topics
    failed = {c.id: c.message for c in topic.checks if c.status != "passed"}
    assert "entropy" in failed and all(re.search(r"killed by signal 9|SIGKILL", m) for m in failed.values()), failed
    assert len(failed) < len(topic.checks), "the checks that do not call entropy should pass in fresh workers"


def test_a_read_only_results_folder_is_refused_in_one_line_and_keeps_its_results(tmp_path: Path, small_course: Path):
    submissions = _class(tmp_path / "submissions", {"a": REFERENCE})
    out = tmp_path / "results"
    assert _run(submissions, out, small_course)[0] == 0
    (submissions / "b").mkdir()
    (submissions / "b" / "information.py").write_text(REFERENCE)
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    command = [sys.executable, "-m", "autograder", "batch", str(submissions), "--out", str(out), "--course", str(small_course)]
    if os.geteuid() == 0:  # root writes through permission bits: a read-only bind mount, in a mount namespace of its own
        if shutil.which("unshare") is None:
            pytest.skip("root without unshare: no way to make a folder read-only for root")
        command = ["unshare", "--mount", "--propagation", "private", "sh", "-c", 'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" "$0" && exec "$@"', str(out), *command]
    else:
        out.chmod(0o555)
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=ROOT, env={**os.environ, **SECRET})
    finally:
        out.chmod(0o755)
    assert done.returncode == 2, done.stderr
    assert re.fullmatch(rf"Error: --out {re.escape(str(out))}: cannot write the results there \((Read-only file system|Permission denied)\)", done.stderr.strip().splitlines()[-1])
    assert "Traceback" not in done.stderr
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    code, log = _run(submissions, out, small_course)  # writable again: the next run grades what is missing
    assert code == 0 and "1 already graded, 1 to grade" in log
    assert {n: float(r["total"]) for n, r in _gradebook(out).items()} == {"a": FULL_MARKS, "b": FULL_MARKS}


def test_a_results_folder_that_cannot_be_created_gets_one_line(tmp_path: Path, small_course: Path):
    (tmp_path / "a-file").write_text("not a folder\n")
    submissions = _class(tmp_path / "submissions", {"a": REFERENCE})
    done = subprocess.run(
        [sys.executable, "-m", "autograder", "batch", str(submissions), "--out", str(tmp_path / "a-file" / "results"), "--course", str(small_course)],
        capture_output=True, text=True, timeout=120, cwd=ROOT, env={**os.environ, **SECRET},
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1] == f"Error: --out {tmp_path / 'a-file' / 'results'}: cannot write the results there (Not a directory)"
    assert "Traceback" not in done.stderr
