"""Adversarial submissions that exit, or print and write fake scores (threat model 1, 2).

The worker leaving early (sys.exit, os._exit, SIGKILL to itself, hanging up on the grader) earns nothing and is
reported as what it was; a fake score printed to the terminal or written to a results file, or to the report file
the CLI was told to write, changes nothing: the grader's own report is what counts, and the printed text is shown
only as the submission's output. See attacks.py for what every attack test asserts.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from autograder.engine.results import PASSED
from autograder.reports.renderers import render

from attacks import CONV1D_CHECKS, EVERYTHING, GRADE, OTHER_CHECKS, POINTS, SECRET, TOTAL, Attack, assert_defeated, assert_grader_still_works, attack, grade_report, table
from conftest import ROOT, STRICT_OK, STRICT_WHY, grade_source


# ---- 1: exiting ---------------------------------------------------------------------------------------------------

EXITS = {
    "sys_exit_at_import": Attack(
        """
        import sys
        print("Total: 34/34")
        sys.exit(0)
        """,
        phrase=r"SystemExit",
        attacked=EVERYTHING,
        where="error",
        recover=True,
    ),
    "os_exit_at_import": Attack(
        """
        import os
        print("Total: 34/34", flush=True)
        os._exit(0)
        """,
        phrase=r"the worker (exited with code 0|was killed by SIGKILL)",
        attacked=EVERYTHING,
        where="error",
    ),
    "os_exit_in_conv1d": Attack(
        """
        import os

        def conv1d(f, h, mode="full"):
            os._exit(0)
        """,
        # strict mode races: see test_exit_status_is_not_masked_by_the_graders_kill
        phrase=r"conv1d\(.*\): the worker (exited with code 0|was killed by SIGKILL)",
    ),
    "raise_system_exit_in_conv1d": Attack(
        """
        def conv1d(f, h, mode="full"):
            raise SystemExit(0)
        """,
        phrase=r"raised SystemExit",
    ),
    "sigkill_itself_in_conv1d": Attack(
        """
        import os, signal

        def conv1d(f, h, mode="full"):
            os.kill(os.getpid(), signal.SIGKILL)
        """,
        phrase=r"the worker was killed by SIGKILL",
    ),
}


@table(EXITS)
def test_exiting_earns_nothing_and_later_checks_still_run(tight_grader, row: Attack):
    result = row.run(tight_grader)
    if row.where == "error":
        assert result.points == 0
        assert "Total: 34/34" in result.output  # what it printed is shown, as its output, and not believed


# Hang up on the grader, then exit with status 0 a moment later: the student should be told "exited with code 0".
HANG_UP_THEN_EXIT = """
import os, socket, time

def conv1d(f, h, mode="full"):
    for fd in map(int, os.listdir("/proc/self/fd")):
        try:
            if os.readlink(f"/proc/self/fd/{fd}").startswith("socket:"):
                socket.socket(fileno=os.dup(fd)).shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    end = time.monotonic() + 0.2  # a moment: a grader that waits for the worker's own end sees "exited with code 0"
    while time.monotonic() < end:
        pass
    os._exit(0)
"""


def test_exit_status_is_not_masked_by_the_graders_kill(tight_grader):
    result = grade_source(tight_grader, attack(HANG_UP_THEN_EXIT))
    assert_defeated(result)
    messages = {c: m.message for c in CONV1D_CHECKS for m in result.checks if m.id == c}
    assert all("the worker exited with code 0" in m for m in messages.values()), messages


# ---- 2: fake scores and fake result files -----------------------------------------------------------------------

FAKE_SCORE = """
import atexit, json, os, sys, threading, time

FAKE = {"score": 34, "max_score": 34, "points": 34, "tests": [{"name": "conv1d_full", "score": 2, "status": "passed"}]}
TABLE = "Convolutions [convolution]  34/34\\n  conv1d_full   2/2  ok\\n  hidden_conv1d (hidden)  3/3  ok\\n\\nTotal: 34/34"


def _fake():
    print(TABLE, flush=True)
    print("Total: 34/34", file=sys.stderr, flush=True)
    for path in ("results.json", {{OUT}}):
        try:
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
            with open(path, "w") as fh:
                json.dump(FAKE, fh)
            print("wrote", path, flush=True)
        except OSError as exc:
            print("could not write", path, exc, flush=True)


_fake()
atexit.register(_fake)  # the worker leaves with os._exit: never runs
threading.Thread(target=lambda: (time.sleep(0.3), _fake()), daemon=False).start()  # never waited for


def conv1d(f, h, mode="full"):
    _fake()
    return _wrong(f, h, mode)
