"""Adversarial submissions that exhaust resources, outlive their run, or do nothing at all (threat model 8, 12, 13).

Hanging, memory bombs (in the worker or spread over its children), fork bombs, setsid double-fork survivors (which
also hold the output pipe open), atexit hooks and non-daemon threads, disk fills, huge messages and output floods
are stopped at the limits, cleaned up and capped: they earn nothing, the costly
ones cost one time limit each, and the grader still grades the reference to full marks afterwards. Doing nothing
(the stub, or raising for every input) earns nothing either. See attacks.py for the assertions.
"""

from __future__ import annotations

import os
import re
import signal
import time
import uuid

import psutil
import pytest

from autograder.engine.results import NOT_ATTEMPTED
from autograder.sandbox.workers import Worker

from attacks import STUB, TIMEOUT, Attack, assert_defeated, asleep, attack, out_of_cpu, table
from conftest import grade_source, statuses


# ---- 13: hanging --------------------------------------------------------------------------------------------

HANGS = {
    "infinite_loop": Attack(
        """
        def conv1d(f, h, mode="full"):
            while _first_call(f):
                pass
            return _wrong(f, h, mode)
        """,
        phrase=out_of_cpu(2.0),
        recover=True,
    ),
    "sleeps_forever": Attack(
        """
        import time

        def conv1d(f, h, mode="full"):
            if _first_call(f):
                time.sleep(10**6)
            return _wrong(f, h, mode)
        """,
        phrase=asleep(2.0),
    ),
    "ignores_sigterm_and_friends": Attack(
        """
        import signal

        for _sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGALRM, signal.SIGXCPU, signal.SIGUSR1):
            signal.signal(_sig, signal.SIG_IGN)

        def conv1d(f, h, mode="full"):
            while _first_call(f):
                try:
                    pass
                except BaseException:
                    pass
            return _wrong(f, h, mode)
        """,
        phrase=out_of_cpu(2.0),
    ),
}


@table(HANGS)
def test_hanging_is_stopped_at_the_time_limit(tight_grader, row: Attack):
    """The hang is stopped at its full budget (the message names it: the same words however busy the machine is),
    a loop only once it has used its CPU time, and it costs one budget: no other check runs out of time."""
    result = row.run(tight_grader)
    hang = next(c for c in result.checks if c.id == "conv1d_full")
    assert (hang.cpu_s >= 2.0) == ("CPU time" in hang.message), (hang.cpu_s, hang.message)
    assert [c.id for c in result.checks if re.search(TIMEOUT, c.message)] == ["conv1d_full"]


# ---- 13: memory -------------------------------------------------------------------------------------------------

MEMORY = {
    # It reaches 512 MiB after about 0.3 s of CPU time, so the memory verdict comes long before the 2 s of CPU time.
    "python_list_growth": Attack(
        """
        def conv1d(f, h, mode="full"):
            if _first_call(f):
                hog = []
                while True:
                    hog.append(bytearray(1 << 20))
            return _wrong(f, h, mode)
        """,
        phrase=r"exceeded the memory limit|MemoryError",
        recover=True,
    ),
    "numpy_ones_1e11": Attack(
        """
        import numpy as np

        def conv1d(f, h, mode="full"):
            if _first_call(f):
                return np.ones(10**11)
            return _wrong(f, h, mode)
        """,
        phrase=r"MemoryError|exceeded the memory limit",
    ),
    "torch_empty_1e11": Attack(
        """
        import torch

        def conv1d(f, h, mode="full"):
            if _first_call(f):
                return torch.empty(10**11)
            return _wrong(f, h, mode)
        """,
        phrase=r"can't allocate memory|MemoryError|exceeded the memory limit",
    ),
}


@table(MEMORY)
def test_memory_bombs_are_contained(tight_grader, row: Attack):
    row.run(tight_grader)


CHILDREN_HOG = """
import os, select, time


def conv1d(f, h, mode="full"):
    if _first_call(f):
        done_r, done_w = os.pipe()
        children = []
        for _ in range(6):  # 6 x 200 MiB: more than twice the limit, spread so that no one process is large
            pid = os.fork()
            if pid == 0:
                try:
                    hog = [bytearray(8 << 20) for _ in range(25)]
                    os.write(done_w, os.getpid().to_bytes(4, "little"))  # this child holds its 200 MiB now
                    time.sleep(30)
                finally:
                    os._exit(0)
            children.append(pid)
        # Count only children that finished allocating: on a busy machine some may still be on their way.
        deadline, done = time.monotonic() + 1.2, set()
        while len(done) < len(children) and select.select([done_r], [], [], max(deadline - time.monotonic(), 0))[0]:
            data = os.read(done_r, 4)
            done.add(int.from_bytes(data, "little"))
        alive = 0
        for pid in done:
            try:
                with open(f"/proc/{pid}/stat") as fh:
                    alive += fh.read().rsplit(")", 1)[1].split()[0] != "Z"
            except OSError:
                pass
        print(f"HOGS ALIVE {alive}", flush=True)
    return _wrong(f, h, mode)
"""


