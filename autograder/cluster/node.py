"""What a Dask worker runs for ``grade batch --cluster``: a worker plugin that holds one long-lived Grader, and the
task that grades one submission with it.

The plugin unpacks the course into a folder of its own, checks that this node would grade as the batch does (the
same versions, the same course, the same secret, every device asked for, the sandbox in force), and starts the Grader
with its fork server. Only then does the worker offer the ``autograder`` resource that every grading task asks for,
so a node that cannot grade (or not in the sandbox asked for) takes no work, and a worker its nanny restarts takes
work again once its plugin is set up anew. Student code runs in the Grader's sandboxed workers, never in the Dask
worker's process. Every refusal is one line in the worker's log and in the node's state (``node_state``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import shutil
import sys
import tempfile
from contextlib import suppress
from importlib import metadata
from pathlib import Path
from typing import Any

from distributed import WorkerPlugin, get_worker

from .. import __version__
from ..course.config import load_course
from ..entry import Content, Graded, course_digest, for_credit, grade_content
from ..errors import UsageError
from .course_files import FOLDERS, unpack

__all__ = ["GraderPlugin", "NodeChanged", "grade_on_node", "node_state", "versions", "PLUGIN", "RESOURCE"]

PLUGIN = "autograder"
RESOURCE = "autograder"  # offered, one per thread, by a worker whose Grader is up; every grading task takes one

log = logging.getLogger("autograder.cluster")


def versions() -> dict[str, str]:
    """What a grade depends on besides the course and the secret: every node must match the batch's."""
    return {"python": ".".join(map(str, sys.version_info[:2])), "autograder": __version__, **{name: metadata.version(name) for name in ("torch", "numpy")}}


class NodeChanged(Exception):
    """The worker no longer holds this batch's Grader (another batch took it over, or it is shutting down)."""


class GraderPlugin(WorkerPlugin):
    """One batch's Grader on one Dask worker. ``batch`` names the batch (its settings and course); ``secret`` is
    the course secret, kept out of repr, logs and task arguments."""

    def __init__(self, *, batch: str, files: tuple[tuple[str, bytes], ...], course_yaml: str, secret: bytes | None, sandbox: str, devices: list[str], allow_process: bool, topics: list[str], course_digest: str, versions: dict[str, str]):
        self.batch, self.files, self.course_yaml, self.secret = batch, files, course_yaml, secret
        self.sandbox, self.devices, self.allow_process, self.topics = sandbox, devices, allow_process, topics
        self.course_digest, self.versions = course_digest, versions
        self.grader: Any = None
        self.course: Any = None
        self.refusal: str | None = None
        self._folder: Path | None = None

    def __repr__(self) -> str:
        return f"<GraderPlugin batch={self.batch}>"

    async def setup(self, worker: Any) -> None:
        try:
            await asyncio.to_thread(self._start, Path(worker.local_directory))
        except Exception as exc:  # noqa: BLE001 - whatever keeps this node from grading as the batch does refuses it work
            self.refusal = " ".join(str(exc).split()) or type(exc).__name__
            log.error("autograder: this worker refuses to grade batch %s: %s", self.batch, self.refusal)
            return
        await worker.set_resources(**{RESOURCE: worker.state.nthreads})

    async def teardown(self, worker: Any) -> None:
        with suppress(Exception):  # a closing worker may no longer reach its scheduler
            await worker.set_resources(**{RESOURCE: 0})
        await asyncio.to_thread(self._stop)

    def _start(self, scratch: Path) -> None:
        try:
            self._set_up(scratch)
        except BaseException:
            self._stop()
            raise

    def _set_up(self, scratch: Path) -> None:
        from ..engine.grading import Grader, resolve_devices

        here = versions()
        if here != self.versions:
            differ = ", ".join(f"{k} {here.get(k)} (the batch: {v})" for k, v in self.versions.items() if here.get(k) != v)
            raise UsageError(f"this node runs {differ}: install the batch's versions")
        _forget_course_modules()
        self._folder = Path(tempfile.mkdtemp(prefix="autograder-course-"))
        unpack(self.files, self._folder)
        course = dataclasses.replace(load_course(self._folder / self.course_yaml), given_secret=self.secret)
        if self.secret is None and course.secret() is not None:  # the batch's secret, or its absence, is the one graded with
            raise UsageError(f"this node has a course secret (${course.secret_env}) and the batch has none: unset it, or give the batch the same one")
        if course_digest(course=course, topics=self.topics) != self.course_digest:
            raise UsageError("the course unpacked here differs from the batch's")
        if "cuda" in self.devices:
            resolve_devices("cuda")  # refuses without a GPU
        # The worker's own folder (spilled data, logs) and the unpacked course are never shown to a sandboxed worker.
        grader = Grader(course=course, sandbox=self.sandbox, devices=self.devices, hide=[scratch, self._folder])
        try:
            for_credit(grader, allow_process=self.allow_process)
            for topic in self.topics:
                grader.checks(topic)  # imports the course's modules now: a broken course refuses here, not per task
        except BaseException:
            grader.close()
            raise
        self.grader, self.course = grader, course  # ready

    def _stop(self) -> None:
        grader, self.grader = self.grader, None
        if grader is not None:
            grader.close()
        if self._folder is not None:
            _forget_course_modules()
            while str(self._folder) in sys.path:
                sys.path.remove(str(self._folder))
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None


def _forget_course_modules() -> None:
    """Drop every module of the course's packages (checks.public.<topic>, solutions.<topic>, ...): each batch's course
    has modules of the same names, from a folder of its own, and a module cached from another folder (an earlier
    batch's, or a course this process imported before) would be the wrong one."""
    for name in [n for n in sys.modules if n.split(".")[0] in FOLDERS]:
        del sys.modules[name]


def grade_on_node(content: Content, topics: list[str], batch: str) -> Graded:
    """The task: grade one submission with this worker's Grader for ``batch``."""
    plugin = get_worker().plugins.get(PLUGIN)
    if not isinstance(plugin, GraderPlugin) or plugin.batch != batch or plugin.grader is None:
        raise NodeChanged(f"this worker no longer grades batch {batch} (another batch took it over, or it is closing)")
    return grade_content(grader=plugin.grader, content=content, course=plugin.course, topics=topics)


def node_state(batch: str, dask_worker: Any) -> str:
    """``ready``, ``starting``, or why this worker refuses to grade ``batch`` (run on every worker by the client)."""
    plugin = dask_worker.plugins.get(PLUGIN)
    if not isinstance(plugin, GraderPlugin) or plugin.batch != batch:
        return "starting"
    return f"refuses: {plugin.refusal}" if plugin.refusal else "ready" if plugin.grader is not None else "starting"
