"""What a Dask worker runs for a batch: the course and its secret reach it in the worker plugin, and nowhere else (no
task, no log line, no dashboard page); the plugin leaves the scheduler and the workers when the batch ends; the course
travels as bytes and is unpacked only inside the folder it is given."""

from __future__ import annotations

import dataclasses
import pickle
import re
import sys
import urllib.request
from pathlib import Path
from urllib.parse import urljoin

import pytest

from autograder.cluster.client import Address, on_cluster
from autograder.cluster.course_files import pack, unpack
from autograder.cluster.node import PLUGIN
from autograder.course.config import load_course
from autograder.entry import Entry, course_digest
from autograder.errors import ConfigError, UsageError

from conftest import ROOT, topic_course

pytestmark = pytest.mark.xdist_group("cluster")

SECRET = b"node-test-secret-7f3c9e21"


def _pages(root: str) -> dict[str, str]:
    """Every page of the dashboard's info tree reachable from its start, with the status page and the JSON ones."""
    todo = [urljoin(root, p) for p in ("status", "info/main/workers.html", "info/main/logs.html", "json/identity.json", "json/counts.json", "metrics")]
    seen: dict[str, str] = {}
    while todo and len(seen) < 200:
        url = todo.pop()
        if url in seen:
            continue
        try:
            with urllib.request.urlopen(url, timeout=30) as response:
                seen[url] = response.read().decode(errors="replace")
        except OSError as exc:  # a page the scheduler does not serve (the dashboard's optional parts)
            seen[url] = f"(unavailable: {exc})"
            continue
        todo += [urljoin(url, link) for link in re.findall(r'href="([^"#]+)"', seen[url]) if "/info/" in urljoin(url, link)]
    return seen


def test_the_secret_reaches_the_workers_only_in_the_plugin_and_leaves_with_it(dask_cluster, tmp_path):
    client = dask_cluster["client"]
    (tmp_path / "course").mkdir()
    course = dataclasses.replace(load_course(topic_course(tmp_path / "course", "information")), given_secret=SECRET)
    for name in ("alice", "bob", "carol", "dan"):
        (tmp_path / "submissions" / name).mkdir(parents=True)
        (tmp_path / "submissions" / name / "information.py").write_text((ROOT / "solutions" / "information.py").read_text())
    todo = [Entry(p.name, p) for p in sorted((tmp_path / "submissions").iterdir())]
    with on_cluster(Address(dask_cluster["address"], None), course=course, sandbox="auto", devices=["cpu"], allow_process=False, topics=["information"], course_digest=course_digest(course=course, topics=["information"])) as cluster:
        graded = cluster.graded(todo)
        first = next(graded)  # the others are in flight: their tasks are on the scheduler now
        tasks = client.run_on_scheduler(lambda dask_scheduler: [pickle.dumps(ts.run_spec, protocol=5) for ts in dask_scheduler.tasks.values()])
        held = client.run_on_scheduler(lambda dask_scheduler: dict(dask_scheduler.worker_plugins))
        link = client.dashboard_link
        pages = _pages(link.rsplit("/", 1)[0] + "/")
        rest = list(graded)
    logs = repr(client.get_scheduler_logs(n=10_000)) + repr(client.get_worker_logs(n=10_000))
    assert [g.outcome.points for g in (first, *rest)] == [{"information": 29}] * 4
    assert SECRET in held[PLUGIN]  # how it reaches the workers (and a control: the search below can find it)
    assert tasks and all(SECRET not in t for t in tasks)
    assert SECRET.decode() not in logs and "Registering Worker plugin autograder" in logs
    assert sum(not text.startswith("(unavailable") for text in pages.values()) >= 4
    assert not [url for url, text in pages.items() if SECRET.decode() in text]
    assert PLUGIN not in client.run_on_scheduler(lambda dask_scheduler: list(dask_scheduler.worker_plugins))
    assert all(PLUGIN not in names for names in client.run(lambda dask_worker: list(dask_worker.plugins)).values())


def test_the_course_travels_as_bytes_and_unpacks_to_the_same_course(tmp_path):
    course = load_course(ROOT / "course.yaml")
    files = pack(course)
    names = [name for name, _ in files]
    assert "course.yaml" in names and "checks/hidden/information.py" in names and "solutions/gan.py" in names
    assert not [n for n in names if "__pycache__" in n or "/." in n or n.startswith(".")]
    unpack(files, tmp_path)
    copy = load_course(tmp_path / "course.yaml")
    topics = [t.id for t in course.topics]
    assert course_digest(course=copy, topics=topics) == course_digest(course=course, topics=topics)


@pytest.mark.parametrize("name", ["../outside.py", "/etc/passwd", "checks/../../outside.py", ""])
def test_a_course_file_that_would_leave_the_folder_is_refused(tmp_path: Path, name: str):
    with pytest.raises(ConfigError, match="points outside the course"):
        unpack(((name, b"x = 1\n"),), tmp_path / "course")
    assert not (tmp_path / "outside.py").exists()


def test_a_worker_grades_one_batch_after_another_each_with_its_own_course(tmp_path):
    """A long-lived worker's plugin is replaced batch after batch: each imports the modules of its own copy, whatever
    this process imported before (here: the repository's course), and leaves none behind, also when it refuses."""
    from autograder.cluster.node import GraderPlugin, versions
    from autograder.engine.grading import Grader

    course = load_course(ROOT / "course.yaml")
    with Grader(course=course, sandbox="process", devices=["cpu"]) as before:
        before.checks("information")  # checks.public.information, from the repository, cached in this process
    settings = {"files": pack(course), "course_yaml": "course.yaml", "secret": SECRET, "sandbox": "auto", "devices": ["cpu"], "allow_process": True, "topics": ["information"], "course_digest": course_digest(course=course, topics=["information"]), "versions": versions()}
    places = []
    for batch in ("first", "second"):
        plugin = GraderPlugin(batch=batch, **settings)
        plugin._start(tmp_path)
        try:
            places.append(Path(sys.modules["checks.public.information"].__file__).parents[2])
            assert places[-1] == plugin._folder
        finally:
            plugin._stop()
        assert "checks.public.information" not in sys.modules and not places[-1].exists() and str(places[-1]) not in sys.path
    assert places[0] != places[1]
    refusing = GraderPlugin(batch="third", **{**settings, "course_digest": "another course"})
    with pytest.raises(UsageError, match="the course unpacked here differs"):
        refusing._start(tmp_path)
    assert refusing.grader is None and "checks.public.information" not in sys.modules
    assert not [p for p in sys.path if "autograder-course-" in p]
    with Grader(course=course, sandbox="process", devices=["cpu"]) as after:  # and this process's own course loads again
        assert after.checks("information")
