"""One submission of a class, as bytes, graded into its reports: the unit of work of ``grade batch``.

An entry of SUBMISSIONS (a folder, a ``.zip`` or a ``.ipynb``) is read once into :class:`Content`: its files' names
and bytes. Its digest is the submission's part of the result's cache key (``course_digest`` is the course's), and
what is graded is exactly what was hashed, even when the folder changes meanwhile. The same bytes travel to a
cluster's nodes, which need no file system in common with the batch. :func:`grade_content` unpacks them into a
temporary folder, grades them, and answers with every report rendered and the row's data (:class:`Graded`); the
batch writes them. No result shows the temporary folder: a folder's files are named under its real path, a file
inside ``<name>.zip`` is ``<name>.zip:inner/path``, a notebook is ``<name>.ipynb``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import os
import re
import tempfile
import time
import tokenize
import zipfile
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Any, Callable, Iterator, Sequence

from .course.config import RECORDED, Course
from .course.notebooks import NotebookError, topic_of_notebook
from .course.submission import Submission, find_topic_folder
from .engine.results import ERROR, NOT_ATTEMPTED, Report, TopicResult
from .errors import GraderError, SandboxUnavailable, UsageError
from .reports.renderers import FORMATS, render

__all__ = ["Entry", "Content", "Outcome", "Graded", "entries", "course_digest", "digest_of", "read", "grade_entry", "grade_content", "failed", "for_credit", "code_fingerprint", "normalized"]

# The file each report format is written to per submission, for the formats the renderers offer; markdown is left
# out (summary.md is the class's).
FILES = {"text": "report.txt", "json": "results.json", "gradescope": "gradescope.json", "junit": "junit.xml", "html": "report.html"}
MAX_BYTES = 64 << 20  # a folder's files together, or a zip uncompressed; a submission is a few source files
MAX_ZIP_RATIO = 200  # a zip that expands more than this is refused before it is expanded
MAX_ZIP_FILES = 1000

PROCESS_REFUSED = (
    "grade batch grades for credit, and the process sandbox would let a submission read what this user can read (other"
    " submissions, the course's solutions), use the network and outlive its check; run as root on Linux for the strict"
    " sandbox, or pass --allow-process-sandbox to grade with reduced isolation anyway"
)


@dataclass(frozen=True)
class Entry:
    name: str  # the results folder's name
    path: Path


def entries(folder: Path) -> list[Entry]:
    """The submissions in ``folder``, sorted by name: subfolders, .zip files and .ipynb files."""
    found = []
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or path.is_symlink():
            continue
        if path.is_dir() or path.suffix in (".zip", ".ipynb"):
            found.append(Entry(path.stem if path.is_file() else path.name, path))
    names = Counter(e.name for e in found)
    clashes = sorted(n for n, k in names.items() if k > 1)
    if clashes:
        raise UsageError(f"{folder}: {', '.join(clashes)}: more than one submission per name (a folder and a .zip?)")
    return found


@dataclass(frozen=True)
class Content:
    """An entry's files: (path relative to the folder, bytes) for a folder, in the order the digest takes them; the
    one (file name, bytes) for a zip or a notebook. Links and special files are not part of a submission."""

    name: str
    shown: str  # the entry's path as the batch was given it: a folder's report is labelled with it
    real: str  # ... resolved: a folder's files are named under it in messages and tracebacks
    folder: bool
    files: tuple[tuple[str, bytes], ...]

    @classmethod
    def read(cls, entry: Entry) -> Content:
        """Raises UsageError when the entry cannot be read or holds more than a submission ever does."""
        path = entry.path
        try:
            if path.is_dir():
                found = sorted(p for p in path.rglob("*") if p.is_file() and not p.is_symlink())
                files, total = [], 0
                for file in found:
                    total += file.stat().st_size
                    if total > MAX_BYTES:
                        raise UsageError(f"more than {MAX_BYTES} bytes of files; a submission is a few source files")
                    files.append((file.relative_to(path).as_posix(), file.read_bytes()))
            else:
                if path.stat().st_size > MAX_BYTES:
                    raise UsageError(f"more than {MAX_BYTES} bytes; a submission is a few source files")
                files = [(path.name, path.read_bytes())]
        except OSError as exc:
            raise UsageError(f"cannot be read ({exc.strerror or exc})") from None
        return cls(entry.name, str(path), os.path.realpath(path), path.is_dir(), tuple(files))

    @property
    def digest(self) -> str:
        """What was graded: every file (name and bytes), so a changed submission is graded again."""
        h = hashlib.sha256()
        for name, data in self.files:
            h.update(name.encode() + b"\0" + data + b"\0")
        return h.hexdigest()

    @property
    def filename(self) -> str:
        return Path(self.shown).name


def course_digest(*, course: Course, topics: Sequence[str]) -> str:
    """What a result owes to the course: course.yaml, and each graded topic's check files and reference (by name and
    bytes, so the same course copied elsewhere has the same digest)."""
    h = hashlib.sha256()
    files = [course.path]
    for topic in map(course.topic, topics):
        files += [topic.public_checks, topic.hidden_checks, topic.answers if course.reference == RECORDED else topic.solution]
    for file in files:
        h.update(os.path.relpath(file, course.root).encode() + b"\0")
        h.update((file.read_bytes() if file.is_file() else b"(none)") + b"\0")
    return h.hexdigest()


def digest_of(entry: Entry) -> str:
    """The entry's digest, or why it cannot be read (its key then changes when it can be, and it is graded again)."""
    try:
        return Content.read(entry).digest
    except UsageError as exc:
        return f"unreadable: {exc}"


