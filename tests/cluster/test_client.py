"""grade batch --cluster on real Dask clusters (no mocks): a LocalCluster (local:N) and one started with `dask scheduler`
and `dask worker`. The class of tests/test_batch.py graded on the cluster gives the gradebook it gets on this machine,
byte for byte, also when a worker is killed while it grades, and when the batch itself is killed and run again; a
worker that cannot grade as the batch does takes no work."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autograder import batch as batch_module
from autograder.cluster.client import parse
from autograder.engine.results import without_timings
from autograder.errors import UsageError

from conftest import ROOT
from test_batch import CLASS, SECRET, _course, grade_class

pytestmark = pytest.mark.xdist_group("cluster")


@pytest.fixture(scope="module")
def local_class(tmp_path_factory) -> dict[str, Path]:
    """tests/test_batch.py's class (every kind of entry, a crash, a hang, unsafe zips) graded on this machine."""
    return grade_class(tmp_path_factory.mktemp("class"))


def cluster_batch(submissions: Path, out: Path, course: Path, cluster: str, *extra: str, secret: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(_command(submissions, out, course, cluster, *extra), capture_output=True, text=True, timeout=600, env=_env(secret), cwd=ROOT)


def _command(submissions: Path, out: Path, course: Path, cluster: str, *extra: str) -> list[str]:
    return [sys.executable, "-m", "autograder", "batch", str(submissions), "--out", str(out), "--course", str(course), "--cluster", cluster, *extra]


def _env(secret: bool) -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "AUTOGRADER_SECRET"} | (SECRET if secret else {})


def _results(results: Path, name: str) -> dict:
    return without_timings(json.loads((results / "submissions" / name / "results.json").read_text()))


def test_a_local_cluster_grades_the_class_as_this_machine_does(local_class, tmp_path):
    done = cluster_batch(local_class["submissions"], tmp_path / "results", local_class["course"], "local:2")
    assert done.returncode == 4, done.stderr  # the same three entries cannot be graded
    assert "cluster local:2: 2 of 2 workers grading, 2 at a time" in done.stderr
    assert "dashboard: http://" in done.stderr  # bokeh is in the cluster extra
    assert (tmp_path / "results" / "gradebook.csv").read_bytes() == (local_class["results"] / "gradebook.csv").read_bytes()
    for name in ("bob", "dan", "hugo", "lee", "zed"):  # every report, not only the row
        assert _results(tmp_path / "results", name) == _results(local_class["results"], name), name
    summary = json.loads((tmp_path / "results" / "summary.json").read_text())
    assert summary == json.loads((local_class["results"] / "summary.json").read_text())
    again = cluster_batch(local_class["submissions"], tmp_path / "results", local_class["course"], "local:1")
    assert f"{len(CLASS) - 3} already graded, 3 to grade (failed last time)" in again.stderr  # the same cache keys as a local batch


