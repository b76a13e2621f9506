"""Shared fixtures: the course, and graders kept for the whole session (one fork server each)."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.course.config import Course, Limits, load_course
from autograder.course.submission import Submission
from autograder.engine.grading import Grader
from autograder.engine.results import TopicResult
from autograder.sandbox import forkserver
from autograder.sandbox.confinement import strict_available

ROOT = Path(__file__).resolve().parents[1]

# Hidden inputs are keyed by the secret: fixing it makes every run of the suite draw the same inputs.
os.environ["AUTOGRADER_SECRET"] = "test-suite-secret"

STRICT_OK, STRICT_WHY = strict_available()

# Strict mode without root, exercised from a root test run: the fork server is started as nobody, in a mount namespace
# where the interpreter's folders and the course are reachable for it (they may lie under /root, closed to nobody).
# Each closed folder on the way (pyenv under /root) is covered by an empty tmpfs with the needed folders bound back.
AS_NOBODY = f"""
import os, sys
from autograder.sandbox import confinement as c
c._check(c._libc().unshare(c.CLONE_NEWNS), "unshare")
c._mount(b"none", "/", None, c.MS_REC | c.MS_PRIVATE, None)
needed = {{os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, *sys.path, {str(ROOT)!r}) if p and os.path.isdir(p)}}
needed = sorted(p for p in needed if not any(p.startswith(q + "/") for q in needed))
closed = set()
for path in needed:
    parts = path.split("/")
    closed |= {{"/".join(parts[:n]) for n in range(2, len(parts)) if not os.stat("/".join(parts[:n])).st_mode & 0o001}}
closed = sorted(p for p in closed if not any(p.startswith(q + "/") for q in closed))
for ancestor in closed:
    held = [(p, os.open(p, os.O_PATH)) for p in needed if p.startswith(ancestor + "/")]
    c._mount(b"tmpfs", ancestor, b"tmpfs", c.MS_NOSUID | c.MS_NODEV, b"size=64k,mode=0755")
    for path, fd in held:
        os.makedirs(path, mode=0o755, exist_ok=True)
        c._mount(f"/proc/self/fd/{{fd}}".encode(), path, None, c.MS_BIND | c.MS_REC, None)
os.setgroups([])
os.setgid(65534)
os.setuid(65534)
os.execv(sys.executable, [sys.executable, *sys.argv[1:]])
"""


def as_nobody(argv: list[str]) -> list[str]:
    """``argv`` (a Python command line) run as nobody."""
    return [argv[0], "-c", AS_NOBODY, *argv[1:]]


def _rootless_available() -> tuple[bool, str]:
    if os.geteuid() != 0:
        return False, "the strict mode of this run is already the one without root" if STRICT_OK else STRICT_WHY
    probe = "import sys; from autograder.sandbox.confinement import ROOTLESS, strict_available; ok, why = strict_available(); print(why); sys.exit(0 if why == ROOTLESS else 1)"
    try:
        done = subprocess.run(as_nobody([sys.executable, "-c", probe]), capture_output=True, text=True, timeout=60, cwd="/")
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, f"cannot start Python as nobody: {exc}"
    why = (done.stdout.strip() or done.stderr.strip().splitlines()[-1:] or ["no output"])[-1] if done.returncode else ""
    return done.returncode == 0, f"strict mode without root is not available to nobody here: {why}"


ROOTLESS_OK, ROOTLESS_WHY = _rootless_available()
MODES = [
    pytest.param("strict", marks=pytest.mark.skipif(not STRICT_OK, reason=STRICT_WHY)),
    pytest.param("strict-rootless", marks=pytest.mark.skipif(not ROOTLESS_OK, reason=ROOTLESS_WHY)),
    "process",
]


def with_limits(course: Course, **limits: float) -> Course:
    """The course with tighter limits for every topic (adversarial tests should not spend 10 s of CPU per hang)."""
    topics = tuple(dataclasses.replace(t, limits=Limits(**{**dataclasses.asdict(t.limits), **limits})) for t in course.topics)
    return dataclasses.replace(course, topics=topics)


def topic_course(folder: Path, topic: str, **limits: float) -> Path:
    """A course.yaml in ``folder`` holding ``topic`` alone with these limits, over the repository's course files."""
    import yaml

    data = yaml.safe_load((ROOT / "course.yaml").read_text())
    data["topics"] = [t for t in data["topics"] if t["id"] == topic]
    data["limits"] = {**data["limits"], **limits}
    for name in ("exercises", "solutions", "checks"):
        (folder / name).symlink_to(ROOT / name)
    (folder / "course.yaml").write_text(yaml.safe_dump(data, allow_unicode=True))
    return folder / "course.yaml"


