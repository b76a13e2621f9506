"""``grade batch --cluster ADDRESS``: grading on a Dask cluster, seen from the batch.

``ADDRESS`` is a running scheduler's (``tcp://host:8786``, or ``tls://`` with the certificates in Dask's config) or
``local:N``: a LocalCluster of N one-thread worker processes on this machine, the same code path. The batch registers
a worker plugin (``node.GraderPlugin``) that carries the course's files and its secret to every worker, present and
future, and removes it when the batch ends; it then submits each submission's content (its bytes, never a path) as a
task, keeping about two per worker thread in flight so that an interrupted batch loses little and memory stays flat.
A task lost with its worker is run again elsewhere by the scheduler; one lost too often, or one whose worker no longer
grades this batch, is a failure row that the next run grades again. When no worker can grade for a while, the batch
stops and keeps what it has.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import re
import time
from concurrent.futures import CancelledError
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any, Iterator, Sequence

from ..course.config import Course
from ..entry import Entry, Graded, failed, read
from ..errors import ClusterLost, UsageError

__all__ = ["DEVICES", "Address", "parse", "on_cluster"]

# --device on a cluster: "auto" would let nodes with and without a GPU grade the same class differently.
DEVICES = {"cpu": ["cpu"], "cuda": ["cuda"], "all": ["cpu", "cuda"]}
WAIT_FOR_WORKERS_S = 120  # a scheduler without a worker that can grade, at the start or mid-batch
IN_FLIGHT_PER_THREAD = 2
_LOCAL = re.compile(r"local:(\d+)")
_SCHEDULER = re.compile(r"[a-z][a-z0-9+.-]*://\S+")


@dataclass(frozen=True)
class Address:
    scheduler: str | None  # a running scheduler's address
    local: int | None  # or this many worker processes on this machine

    def __str__(self) -> str:
        return self.scheduler or f"local:{self.local}"


def parse(text: str, *, jobs: int | None, device: str) -> Address:
    """``--cluster``, checked with the options it changes, before anything is graded."""
    if importlib.util.find_spec("distributed") is None:
        raise UsageError(f"--cluster {text}: Dask is not installed here; install the cluster extra (pip install -e \".[cluster]\")")
    if jobs is not None:
        raise UsageError(f"--jobs {jobs}: on a cluster each worker grades as many submissions at a time as it has threads (dask worker --nthreads); leave --jobs out")
    if device not in DEVICES:
        raise UsageError(f"--device {device}: a cluster's nodes may differ, and every one must grade alike; choose --device {', '.join(DEVICES)}")
    local = _LOCAL.fullmatch(text)
    if local:
        if int(local.group(1)) < 1:
            raise UsageError(f"--cluster {text}: expected at least one worker process (local:1)")
        return Address(None, int(local.group(1)))
    if not _SCHEDULER.fullmatch(text):
        raise UsageError(f"--cluster {text!r}: expected a scheduler's address (tcp://host:8786) or local:N (N worker processes on this machine)")
    return Address(text, None)


@contextmanager
def _connected(address: Address) -> Iterator[Any]:
    """A client of the scheduler at ``address``, or of a LocalCluster started (and stopped) here."""
    from distributed import Client, LocalCluster

    if address.local is None:
        try:
            client = Client(address.scheduler)  # waits distributed.comm.timeouts.connect (30 s unless configured)
        except (OSError, TimeoutError) as exc:
            raise UsageError(f"--cluster {address}: cannot reach the scheduler ({exc}); start one with `dask scheduler`") from None
        with client:
            yield client
        return
    dashboard = ":0" if importlib.util.find_spec("bokeh") else None  # a free port: several batches may run here
    # One thread per process (local:2 grades two at a time, as --jobs 2 does); no memory limit: the sandbox bounds
    # each submission's memory, and the worker's own is the grader's. Only errors are logged: a live bar is drawn.
    with LocalCluster(n_workers=address.local, threads_per_worker=1, processes=True, memory_limit=0, dashboard_address=dashboard, silence_logs=logging.ERROR) as cluster, Client(cluster) as client:
        yield client


def _dashboard(client: Any) -> str | None:
    try:
        return client.dashboard_link if "dashboard" in client.scheduler_info()["services"] else None
    except Exception:  # noqa: BLE001 - a link is a courtesy
        return None


def _states(client: Any, batch: str) -> dict[str, str]:
    from .node import node_state

    return client.run(node_state, batch)


class _Cluster:
    """Grading on a cluster's workers: ``graded(todo)`` yields each entry's grading as it is done."""

    def __init__(self, *, client: Any, address: Address, batch: str, topics: Sequence[str], notes: list[str]):
        self.client, self.address, self.batch, self.topics, self.notes = client, address, batch, list(topics), notes

    def graded(self, todo: Sequence[Entry]) -> Iterator[Graded]:
        try:
            yield from self._graded(todo)
        except CancelledError:  # Dask cancels every future when the client loses its scheduler
            raise ClusterLost(f"--cluster {self.address}: the scheduler went away") from None
        except OSError as exc:  # the connection to the scheduler (CommClosedError is one)
            raise ClusterLost(f"--cluster {self.address}: the scheduler cannot be reached ({type(exc).__name__}: {' '.join(str(exc).split())})") from None

    def _graded(self, todo: Sequence[Entry]) -> Iterator[Graded]:
        from distributed import wait

        from .node import RESOURCE, grade_on_node

        waiting = iter(todo)
        pending: dict[Any, tuple[Entry, str]] = {}  # future -> the entry and the digest of the bytes sent
        stalled_since: float | None = None
        try:
            while True:
                window = IN_FLIGHT_PER_THREAD * max(sum(self.client.nthreads().values()), 1)
                for entry in waiting:
                    content = read(entry)
                    if isinstance(content, Graded):
                        yield content  # it cannot be read: its row, without a trip to the cluster
                        continue
                    key = f"grade-{hashlib.sha256(entry.name.encode()).hexdigest()[:12]}-{content.digest[:12]}"
                    pending[self.client.submit(grade_on_node, content, self.topics, self.batch, key=key, resources={RESOURCE: 1}, pure=False)] = (entry, content.digest)
                    if len(pending) >= window:
                        break
                if not pending:
                    return
                try:
                    done = wait(list(pending), timeout=10, return_when="FIRST_COMPLETED").done
                except TimeoutError:
                    done = set()
                if done:
                    stalled_since = None
                for future in done:
                    yield self._result(future, *pending.pop(future))
                if not done:
                    stalled_since = self._check_workers(stalled_since)
        finally:  # interrupted, or the results cannot be written: nothing more is graded
            with suppress(Exception):
                self.client.cancel(list(pending))

    def _result(self, future: Any, entry: Entry, digest: str) -> Graded:
        if future.status == "finished":
            return future.result()
        if future.status == "cancelled" or self.client.status != "running":
            raise ClusterLost(f"--cluster {self.address}: the scheduler went away")
        exc = future.exception()
        why = f"the cluster could not grade it ({type(exc).__name__}: {' '.join(str(exc).split())})"
        return failed(entry.name, entry.path.name, f"{why}; run the same command again to grade it", digest=digest, retry=True)

    def _check_workers(self, stalled_since: float | None) -> float | None:
        """Nothing finished for a while: fine while some worker can grade; after WAIT_FOR_WORKERS_S with none, stop."""
        try:
            states = _states(self.client, self.batch)
        except Exception as exc:  # noqa: BLE001 - the scheduler itself is gone
            raise ClusterLost(f"--cluster {self.address}: the scheduler cannot be reached ({type(exc).__name__}: {exc})") from None
        if any(s in ("ready", "starting") for s in states.values()):
            return None
        now = time.monotonic()
        if stalled_since is None:
            return now
        if now - stalled_since > WAIT_FOR_WORKERS_S:
            raise ClusterLost(f"--cluster {self.address}: no worker has been able to grade for {WAIT_FOR_WORKERS_S} s ({_said(states)})")
        return stalled_since


def _said(states: dict[str, str]) -> str:
    return "; ".join(f"{worker}: {state}" for worker, state in sorted(states.items())) or "no worker"


@contextmanager
def on_cluster(address: Address, *, course: Course, sandbox: str, devices: list[str], allow_process: bool, topics: Sequence[str], course_digest: str) -> Iterator[_Cluster]:
    """Connect (or start the local cluster), set up every worker's Grader, and remove it when the batch ends."""
    from .course_files import pack
    from .node import PLUGIN, GraderPlugin, versions

    graded_topics = list(topics) or [t.id for t in course.topics]
    files = pack(course)
    secret = course.secret()
    plugin = GraderPlugin(batch="", files=files, course_yaml=course.path.name, secret=secret, sandbox=sandbox, devices=devices, allow_process=allow_process, topics=graded_topics, course_digest=course_digest, versions=versions())
    # The batch's name: its settings and course, and a salted hash of the secret (never the secret, nor its plain hash).
    h = hashlib.sha256(repr((sandbox, devices, allow_process, graded_topics, course_digest, plugin.versions)).encode())
    h.update(hashlib.pbkdf2_hmac("sha256", secret or b"", b"autograder cluster batch", 1000))
    plugin.batch = h.hexdigest()[:16]
    with _connected(address) as client:
        try:
            client.wait_for_workers(1, timeout=WAIT_FOR_WORKERS_S)
        except TimeoutError:
            raise UsageError(f"--cluster {address}: no worker joined in {WAIT_FOR_WORKERS_S} s; start some with `dask worker {address}`") from None
        client.register_plugin(plugin, name=PLUGIN)  # returns once every present worker has set its Grader up (or refused)
        try:
            states = _states(client, plugin.batch)
            ready = sorted(w for w, s in states.items() if s == "ready")
            if not ready:
                raise UsageError(f"--cluster {address}: no worker can grade ({_said(states)})")
            threads = client.nthreads()
            notes = [f"cluster {address}: {len(ready)} of {len(states)} workers grading, {sum(threads[w] for w in ready)} at a time"]
            notes += [f"  {worker} {state}" for worker, state in sorted(states.items()) if state != "ready"]
            link = _dashboard(client)
            notes += [f"dashboard: {link}"] if link else []
            yield _Cluster(client=client, address=address, batch=plugin.batch, topics=topics, notes=notes)
        finally:  # the secret leaves the scheduler with the plugin, and every worker's Grader stops
            with suppress(Exception):
                client.unregister_worker_plugin(PLUGIN)
