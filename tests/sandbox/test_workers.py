"""Starting workers: the fork server, and the plain-subprocess path used where there is no fork server."""

from __future__ import annotations

import os

import pytest

from autograder.engine.grading import Grader
from autograder.engine.results import FAILED, PASSED
from autograder.sandbox import forkserver
from autograder.sandbox.confinement import ROOTLESS

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
    """The path macOS and Windows take: a fresh interpreter per worker, connecting back over loopback."""
    with Grader(course=with_limits(course, wall_s=3.0), sandbox="process", devices=["cpu"], use_forkserver=False) as grader:
        yield grader


def test_subprocess_workers_grade_the_reference(subprocess_grader):
    source = (ROOT / "solutions" / "convolution.py").read_text()
    result = grade_source(subprocess_grader, source, public_only=True)
    assert {c.status for c in result.checks} == {PASSED}


def test_subprocess_workers_are_stopped_at_the_time_limit(subprocess_grader):
    source = (ROOT / "solutions" / "convolution.py").read_text() + "\ndef conv1d(f, h, mode='full'):\n    while True:\n        pass\n"
    result = grade_source(subprocess_grader, source, public_only=True)
    by_id = {c.id: c for c in result.checks}
    assert by_id["conv1d_full"].status == FAILED
    assert "did not finish within this check's 3 s limit and was stopped" in by_id["conv1d_full"].message
    assert by_id["fft_conv1d"].status == PASSED  # a new worker took over


def test_strict_is_refused_without_a_fork_server(course):
    from autograder.errors import SandboxUnavailable

    with pytest.raises(SandboxUnavailable, match="--sandbox strict: needs Linux namespaces"):
        Grader(course=course, sandbox="strict", use_forkserver=False)
