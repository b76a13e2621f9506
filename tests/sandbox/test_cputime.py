"""Meter: the CPU time and run-queue delay of a process tree, read from /proc (or psutil), on real processes.

Every figure asserted is CPU time a process was made to burn (time.process_time, not the wall clock), so the tests
hold however busy the machine is. Each test's processes share one session, killed as a group when it ends.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from autograder.sandbox import cputime
from autograder.sandbox.cputime import Meter

SPIN_S = 0.3  # CPU seconds the spinning process burns
AT_LEAST = 0.2  # what a reading must show of them (the kernel counts in clock ticks)

# argv: depth (forks before the spin: 0 = the root spins), "reaped" or "kept", "hold" or "forever".
# The spinner says "ready <pid>" once it has burnt SPIN_S of CPU, then holds (until stdin closes) or, when reaped,
# exits and its parent says "ready" after waiting for it. "forever" spins without end (a CPU hog).
TREE = r"""
import os, sys, time
depth, reaped, forever = int(sys.argv[1]), sys.argv[2] == "reaped", sys.argv[3] == "forever"
for level in range(depth):
    pid = os.fork()
    if pid:
        if reaped and level == depth - 1:
            os.waitpid(pid, 0)
            print("ready", pid, flush=True)
        sys.stdin.read()
        os._exit(0)
while forever:
    pass
end = time.process_time() + float(sys.argv[4])
while time.process_time() < end:
    pass
if reaped:
    os._exit(0)
print("ready", os.getpid(), flush=True)
sys.stdin.read()
"""


@contextmanager
def tree(depth: int, *, reaped: bool = False, forever: bool = False, cpu: int | None = None):
    """Start a TREE; yields (root process, spinner pid) once the spin is done (at once for ``forever``)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", TREE, str(depth), "reaped" if reaped else "kept", "forever" if forever else "hold", str(SPIN_S)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, start_new_session=True,
    )
    try:
        if cpu is not None:
            os.sched_setaffinity(proc.pid, {cpu})  # its interpreter is still starting: the spin runs on this CPU only
        spinner = None if forever else int(proc.stdout.readline().split()[1])
        yield proc, spinner
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # the session: its children and grandchildren too
        except ProcessLookupError:
            pass
        proc.wait()
        proc.stdin.close()
        proc.stdout.close()


@pytest.fixture(params=["proc", "psutil"])
def backend(request, monkeypatch):
    """Both ways of reading: /proc, and psutil where there is none (macOS, Windows)."""
    if request.param == "psutil":
        monkeypatch.setattr(cputime, "_PROC", False)
    elif not cputime._PROC:
        pytest.skip("no /proc here")
    return request.param


@pytest.mark.parametrize(
    "depth, reaped, include_root, counted",
    [
        pytest.param(0, False, True, True, id="root-itself"),
        pytest.param(0, False, False, False, id="root-left-out"),
        pytest.param(1, False, False, True, id="child"),
        pytest.param(2, False, False, True, id="grandchild"),
        pytest.param(2, True, False, True, id="child-reaped-by-its-parent"),  # in the parent's cutime
    ],
)
def test_the_tree_s_cpu_time_is_counted(backend, depth, reaped, include_root, counted):
    with tree(depth, reaped=reaped) as (proc, _):
        usage = Meter(proc.pid, include_root=include_root).read()
    if counted:
        assert usage.cpu_s >= AT_LEAST
    else:
        assert usage.cpu_s == 0  # nothing below the root
    if backend == "psutil":
        assert usage.waiting_s == 0  # unknown without /proc


def test_a_reading_never_decreases_once_the_processes_are_gone():
    with tree(1) as (proc, _):
        meter = Meter(proc.pid, include_root=False)
        seen = meter.read()
    assert seen.cpu_s >= AT_LEAST
    for discover in (False, True):  # the processes it knew are gone; and so is the root, for a new scan
        later = meter.read(discover=discover)
        assert later.cpu_s >= seen.cpu_s and later.waiting_s >= seen.waiting_s
        seen = later


@pytest.mark.parametrize(
    "listing, counted",
    [
        pytest.param("{spinner}\n", True, id="listed"),
        pytest.param("", False, id="empty-list-wins-over-the-scan"),
        pytest.param("{root}\n", False, id="root-left-out"),
        pytest.param(None, True, id="missing-file-falls-back-to-the-scan"),
        pytest.param("not a pid\n", True, id="unreadable-file-falls-back-to-the-scan"),
    ],
)
def test_a_members_file_names_the_tree(tmp_path: Path, listing, counted):
    members = tmp_path / "cgroup.procs"
    with tree(1) as (proc, spinner):
        if listing is not None:
            members.write_text(listing.format(spinner=spinner, root=proc.pid))
        usage = Meter(proc.pid, include_root=False, members=str(members)).read(discover=True)
    assert (usage.cpu_s >= AT_LEAST) if counted else usage.cpu_s == 0


@pytest.mark.skipif(not cputime._PROC or not os.path.isfile("/proc/self/schedstat"), reason="no /proc schedstat here")
def test_waiting_for_a_cpu_is_counted_apart_from_cpu_time():
    """Four runnable processes on one CPU: whichever runs, the other three wait, so the measured one waits for about
    three times the CPU time it gets."""
    cpu = min(os.sched_getaffinity(0))
    with tree(0, forever=True, cpu=cpu), tree(0, forever=True, cpu=cpu), tree(0, forever=True, cpu=cpu):
        with tree(0, cpu=cpu) as (proc, _):
            usage = Meter(proc.pid, include_root=True).read()
    assert usage.cpu_s >= AT_LEAST
    assert usage.waiting_s > 0.1



@pytest.mark.skipif(not os.path.isfile("/proc/thread-self/schedstat"), reason="no /proc/thread-self/schedstat here")
def test_the_grader_s_own_waiting_is_measured():
    """own_waiting: the calling thread's run-queue delay, which a Clock does not count as the worker asleep."""
    cpu = min(os.sched_getaffinity(0))
    before = cputime.own_waiting()
    with tree(0, forever=True, cpu=cpu), tree(0, forever=True, cpu=cpu), tree(0, forever=True, cpu=cpu):
        old = os.sched_getaffinity(0)
        os.sched_setaffinity(0, {cpu})
        try:
            end = time.process_time() + SPIN_S  # our own CPU time: three spinners make us wait for about three times it
            while time.process_time() < end:
                pass
        finally:
            os.sched_setaffinity(0, old)
    assert cputime.own_waiting() - before > 0.1
