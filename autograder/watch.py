"""``grade watch``: one warm grader that regrades a topic each time its file is saved and shows the report again, so
that a student's edit-and-grade loop costs the grading, not the start-up (importing torch, starting the fork server).

Files are compared by content, polled a few times a second: no file-system notification library, the same on Linux,
macOS and Windows, and an editor that saves by rename or touches a file without changing it does the right thing.
"""

from __future__ import annotations

import hashlib
import time
from datetime import datetime
from pathlib import Path
from typing import Any, Sequence

from .course.config import Course, load_course, locate_course
from .course.submission import SUFFIXES, Submission
from .engine.results import Report
from .reports.renderers import text
from .run import default_path

__all__ = ["main", "Watcher"]

POLL_S = 0.2


class Watcher:
    """The folder's files and the last report; ``changed()`` says which topics to grade again."""

    def __init__(self, *, folder: Path, course: Course, topics: Sequence[str]):
        self.folder, self.course = folder, course
        self.topics = list(topics) or [t.id for t in course.topics]
        self.seen = self._contents()
        self.results: dict[str, Any] = {}  # topic id -> its latest TopicResult

    def _contents(self) -> dict[str, str]:
        """File name -> digest of its bytes: the topic files and the modules beside them (a topic may import them)."""
        found = {}
        for file in sorted(self.folder.iterdir()) if self.folder.is_dir() else [self.folder]:
            if file.suffix in SUFFIXES and file.is_file():
                try:
                    found[file.name] = hashlib.sha256(file.read_bytes()).hexdigest()
                except OSError:  # saved by rename, mid-save: seen on the next poll
                    continue
        return found

    def changed(self) -> list[str]:
        """The topics whose files (or whose folder's other modules) changed since the last call, in course order."""
        now = self._contents()
        names = {n for n in now.keys() | self.seen.keys() if now.get(n) != self.seen.get(n)}
        self.seen = now
        stems = {Path(n).stem for n in names}
        if stems - set(self.topics):  # a helper module changed: any topic may import it
            return [t for t in self.topics if any(f"{t}{s}" in now for s in SUFFIXES)]
        return [t for t in self.topics if t in stems]

    def grade(self, grader: Any, topics: Sequence[str], *, public_only: bool) -> Report:
        """Grade ``topics`` again; the report holds every topic graded so far, in course order."""
        submission = Submission.from_path(self.folder, self.course)
        report = grader.grade(submission, topics=[t for t in topics if t in submission.sources], public_only=public_only)
        self.results.update({t.id: t for t in report.topics})
        report.topics = [self.results[t] for t in self.topics if t in self.results]
        return report


def main(*, path: Path | None, topics: Sequence[str], course: Path | None, sandbox: str, device: str, public_only: bool, log: bool) -> int:
    """Grade, then grade again on every save until interrupted. On a terminal the screen is redrawn with every topic's
    latest result; with ``log`` (or output that is not a terminal) each save adds the regraded topics' report."""
    from .engine.grading import Grader, resolve_devices

    course_obj = load_course(locate_course(course, path or Path.cwd()))
    folder = path if path is not None else default_path(Path.cwd(), course_obj)
    for topic in topics:
        course_obj.topic(topic)
    watcher = Watcher(folder=folder, course=course_obj, topics=topics)
    out = text.console()
    redraw = out.is_terminal and not log
    try:
        with Grader(course=course_obj, sandbox=sandbox, devices=resolve_devices(device)) as grader:
            todo = watcher.topics
            while True:
                start = time.perf_counter()
                report = watcher.grade(grader, todo, public_only=public_only)
                if redraw:
                    out.clear()
                else:
                    report.topics = [t for t in report.topics if t.id in todo]
                for piece in text.pieces(report, out.width):
                    out.print(piece)
                done = f"{', '.join(todo)} graded in {time.perf_counter() - start:.2f} s at {datetime.now():%H:%M:%S}"
                out.print(text.wrap(f"{done}; watching {folder} for changes (Ctrl-C to stop)", out.width, hang=2), style="dim", markup=False, highlight=False)
                while not (todo := watcher.changed()):
                    time.sleep(POLL_S)
    except KeyboardInterrupt:
        out.print("stopped watching", style="dim", markup=False, highlight=False)
    return 0
