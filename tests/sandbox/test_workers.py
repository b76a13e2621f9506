"""Starting workers: the fork server, and the plain-subprocess path used where there is no fork server."""

from __future__ import annotations

import os
import select
from types import SimpleNamespace

import pytest

from autograder.engine.grading import Grader
from autograder.engine.results import FAILED, PASSED
from autograder.sandbox import forkserver, workers
from autograder.sandbox.confinement import ROOTLESS
from autograder.sandbox.cputime import Usage
from autograder.sandbox.workers import BLOCKED, CPU, STARVED, STARVED_AFTER, Clock, WorkerTimeout

from conftest import ROOT, ROOTLESS_OK, ROOTLESS_WHY, as_nobody, grade_source, with_limits


def test_fork_server_holds_no_secret(grader):
    grader.mode  # the server has started and said hello
    server = grader._spawner.forkserver
    environ = open(f"/proc/{server._proc.pid}/environ", "rb").read()
    assert os.environ["AUTOGRADER_SECRET"].encode() not in environ
    assert b"AUTOGRADER_SECRET" not in environ


def test_reduced_isolation_is_said_in_one_line(course):
    with Grader(course=course, sandbox="process", devices=["cpu"]) as grader:
        assert grader.mode == "process"
        assert any(n.startswith("note: reduced isolation (process sandbox)") for n in grader.notes)


@pytest.mark.skipif(not ROOTLESS_OK, reason=ROOTLESS_WHY)
def test_strict_mode_without_root_is_chosen_and_says_what_it_lacks(course, monkeypatch):
    real = forkserver.command
    monkeypatch.setattr(forkserver, "command", lambda fd, paths: as_nobody(real(fd, paths)))
    with Grader(course=course, sandbox="auto", devices=["cpu"]) as grader:
        assert (grader.mode, grader.memory_cgroup) == ("strict", None)
        assert grader.notes == [f"note: strict sandbox without root: {ROOTLESS}."]
        server = grader._spawner.forkserver._proc.pid
        assert os.stat(f"/proc/{server}").st_uid == 65534  # the server really is not root


@pytest.fixture(scope="module")
def subprocess_grader(course):
    """The path macOS and Windows take: a fresh interpreter per worker, connecting back over loopback. Its start
    (importing torch: about 2 s of CPU) is the grader's, not the import's: cpu_s of 1 s leaves no room for it."""
    with Grader(course=with_limits(course, cpu_s=1.0), sandbox="process", devices=["cpu"], use_forkserver=False) as grader:
        yield grader


def test_subprocess_workers_grade_the_reference(subprocess_grader):
    source = (ROOT / "solutions" / "convolution.py").read_text()
    result = grade_source(subprocess_grader, source, public_only=True)
    assert {c.status for c in result.checks} == {PASSED}


def test_subprocess_workers_are_stopped_at_the_time_limit(subprocess_grader):
    """The CPU time of a fresh interpreter (no supervisor: the worker is the meter's root) is what stops it."""
    source = (ROOT / "solutions" / "convolution.py").read_text() + "\ndef conv_matrix(h, n):\n    while True:\n        pass\n"
    result = grade_source(subprocess_grader, source, checks=["conv_matrix", "fft_conv1d"])  # each new worker costs an import of torch
    by_id = {c.id: c for c in result.checks}
    assert by_id["conv_matrix"].status == FAILED
    assert "used this check's 1 s of CPU time (limits.cpu_s) without finishing and was stopped" in by_id["conv_matrix"].message
    assert by_id["conv_matrix"].cpu_s >= 1
    assert by_id["fft_conv1d"].status == PASSED  # a new worker took over


def test_strict_is_refused_without_a_fork_server(course):
    from autograder.errors import SandboxUnavailable

    with pytest.raises(SandboxUnavailable, match="--sandbox strict: needs Linux namespaces"):
        Grader(course=course, sandbox="strict", use_forkserver=False)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="slot uids are leased only by a grader running as root")
def test_strict_as_root_without_a_usable_lease_folder_is_refused_in_one_line(course, tmp_path, monkeypatch):
    from autograder.errors import SandboxUnavailable
    from autograder.sandbox import workers

    (tmp_path / "file").write_text("")
    monkeypatch.setattr(workers, "LEASES", tmp_path / "file" / "slots")
    with pytest.raises(SandboxUnavailable, match=r"lock folder cannot be made \(Not a directory\); .* \(--sandbox process grades without per-slot uids\)"):
        Grader(course=course, sandbox="strict")


# ---- the Clock, on a scripted meter ---------------------------------------------------------------------------------


class ScriptedMeter:
    """Says the worker's processes have used what the test sets in ``now``."""

    def __init__(self, now: Usage):
        self.now = now

    def read(self, discover: bool = False) -> Usage:
        return self.now


BUDGET = {"cpu_s": 1.0, "wall_s": 2.0}
STARVED_AT = STARVED_AFTER * 3.0  # STARVED_AFTER times cpu_s + wall_s
FIRST_TICK = 0.1  # a request's first tick: where its time asleep starts to count