@pytest.fixture(scope="session")
def course() -> Course:
    return load_course(ROOT / "course.yaml")


@pytest.fixture(scope="session")
def grader(course: Course):
    """The strongest sandbox this machine offers, on the CPU."""
    with Grader(course=course, sandbox="auto", devices=["cpu"]) as g:
        yield g


def make_grader(mode: str, course: Course) -> Grader:
    """A grader in one of MODES; strict-rootless: the strict sandbox built by a fork server that is not root."""
    if mode == "strict-rootless":
        with pytest.MonkeyPatch.context() as patch:  # only while the fork server starts
            real = forkserver.command
            patch.setattr(forkserver, "command", lambda fd, paths: as_nobody(real(fd, paths)))
            return Grader(course=course, sandbox="strict", devices=["cpu"])
    return Grader(course=course, sandbox=mode, devices=["cpu"])


@pytest.fixture(scope="session", params=MODES)
def tight_grader(request, course: Course):
    """A grader per sandbox mode with short limits: per check 2 s of CPU time and 2 s asleep; 512 MiB per worker."""
    with make_grader(request.param, with_limits(course, cpu_s=2.0, wall_s=2.0, memory_mb=512)) as g:
        yield g


def grade_source(grader: Grader, source: str, topic: str = "convolution", **kwargs) -> TopicResult:
    """Grade one module's text as the submission for ``topic``."""
    report = grader.grade(Submission.from_texts("submission", {topic: source}), topics=[topic], **kwargs)
    return report.topics[0]


def statuses(result: TopicResult) -> dict[str, str]:
    return {c.id: c.status for c in result.checks}


def wrapped(fn: str, result: str) -> str:
    """Source to append to a reference: ``fn`` now returns ``result``, an expression of the reference's answer ``y``
    (``y.tolist()``: the same numbers as another kind of object)."""
    return f"\n_reference_{fn} = {fn}\n\n\ndef {fn}(*args, **kwargs):\n    y = _reference_{fn}(*args, **kwargs)\n    return {result}\n"


WORKER_SECRET = "a-secret-of-the-workers-own"  # dask_cluster's worker B has it: a batch without a secret must not grade there


def _started(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=log.open("wb"), start_new_session=True)


@pytest.fixture(scope="session")
def dask_cluster(tmp_path_factory):
    """A real Dask cluster started with the plain commands the README gives: `dask scheduler` and two one-thread
    `dask worker`s (each under a nanny that restarts it). Worker A's environment has no course secret, B's has
    WORKER_SECRET. The cluster tests share one pytest-xdist process (xdist_group "cluster") and so this cluster."""
    import json
    import time

    from distributed import Client

    folder = tmp_path_factory.mktemp("dask")
    bin_ = Path(sys.executable).parent
    env = {k: v for k, v in os.environ.items() if k != "AUTOGRADER_SECRET"}
    file = folder / "scheduler.json"
    processes = [_started([str(bin_ / "dask"), "scheduler", "--port", "0", "--dashboard-address", ":0", "--scheduler-file", str(file)], env, folder / "scheduler.log")]
    deadline = time.monotonic() + 120
    while not file.is_file() and time.monotonic() < deadline:
        time.sleep(0.1)
    address = json.loads(file.read_text())["address"]
    worker = [str(bin_ / "dask"), "worker", address, "--nthreads", "1", "--memory-limit", "0"]
    processes.append(_started([*worker, "--name", "A"], env, folder / "worker-a.log"))
    processes.append(_started([*worker, "--name", "B"], {**env, "AUTOGRADER_SECRET": WORKER_SECRET}, folder / "worker-b.log"))
    try:
        with Client(address, timeout="60s") as client:
            client.wait_for_workers(2, timeout=120)
            yield {"address": address, "client": client, "logs": folder}
    finally:
        for process in processes:
            os.killpg(process.pid, 9)
            process.wait()