def test_memory_spread_over_child_processes_is_bounded(tight_grader):
    """RLIMIT_AS bounds each process; only the memory cgroup bounds the sum over the worker's children."""
    if tight_grader.memory_cgroup is None:
        pytest.skip("no writable memory cgroup for these workers: children's memory is bounded per process only")
    result = Attack(CHILDREN_HOG, phrase=r"are off").run(tight_grader)
    alive = re.search(r"HOGS ALIVE (\d+)", result.output)
    assert alive, result.output
    assert int(alive.group(1)) * 200 <= 512, "the children held more memory than the worker's limit"


# ---- 8, 12: processes and threads that outlive their welcome ---------------------------------------------------------------


def _processes_with_argv(argv: list[str]) -> list[int]:
    wanted = ("\0".join(argv) + "\0").encode()
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as fh:
                    if fh.read() == wanted:
                        found.append(int(entry))
            except OSError:
                pass
    return found


def assert_no_process_left(argv: list[str], wait_s: float = 10.0) -> None:
    """Poll /proc for a while (what was killed may take a moment to go, longer on a busy machine); whatever is left
    is reported, then killed (only those: they carry our marker)."""
    deadline = time.monotonic() + wait_s
    while (left := _processes_with_argv(argv)) and time.monotonic() < deadline:
        time.sleep(0.05)
    for pid in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    assert left == [], f"{len(left)} processes {argv} outlived the grading"


FORK_BOMB = """
import os, time


def conv1d(f, h, mode="full"):
    if _first_call(f):
        count, problem, start = 0, None, time.monotonic()
        while count < 2000 and time.monotonic() - start < 1.0:
            try:
                pid = os.fork()
            except OSError as exc:
                problem = exc
                break
            if pid == 0:
                try:
                    os.execv("/bin/sleep", ["/bin/sleep", {{MARK}}])
                finally:
                    os._exit(0)
            count += 1
        print(f"FORKED {count} ({problem})", flush=True)
    return _wrong(f, h, mode)
"""


def test_a_fork_bomb_is_bounded_and_cleaned_up(tight_grader):
    mark = str(10**9 + uuid.uuid4().int % 10**9)
    # Without root, workers run as the fork server's user, and their limit is 64 more than that user had: other
    # processes of that user (another test process's workers) that end during the bomb leave it room for as many more.
    server = psutil.Process(tight_grader._spawner.forkserver._proc.pid).uids().real
    others = 0 if server == 0 else sum(p.info["uids"] is not None and p.info["uids"].real == server for p in psutil.process_iter(["uids"]))
    result = Attack(FORK_BOMB, phrase=r"are off|" + TIMEOUT, values={"MARK": mark}, recover=True).run(tight_grader)
    assert_no_process_left(["/bin/sleep", mark])
    forked = re.search(r"FORKED (\d+)", result.output)
    if tight_grader.mode == "strict":  # RLIMIT_NPROC: 64 per slot uid (leased by one grader alone, as root)
        assert forked and int(forked.group(1)) <= 64 + 2 + others, result.output


SURVIVOR = """
import os


def conv1d(f, h, mode="full"):
    if _first_call(f):
        child = os.fork()
        if child == 0:
            try:
                os.setsid()
                if os.fork() == 0:  # the grandchild: its own session, parent gone, then a findable argv
                    if {{LEAVE_CGROUP}}:  # out of the worker's memory cgroup, where the hierarchy lets it
                        for procs in ("/sys/fs/cgroup/cgroup.procs", "/sys/fs/cgroup/memory/cgroup.procs"):
                            try:
                                with open(procs, "w") as fh:
                                    fh.write(str(os.getpid()))
                            except OSError:
                                pass
                    os.execv("/bin/sleep", ["/bin/sleep", {{MARK}}])
            finally:
                os._exit(0)
        os.waitpid(child, 0)
        print("SURVIVOR STARTED", flush=True)
    return _wrong(f, h, mode)
"""