"""


def test_a_fake_score_and_fake_results_file_change_nothing(tight_grader, tmp_path: Path):
    out = tmp_path / "results.json"
    report = grade_report(tight_grader, attack(FAKE_SCORE, OUT=str(out)))
    result = report.topics[0]
    assert_defeated(result, phrase=r"are off")
    assert report.points == TOTAL - sum(POINTS[c] for c in CONV1D_CHECKS)
    # What it printed is kept, labelled as its output, after the real results; the real total is the last line.
    assert "Total: 34/34" in result.output
    text = render(report, "text")
    marker = "--- what your code printed (an excerpt; never used for grading) ---"
    assert marker in text
    before, after = text.split(marker, 1)
    assert "34/34" not in before
    assert all(line.startswith("  | ") or "34/34" not in line for line in after.splitlines())
    assert text.rstrip().splitlines()[-1] == f"Total: {report.points:g}/{TOTAL:g}"
    if tight_grader.mode == "strict":
        assert not out.exists(), "a strict worker wrote outside its sandbox"
    assert_grader_still_works(tight_grader)


CLI_ATTACK = """
import glob, json, os, sys

OUT = {{OUT}}
FAKE = {"points": 34, "max_points": 34, "topics": [{"id": "convolution", "points": 34, "max_points": 34}]}


def _ancestors():
    pid, seen = os.getpid(), []
    while pid > 1 and len(seen) < 3:  # worker -> supervisor -> fork server -> grade, and no further
        try:
            with open(f"/proc/{pid}/stat") as fh:
                pid = int(fh.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            break
        seen.append(pid)
    return seen


def _attack():
    print("Total: 34/34", flush=True)
    try:  # the report file the grader was told to write
        with open(OUT, "w") as fh:
            json.dump(FAKE, fh)
        print("wrote", OUT, flush=True)
    except OSError as exc:
        print("could not write", OUT, exc, flush=True)
    for pid in _ancestors():  # straight into the grading process's terminal
        for fd in (1, 2):
            try:
                with open(f"/proc/{pid}/fd/{fd}", "w") as fh:
                    fh.write("\\nTotal: 34/34\\n")
            except OSError:
                pass
    for path in glob.glob("/proc/[0-9]*/environ"):  # the course secret
        try:
            with open(path, "rb") as fh:
                data = fh.read()
        except OSError:
            continue
        for item in data.split(b"\\0"):
            if item.startswith(b"AUTOGRADER_SECRET="):
                print("STOLEN", item.decode(errors="replace"), flush=True)
    if os.fork() == 0:  # a survivor that keeps rewriting the report after the grader wrote it
        try:
            os.setsid()
            for _ in range(400):
                try:
                    with open(OUT, "w") as fh:
                        json.dump(FAKE, fh)
                except OSError:
                    pass
                __import__("time").sleep(0.02)
        finally:
            os._exit(0)


_attack()


def conv1d(f, h, mode="full"):
    return _wrong(f, h, mode)
"""


@pytest.mark.parametrize("mode", [pytest.param("strict", marks=pytest.mark.skipif(not STRICT_OK, reason=STRICT_WHY)), "process"])
def test_cli_report_file_holds_the_graders_results(tmp_path: Path, mode: str):
    """``grade run FILE --format json --output OUT``: the submission writes OUT itself, writes into the grader's
    terminal, hunts for the secret and leaves a survivor rewriting OUT; OUT still holds the grader's report."""
    out = tmp_path / "report.json"
    sub = tmp_path / "submission"
    sub.mkdir()
    (sub / "convolution.py").write_text(attack(CLI_ATTACK, OUT=str(out)))
    env = {**os.environ, "AUTOGRADER_SECRET": SECRET}
    done = subprocess.run(
        [GRADE, "run", str(sub / "convolution.py"), "--format", "json", "--output", str(out), "--device", "cpu", "--sandbox", mode],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    want = TOTAL - sum(POINTS[c] for c in CONV1D_CHECKS)
    time.sleep(0.5)  # a survivor (rewriting every 20 ms) would have rewritten it by now

    data = json.loads(out.read_text())
    assert (data["points"], data["max_points"], data["sandbox"]) == (want, TOTAL, mode)
    (topic,) = data["topics"]
    checks = {c["id"]: c for c in topic["checks"]}
    assert {c: checks[c]["points"] for c in CONV1D_CHECKS} == dict.fromkeys(CONV1D_CHECKS, 0)
    assert all(checks[c]["status"] == PASSED for c in OTHER_CHECKS)
    assert "Total: 34/34" in topic["output"]  # kept as the submission's output, nowhere else in the data
    assert "Total: 34/34" not in json.dumps({k: v for k, v in topic.items() if k != "output"})

    lines = done.stdout.splitlines()
    assert lines[-1] == f"Total: {want:g}/{TOTAL:g}"
    if mode == "strict":  # a process-mode worker runs as the grader's own user: it can write to the grader's terminal
        assert all(line.startswith("  | ") for line in lines if "34/34" in line), done.stdout
        assert SECRET not in done.stdout + out.read_text() + done.stderr
        assert "STOLEN" not in topic["output"]
        assert "wrote" not in topic["output"]