def _topic_folder(root: Path, course: Course, topics: Sequence[str]) -> Path:
    return find_topic_folder(root, topics or [t.id for t in course.topics])


def _unzip(source: Path | IO[bytes], into: Path) -> None:
    """Extract a student's zip, refusing paths that leave it, links, and sizes a submission never has."""
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError) as exc:
        raise UsageError(f"not a zip file ({exc})") from None
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_ZIP_FILES:
            raise UsageError(f"{len(infos)} entries; a submission has at most {MAX_ZIP_FILES}")
        total = sum(i.file_size for i in infos)
        packed = max(sum(i.compress_size for i in infos), 1)
        if total > MAX_BYTES or total > 1 << 20 and total / packed > MAX_ZIP_RATIO:
            raise UsageError(f"expands to {total} bytes ({total / packed:.0f}-fold); the limits are {MAX_BYTES} bytes and {MAX_ZIP_RATIO}-fold")
        for info in infos:
            parts = Path(info.filename).parts
            if info.filename.startswith(("/", "\\")) or ".." in parts or ":" in info.filename:
                raise UsageError(f"entry {info.filename!r} points outside the zip")
            if (info.external_attr >> 16) & 0o170000 == 0o120000:
                raise UsageError(f"entry {info.filename!r} is a symbolic link")
            if not [p for p in parts if p not in (".", "")]:
                raise UsageError(f"entry {info.filename!r} names no file")
        try:
            archive.extractall(into)
        except (OSError, zipfile.BadZipFile, ValueError) as exc:  # duplicate or clashing names, bad CRC, ...
            raise UsageError(f"cannot be extracted ({type(exc).__name__}: {exc})") from None