@pytest.mark.parametrize("leave_cgroup", [pytest.param(False, id="setsid-double-fork"), pytest.param(True, id="and-leaves-the-memory-cgroup")])
def test_a_setsid_double_fork_survivor_is_killed(tight_grader, leave_cgroup: bool):
    """12: killed before the grader hears that the worker ended (so before any report is written), in every mode:
    a pid namespace in strict mode; in process mode the supervisor is the orphans' subreaper."""
    mark = str(10**9 + uuid.uuid4().int % 10**9)
    result = Attack(SURVIVOR, phrase=r"are off", values={"MARK": mark, "LEAVE_CGROUP": leave_cgroup}).run(tight_grader)
    assert "SURVIVOR STARTED" in result.output
    assert_no_process_left(["/bin/sleep", mark])


AFTERLIFE = """
import atexit, os, threading, time


def _rewrite_later():
    time.sleep(0.3)
    print("Total: 34/34 (from a thread, after the answer)", flush=True)
    time.sleep(10**6)  # a non-daemon thread: Python would wait for it at exit


atexit.register(lambda: (print("ATEXIT RAN: Total: 34/34", flush=True), time.sleep(10**6)))
threading.Thread(target=_rewrite_later, daemon=False).start()


def conv1d(f, h, mode="full"):
    return _wrong(f, h, mode)
"""


def test_atexit_hooks_and_non_daemon_threads_neither_run_late_nor_hold_the_grader(tight_grader, monkeypatch):
    """The worker leaves with os._exit (no atexit hooks, no joining threads), and whatever is left is killed."""
    ended, real_exit = [], Worker.exit

    def exit_spy(self, **kwargs):
        ended.append(real_exit(self, **kwargs))
        return ended[-1]

    monkeypatch.setattr(Worker, "exit", exit_spy)
    result = Attack(AFTERLIFE, phrase=r"are off").run(tight_grader)
    # A worker that waited for its hook or its thread would have been killed at the end of its grace period.
    assert ended and {(e.exit_code, e.killed) for e in ended} == {(0, False)}, ended
    assert "ATEXIT RAN" not in result.output


DISK_FILL = """
import os, tempfile


def _fill(folder):
    written = 0
    try:
        with open(os.path.join(folder, "fill.bin"), "wb") as fh:
            while written < 8 << 30:
                fh.write(b"\\0" * (1 << 20))
                written += 1 << 20
    except (OSError, MemoryError) as exc:
        return f"{written >> 20} MiB then {type(exc).__name__}"
    return f"{written >> 20} MiB"


def conv1d(f, h, mode="full"):
    if _first_call(f):
        print("FILLED", _fill(tempfile.gettempdir()), flush=True)
    return _wrong(f, h, mode)
"""


def test_filling_the_disk_stops_at_the_file_size_limit(tight_grader):
    """RLIMIT_FSIZE (64 MiB per file) in both modes; the worker's /tmp is a 64 MiB tmpfs in strict mode."""
    result = Attack(DISK_FILL, phrase=r"are off|" + TIMEOUT + r"|was killed|exited", recover=True).run(tight_grader)
    filled = re.search(r"FILLED (\d+) MiB", result.output)
    if filled:  # SIGXFSZ kills the worker before it can say so, unless it is ignored
        assert int(filled.group(1)) <= 64, result.output


# ---- reports that flood -----------------------------------------------------------------------------------------

HUGE_EXCEPTION_NAME = """
_Huge = type("E" * 3_000_000, (Exception,), {})


def conv1d(f, h, mode="full"):
    raise _Huge("x" * 3_000_000)
"""


def test_messages_from_the_worker_are_capped(tight_grader):
    result = grade_source(tight_grader, attack(HUGE_EXCEPTION_NAME))
    assert_defeated(result, phrase=r"raised E+")
    assert max(len(c.message) for c in result.checks) < 20_000


FLOOD = """
import sys


def conv1d(f, h, mode="full"):
    if _first_call(f):
        line = "Total: 34/34 " * 1000 + "\\n"
        for _ in range(2000):  # 26 MB
            sys.stdout.write(line)
        sys.stdout.flush()
    return _wrong(f, h, mode)
"""


def test_an_output_flood_is_capped(tight_grader):
    result = Attack(FLOOD, phrase=r"are off").run(tight_grader)
    assert len(result.output) < 20_000
    assert re.search(r"\(\d+ more bytes not shown\)", result.output)


# ---- credit for doing nothing --------------------------------------------------------------------------------------


def test_raising_valueerror_for_everything_earns_nothing(tight_grader):
    result = grade_source(tight_grader, attack("""
        def conv1d(f, h, mode="full"):
            raise ValueError("not done yet")
        """))
    assert_defeated(result, phrase=r"raised ValueError")


def test_the_stub_is_not_attempted_and_scores_zero(tight_grader):
    result = grade_source(tight_grader, STUB)
    assert result.error is None
    assert set(statuses(result).values()) == {NOT_ATTEMPTED}
    assert result.points == 0
    assert all("not attempted" in c.message for c in result.checks)