@pytest.fixture
def scripted(monkeypatch):
    """A worker whose meter says what the test sets, and a clock and a grader thread's own waiting the test moves."""
    before = Usage(7.0, 3.0)  # what the worker used before this check (its import, earlier checks): not this check's
    state = SimpleNamespace(now=100.0, own=0.0, worker=SimpleNamespace(usage=before, meter=ScriptedMeter(before)), before=before)
    monkeypatch.setattr(workers, "time", SimpleNamespace(monotonic=lambda: state.now))
    monkeypatch.setattr(workers, "own_waiting", lambda: state.own)
    return state


def request(state, clock: Clock, span: float, cpu: float, waiting: float, own: float = 0.0) -> None:
    """One request: its first tick, then ``span`` seconds in which the worker's processes used ``cpu`` seconds and
    waited ``waiting`` for a CPU (and the grader's thread ``own``); ends with a tick, which may raise."""
    clock.begin()
    state.now += FIRST_TICK
    clock.tick()
    state.now += span
    used = state.worker.meter.now
    state.worker.meter.now = Usage(used.cpu_s + cpu, used.waiting_s + waiting)
    state.own += own
    try:
        clock.tick()
    finally:
        clock.end()


@pytest.mark.parametrize(
    "span, cpu, waiting, own, verdict",
    [
        pytest.param(0.5, 0.4, 0.05, 0.0, None, id="under-budget"),
        pytest.param(1.0, 1.0, 0.0, 0.0, CPU, id="cpu-used-up"),
        pytest.param(30.0, 1.0, 29.0, 0.0, CPU, id="cpu-used-up-while-starved"),  # the submission's doing comes first
        pytest.param(2.4, 0.2, 0.1, 0.0, BLOCKED, id="asleep"),
        pytest.param(2.4, 0.2, 0.3, 0.0, None, id="asleep-but-under-wall-s"),
        pytest.param(2.4, 0.2, 0.1, 0.5, None, id="the-grader-was-kept-waiting"),  # its own wait for a CPU
        pytest.param(STARVED_AT - FIRST_TICK - 0.1, 0.5, STARVED_AT - 0.7, 0.0, None, id="waiting-for-a-cpu-is-not-asleep"),
        pytest.param(STARVED_AT - FIRST_TICK, 0.5, STARVED_AT - 0.6, 0.0, STARVED, id="starved"),
        pytest.param(STARVED_AT - FIRST_TICK, 0.5, STARVED_AT - 3.1, 0.0, BLOCKED, id="asleep-while-starved"),
    ],
)
def test_clock_verdicts(scripted, span, cpu, waiting, own, verdict):
    clock = Clock(scripted.worker, **BUDGET)
    if verdict is None:
        request(scripted, clock, span, cpu, waiting, own)
        return
    with pytest.raises(WorkerTimeout) as raised:
        request(scripted, clock, span, cpu, waiting, own)
    assert raised.value.kind == verdict
    used = raised.value.used
    assert (used.cpu_s, used.waiting_s) == pytest.approx((cpu, waiting)) and raised.value.elapsed == pytest.approx(FIRST_TICK + span)


def test_time_asleep_is_judged_per_request(scripted):
    """Between requests (the check itself runs in the grader) and across them, time that is not the worker's can pass
    (this thread waiting for the GIL while another grades): what counts is one request's time asleep."""
    clock = Clock(scripted.worker, **BUDGET)
    for _ in range(3):  # three requests each asleep 1.5 s of the 2 s allowed, with the grader's own work between them
        request(scripted, clock, 1.5, 0.0, 0.0)
        scripted.now += 50.0
    assert clock.elapsed == pytest.approx(3 * (FIRST_TICK + 1.5))
    with pytest.raises(WorkerTimeout) as raised:
        request(scripted, clock, 2.1, 0.0, 0.0)
    assert raised.value.kind == BLOCKED


# ---- a real worker: the look-again rule -----------------------------------------------------------------------------


@pytest.mark.parametrize("answered", [True, False], ids=["answered-while-the-grader-was-late", "never-answered"])
def test_a_worker_that_answered_is_not_stopped_by_a_late_grader(grader, monkeypatch, answered):
    """The grader was kept from running while the worker answered: its first wait saw nothing, and its clock has run
    out (a CPU budget of 0). It looks at the socket once more before it stops the worker."""
    grader.mode  # the spawner's mode is settled
    worker, slot = grader._spawner.spawn(device="cpu", limits=grader.course.topics[0].limits, hide=grader._hide, lifetime_cpu_s=30)
    real = select.select
    late = [True]

    def select_late(read, write, error, timeout):
        if read and late[0]:
            late[0] = not answered  # an answer is seen on the second look; else never
            real(read, [], [], 30)  # the answer is there, but this wait is reported empty
            return [], [], []
        return real(read, write, error, timeout)

    monkeypatch.setattr(workers, "select", SimpleNamespace(select=select_late))
    load = {"op": "load", "module": "probe", "filename": "<probe>", "source": ""}
    try:
        if answered:
            reply, _ = worker.request(load, [], clock=Clock(worker, cpu_s=0.0, wall_s=30))
            assert reply["ok"] and not worker.dead
        else:
            with pytest.raises(WorkerTimeout) as raised:
                worker.request(load, [], clock=Clock(worker, cpu_s=0.0, wall_s=30))
            assert raised.value.kind == CPU and worker.dead
    finally:
        worker.close()
        grader._spawner.release(slot)