def _write_folder(content: Content, into: Path) -> None:
    """A folder's files under ``into``; a path that would leave it is refused (the batch wrote them, but a node does not
    take that on trust)."""
    for name, data in content.files:
        parts = PurePosixPath(name).parts
        if not parts or PurePosixPath(name).is_absolute() or ".." in parts:
            raise UsageError(f"{content.filename}: file {name!r} points outside the submission")
        target = into.joinpath(*parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


# Content is graded in a folder tempfile names grade-batch-*; its path means nothing to the reader.
_TEMP = "|".join(sorted({re.escape(tempfile.gettempdir()), re.escape(os.path.realpath(tempfile.gettempdir()))}))
_ZIP_TEMP = re.compile(rf"(?:{_TEMP})/grade-batch-[\w-]+(/)?")
_FILE_TEMP = re.compile(rf"(?:{_TEMP})/grade-batch-[\w-]+(?:/[\w.-]+)?")  # the folder holds one copy of the file
_FOLDER_TEMP = re.compile(rf"(?:{_TEMP})/grade-batch-[\w-]+")


def _shown(content: Content) -> Callable[[str], str]:
    """A text with the temporary folder ``content`` is graded in replaced by the entry: ``<name>.zip:inner/path`` for
    a file inside a zip, the entry's own file name for a notebook's copy, the folder's real path for a folder."""
    name = content.filename
    if content.folder:
        return lambda text: _FOLDER_TEMP.sub(lambda _: content.real, text)
    if name.endswith(".zip"):
        return lambda text: _ZIP_TEMP.sub(lambda m: f"{name}:" if m.group(1) else name, text)
    return lambda text: _FILE_TEMP.sub(lambda _: name, text)


@contextmanager
def opened(content: Content, course: Course, topics: Sequence[str]) -> Iterator[Submission]:
    """The content as a Submission, unpacked in a temporary folder for the duration."""
    with tempfile.TemporaryDirectory(prefix="grade-batch-") as tmp:
        folder = Path(os.path.realpath(tmp))
        if content.folder:
            _write_folder(content, folder)
            found = _topic_folder(folder, course, topics)
            submission = Submission.from_path(found, course)
            yield dataclasses.replace(submission, label=str(Path(content.shown) / found.relative_to(folder)) if found != folder else content.shown)
            return
        (_, data), = content.files
        if content.filename.endswith(".zip"):
            _unzip(io.BytesIO(data), folder)
            yield Submission.from_path(_topic_folder(folder, course, topics), course)
            return
        try:  # among the --topic ones, else the course's: the only one, or the one the notebook shows it answers
            topic = topic_of_notebook(data, topics=[course.topic(t) for t in topics] or course.topics, name=content.filename)
        except NotebookError as exc:
            raise UsageError(str(exc)) from None
        target = folder / f"{topic}.ipynb"
        target.write_bytes(data)
        yield Submission.from_path(target, course)


def relocated(value: Any, show: Callable[[str], str]) -> Any:
    """``value`` (a Report, or any part of one) with ``show`` applied to every string in it."""
    if isinstance(value, str):
        return show(value)
    if type(value) in (list, tuple):
        return type(value)(relocated(v, show) for v in value)
    if type(value) is dict:
        return {k: relocated(v, show) for k, v in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.replace(value, **{f.name: relocated(getattr(value, f.name), show) for f in dataclasses.fields(value) if f.init})
    return value


def normalized(text: str) -> str:
    """The code without comments, blank lines and layout: two submissions equal here differ in nothing that runs."""
    try:
        tokens = tokenize.generate_tokens(io.StringIO(text).readline)
        kept = [t.string for t in tokens if t.type not in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER)]
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return " ".join(text.split())
    return " ".join(kept)


def code_fingerprint(text: str) -> str:
    return hashlib.sha256(normalized(text).encode()).hexdigest()


def attempted(topic: TopicResult) -> bool:
    """Whether the submission tried the topic: its file is there and not the untouched stub."""
    return any(c.status != NOT_ATTEMPTED for c in topic.checks)


def for_credit(grader: Any, *, allow_process: bool) -> None:
    """Refuse a grader in the process sandbox unless ``allow_process``: results of a batch are for credit."""
    from .sandbox.confinement import PROCESS

    if grader.mode == PROCESS and not allow_process:
        raise SandboxUnavailable(f"{PROCESS_REFUSED} (strict is not in force: {grader.mode_reason})")


# ---- grading ----------------------------------------------------------------------------------------------------


@dataclass
class Outcome:
    name: str
    status: str  # graded | failed (could not be graded: see error)
    error: str | None
    seconds: float
    points: dict[str, float]  # topic -> points
    max_points: dict[str, float]
    internal_errors: int = 0
    problems: list[str] | None = None  # attempted topics graded 0 as a whole (an import that crashed), grader errors
    not_attempted: list[str] | None = None  # topics with no file, or the untouched stub: no error of the submission's


@dataclass
class Graded:
    """What grading one entry gives the batch to write: ``rendered`` (file name -> text; none when it could not be
    graded), and the record's data. ``digest``: of what was graded, the submission's part of its cache key."""

    outcome: Outcome
    digest: str
    fingerprints: dict[str, dict[str, str]]
    retry: bool  # no verdict (a grader error, a lost node): the next run grades it again
    rendered: dict[str, str]


def _rendered(report: Report) -> dict[str, str]:
    """Every format, rendered before anything is written: a report that cannot be rendered leaves no partial files."""
    return {FILES[fmt]: render(report, fmt) for fmt in FILES if fmt in FORMATS}


def failed(content_name: str, filename: str, error: str, *, digest: str, retry: bool, seconds: float = 0.0) -> Graded:
    """A failure row: the entry could not be graded (``retry``: through no fault of its own)."""
    return Graded(Outcome(content_name, "failed", f"{filename}: {error}", seconds, {}, {}), digest, {}, retry, {})


def grade_content(*, grader: Any, content: Content, course: Course, topics: Sequence[str]) -> Graded:
    """Grade one entry's content. Never raises: whatever goes wrong is that entry's row."""
    start = time.perf_counter()
    show = _shown(content)
    digest = content.digest
    fingerprints: dict[str, dict[str, str]] = {}
    try:
        with opened(content, course, topics) as submission:
            report = relocated(grader.grade(submission, topics=list(topics) or None), show)
            for topic, source in submission.sources.items():
                if source.text is not None:
                    fingerprints[topic] = {"bytes": hashlib.sha256(source.text.encode()).hexdigest(), "code": code_fingerprint(source.text)}
    except GraderError as exc:
        return failed(content.name, content.filename, show(str(exc)), digest=digest, retry=False, seconds=time.perf_counter() - start)
    except Exception as exc:  # noqa: BLE001 - one submission's failure must not end the batch
        # The grader's own failure is no verdict on the submission: the next run grades it again.
        return failed(content.name, content.filename, show(f"the grader failed ({type(exc).__name__}: {exc})"), digest=digest, retry=True, seconds=time.perf_counter() - start)
    problems = [f"{t.id}: {_gist(t.error)}" for t in report.topics if t.error and attempted(t)]
    problems += [f"{t.id}.{c.id}: not graded (grader error): run the same command again" for t in report.topics for c in t.checks if c.status == ERROR]
    untouched = [t.id for t in report.topics if not attempted(t)]
    seconds = time.perf_counter() - start
    outcome = Outcome(content.name, "graded", None, seconds, {t.id: t.points for t in report.topics}, {t.id: t.max_points for t in report.topics}, len(report.internal_errors), problems, untouched)
    try:
        rendered = _rendered(report)
    except Exception as exc:  # noqa: BLE001 - the grader's fault: a failure row, graded again next run
        return failed(content.name, content.filename, f"the grader could not write its report ({type(exc).__name__}: {exc})", digest=digest, retry=True, seconds=seconds)
    # A check the grader could not judge (a busy machine, a broken check) is no verdict.
    return Graded(outcome, digest, fingerprints, bool(report.internal_errors), rendered)


def read(entry: Entry) -> Content | Graded:
    """The entry's content, or its failure row when it cannot be read (under the digest ``digest_of`` gives it)."""
    try:
        return Content.read(entry)
    except UsageError as exc:
        return failed(entry.name, entry.path.name, str(exc), digest=f"unreadable: {exc}", retry=False)


def grade_entry(*, grader: Any, entry: Entry, course: Course, topics: Sequence[str]) -> Graded:
    """Read and grade one entry on this machine. Never raises."""
    content = read(entry)
    return content if isinstance(content, Graded) else grade_content(grader=grader, content=content, course=course, topics=topics)


def _gist(error: str) -> str:
    """A topic's error in one line: what failed, and (after a traceback) the exception."""
    lines = [line.strip() for line in error.splitlines() if line.strip()]
    return lines[0] if len(lines) == 1 else f"{lines[0]} {lines[-1]}"