def test_a_worker_killed_while_it_grades_loses_nothing(local_class, dask_cluster, tmp_path):
    client = dask_cluster["client"]
    before = client.run(os.getpid)
    process = subprocess.Popen(_command(local_class["submissions"], tmp_path / "results", local_class["course"], dask_cluster["address"]), env=_env(True), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    killed = None
    deadline = time.monotonic() + 300
    while killed is None and process.poll() is None and time.monotonic() < deadline:
        busy = [w for w, n in client.run(lambda dask_worker: len(dask_worker.state.executing)).items() if n]
        if busy and list((tmp_path / "results" / "submissions").glob("*/batch.json")):
            killed = busy[0]
            os.kill(before[killed], signal.SIGKILL)  # the worker process, mid-task; its nanny starts another
        time.sleep(0.05)
    _, stderr = process.communicate(timeout=600)
    assert killed is not None, "the batch ended before a worker could be killed mid-task"
    assert process.returncode == 4, stderr
    assert (tmp_path / "results" / "gradebook.csv").read_bytes() == (local_class["results"] / "gradebook.csv").read_bytes()
    client.wait_for_workers(2, timeout=120)
    assert before[killed] not in client.run(os.getpid).values()


def test_an_interrupted_cluster_batch_resumes_with_what_is_missing(local_class, tmp_path):
    process = subprocess.Popen(_command(local_class["submissions"], tmp_path / "results", local_class["course"], "local:2"), env=_env(True), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 300
    while not list((tmp_path / "results" / "submissions").glob("*/batch.json")) and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)  # the batch, its local cluster, their fork servers and workers
    process.wait()
    records = [json.loads(p.read_text()) for p in (tmp_path / "results" / "submissions").glob("*/batch.json")]
    kept = sum(r["status"] == "graded" for r in records)
    assert 1 <= len(records) < len(CLASS)
    done = cluster_batch(local_class["submissions"], tmp_path / "results", local_class["course"], "local:2")
    assert done.returncode == 4, done.stderr
    assert f"{kept} already graded, {len(CLASS) - kept} to grade" in done.stderr
    assert (tmp_path / "results" / "gradebook.csv").read_bytes() == (local_class["results"] / "gradebook.csv").read_bytes()


def test_a_scheduler_that_goes_away_mid_batch_stops_it_and_keeps_what_is_graded(local_class, tmp_path):
    from conftest import _started

    env = _env(True)
    file = tmp_path / "scheduler.json"
    bin_ = Path(sys.executable).parent
    scheduler = _started([str(bin_ / "dask"), "scheduler", "--port", "0", "--dashboard-address", ":0", "--scheduler-file", str(file)], env, tmp_path / "scheduler.log")
    deadline = time.monotonic() + 120
    while not file.is_file() and time.monotonic() < deadline:
        time.sleep(0.1)
    address = json.loads(file.read_text())["address"]
    worker = _started([str(bin_ / "dask"), "worker", address, "--nthreads", "1", "--memory-limit", "0"], env, tmp_path / "worker.log")
    try:
        process = subprocess.Popen(_command(local_class["submissions"], tmp_path / "results", local_class["course"], address), env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        while not list((tmp_path / "results" / "submissions").glob("*/batch.json")) and process.poll() is None and time.monotonic() < deadline + 300:
            time.sleep(0.05)
        os.killpg(scheduler.pid, signal.SIGKILL)
        _, stderr = process.communicate(timeout=600)
    finally:
        for started in (scheduler, worker):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(started.pid, signal.SIGKILL)
            started.wait()
    kept = sum(json.loads(p.read_text())["status"] == "graded" for p in (tmp_path / "results" / "submissions").glob("*/batch.json"))
    last = stderr.strip().splitlines()[-1]
    assert process.returncode == 2 and last.startswith(f"Error: --cluster {address}: the scheduler") and f"{kept} of {len(CLASS)} graded and kept; run the same command again" in last, stderr[-3000:]
    assert 1 <= kept < len(CLASS)


def test_a_worker_that_would_grade_otherwise_takes_no_work(dask_cluster, tmp_path):
    """Worker B has a course secret in its environment and the batch has none: B refuses, A grades every one."""
    (tmp_path / "submissions").mkdir()
    (tmp_path / "course").mkdir()
    for name in ("alice", "bob", "carol"):
        (tmp_path / "submissions" / name).mkdir()
    for name, source in (("alice", ROOT / "solutions" / "information.py"), ("bob", ROOT / "solutions" / "information.py"), ("carol", ROOT / "exercises" / "information.py")):
        (tmp_path / "submissions" / name / "information.py").write_text(source.read_text())
    course = _course(tmp_path / "course")
    done = cluster_batch(tmp_path / "submissions", tmp_path / "results", course, dask_cluster["address"], secret=False)
    assert done.returncode == 0, done.stderr
    assert "1 of 2 workers grading" in done.stderr
    assert "refuses: this node has a course secret ($AUTOGRADER_SECRET) and the batch has none" in done.stderr
    here = subprocess.run([sys.executable, "-m", "autograder", "batch", str(tmp_path / "submissions"), "--out", str(tmp_path / "here"), "--course", str(course)], capture_output=True, text=True, env=_env(False), cwd=ROOT)
    assert here.returncode == 0, here.stderr
    assert (tmp_path / "results" / "gradebook.csv").read_bytes() == (tmp_path / "here" / "gradebook.csv").read_bytes()
    rows = list(csv.DictReader(io.StringIO((tmp_path / "results" / "gradebook.csv").read_text())))
    assert [(r["submission"], r["total"]) for r in rows] == [("alice", "29"), ("bob", "29"), ("carol", "0")]


def test_a_cluster_whose_workers_would_grade_in_the_process_sandbox_grades_nothing(local_class, tmp_path):
    done = cluster_batch(local_class["submissions"], tmp_path / "results", local_class["course"], "local:1", "--sandbox", "process")
    assert done.returncode == 2, done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert "--cluster local:1: no worker can grade (" in last and "refuses: grade batch grades for credit" in last and "--allow-process-sandbox" in last, last
    assert not (tmp_path / "results" / "submissions").exists() and not (tmp_path / "results" / "gradebook.csv").exists()


@pytest.mark.parametrize(
    "text, jobs, device, error",
    [
        pytest.param("local:0", None, "cpu", "--cluster local:0: expected at least one worker process", id="no-workers"),
        pytest.param("local:two", None, "cpu", "--cluster 'local:two': expected a scheduler's address", id="not-a-number"),
        pytest.param("host:8786", None, "cpu", "--cluster 'host:8786': expected a scheduler's address (tcp://host:8786)", id="no-protocol"),
        pytest.param("local:2", 4, "cpu", "--jobs 4: on a cluster each worker grades as many submissions at a time as it has threads", id="jobs"),
        pytest.param("local:2", None, "auto", "--device auto: a cluster's nodes may differ", id="device-auto"),
    ],
)
def test_a_bad_cluster_option_is_refused_before_anything_is_graded(text: str, jobs: int | None, device: str, error: str):
    with pytest.raises(UsageError, match=error.replace("(", r"\(").replace(")", r"\)")):
        parse(text, jobs=jobs, device=device)


@pytest.mark.parametrize("text, scheduler, local", [("local:3", None, 3), ("tcp://10.0.0.5:8786", "tcp://10.0.0.5:8786", None), ("tls://grader.example.org:8786", "tls://grader.example.org:8786", None)])
def test_a_cluster_address_is_a_scheduler_or_local_workers(text: str, scheduler: str | None, local: int | None):
    address = parse(text, jobs=None, device="cpu")
    assert (address.scheduler, address.local, str(address)) == (scheduler, local, text)


def test_an_unreachable_scheduler_is_one_line(tmp_path):
    (tmp_path / "submissions" / "alice").mkdir(parents=True)
    (tmp_path / "submissions" / "alice" / "information.py").write_text("x = 1\n")
    env = {**_env(True), "DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "2s"}  # Dask's own setting; 30 s by default
    done = subprocess.run(_command(tmp_path / "submissions", tmp_path / "results", ROOT / "course.yaml", "tcp://127.0.0.1:9", "--topic", "information"), capture_output=True, text=True, timeout=600, env=env, cwd=ROOT)
    assert done.returncode == 2 and done.stderr.strip().splitlines()[-1].startswith("Error: --cluster tcp://127.0.0.1:9: cannot reach the scheduler"), done.stderr[-2000:]


def test_without_cluster_dask_is_not_imported(tmp_path):
    (tmp_path / "submissions" / "alice").mkdir(parents=True)
    (tmp_path / "submissions" / "alice" / "information.py").write_text((ROOT / "solutions" / "information.py").read_text())
    code = (
        "import io, sys; from pathlib import Path; from autograder import batch; "
        f"code = batch.main(submissions=Path({str(tmp_path / 'submissions')!r}), out=Path({str(tmp_path / 'results')!r}), topics=['information'], jobs=1, device='cpu', sandbox='auto', course=Path({str(ROOT / 'course.yaml')!r}), stream=io.StringIO()); "
        "print(code, sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed', 'bokeh')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_env(True), cwd=ROOT, timeout=300)
    assert done.stdout.split() == ["0", "[]"], done.stderr[-2000:]


def test_a_submission_the_cluster_could_not_grade_is_a_row_graded_again_next_run(dask_cluster, tmp_path):
    """A task that fails on the cluster (here: sent for a batch its worker does not serve) is no verdict."""
    from distributed import wait

    from autograder.cluster.client import Address, _Cluster
    from autograder.cluster.node import grade_on_node
    from autograder.entry import Content, Entry

    (tmp_path / "alice").mkdir()
    (tmp_path / "alice" / "information.py").write_text("x = 1\n")
    entry = Entry("alice", tmp_path / "alice")
    client = dask_cluster["client"]
    content = Content.read(entry)
    future = client.submit(grade_on_node, content, [], "no-such-batch", pure=False)
    wait([future], timeout=60)
    graded = _Cluster(client=client, address=Address(dask_cluster["address"], None), batch="no-such-batch", topics=[], notes=[])._result(future, entry, content.digest)
    assert (graded.outcome.status, graded.retry, graded.rendered, graded.digest) == ("failed", True, {}, content.digest)  # its row shows this error
    assert graded.outcome.error == "alice: the cluster could not grade it (NodeChanged: this worker no longer grades batch no-such-batch (another batch took it over, or it is closing)); run the same command again to grade it"
    assert batch_module.stale({"status": graded.outcome.status, "retry": graded.retry}, {}) == "failed last time"
