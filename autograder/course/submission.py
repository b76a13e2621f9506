"""A submission: the source of each topic's module, from a folder laid out like exercises/, one file (a module or a
notebook), or memory.

Paths inside a submission are named by the student, so they are read as real directory entries: a link is never
followed (a folder linked to the instructor's source/ or to a classmate's work is not the submission), a name that
holds a control character or bytes that are not UTF-8 is refused, and what is chosen must resolve inside the
submission.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from ..errors import UsageError
from .config import Course
from .notebooks import NotebookError, notebook_module

__all__ = ["Submission", "Source", "MAX_SOURCE_BYTES", "SUFFIXES", "find_topic_folder", "plain_name", "misnamed"]

MAX_SOURCE_BYTES = 1 << 20
SUFFIXES = (".py", ".ipynb")  # a module, or a notebook whose code cells are the module
MAX_HELPERS = 32  # other modules of a submission's folder a topic may import
MAX_DEPTH = 3  # students hand in exercises/, the repository around it, or a folder around that
SKIPPED = ("checks", "__pycache__")  # a repository's public checks have the topics' file names
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")  # control characters; undecodable bytes (surrogates)


def plain_name(name: str, where: Path) -> str:
    """``name`` if it is printable text; UsageError naming it otherwise (a newline in a name has fooled graders that
    read paths line by line; undecodable bytes cannot be reported or written)."""
    if _UNPRINTABLE.search(name):
        shown = name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        raise UsageError(f"{where}: the name {shown!r} holds a control character or bytes that are not UTF-8; rename it")
    return name


def misnamed(names: Iterable[str], topics: Iterable[str]) -> list[str]:
    """A note for each file in ``names`` that looks like a topic's file under another name (``convolutions.py``,
    ``Convolution.ipynb``): such a file is not graded, and a student reading "not attempted" needs to know why."""
    topics = list(topics)
    expected = {f"{t}{s}" for t in topics for s in SUFFIXES}
    return [f"{name} is not a topic file, so it was not graded; did you mean {close}?" for name in sorted(names) if name not in expected and (close := _closest(name, topics))]


def _closest(name: str, topics: Sequence[str]) -> str | None:
    """The topic file ``name`` was probably meant to be (another case, a letter off, an s too many), or None."""
    stem, suffix = os.path.splitext(name)
    if suffix.lower() not in SUFFIXES:
        return None
    close = difflib.get_close_matches(stem.lower(), topics, n=1, cutoff=0.8)
    return f"{close[0]}{suffix.lower()}" if close else None


def find_topic_folder(root: Path, topics: Iterable[str]) -> Path:
    """The shallowest folder under ``root`` (itself included, at most MAX_DEPTH below) that holds a topic file, ties
    broken by name; hidden folders and SKIPPED ones are not searched. Walks real entries: links are not followed."""
    topics = list(topics)
    names = {f"{t}{s}" for t in topics for s in SUFFIXES}
    level, near = [root], []
    for _ in range(MAX_DEPTH + 1):
        deeper = []
        for folder in level:
            with os.scandir(folder) as found:
                entries = sorted(found, key=lambda e: e.name)
            for entry in entries:
                plain_name(entry.name, Path(os.path.relpath(folder, root)))
            files = [e.name for e in entries if e.is_file(follow_symlinks=False)]
            if any(name in names for name in files):
                return _inside(Path(folder), root)
            near += [os.path.join(os.path.relpath(folder, root), note) if folder != root else note for note in misnamed(files, topics)]
            deeper += [e.path for e in entries if e.is_dir(follow_symlinks=False) and not e.name.startswith(".") and e.name not in SKIPPED]
        level = deeper
    said = f": {'; '.join(near)}" if near else ""
    raise UsageError(f"no topic file ({', '.join(sorted(names))}) in it or in the folders below it{said}")


def _inside(folder: Path, root: Path) -> Path:
    real, top = os.path.realpath(folder), os.path.realpath(root)
    if real != top and not real.startswith(top.rstrip(os.sep) + os.sep):
        raise UsageError(f"{folder}: resolves to {real}, outside the submission {top}")
    return folder


@dataclass(frozen=True)
class Source:
    """One topic's module as submitted. ``problem`` is set instead of ``text`` when the file cannot be graded."""

    topic: str
    filename: str  # shown in messages and tracebacks
    data: bytes
    text: str | None
    problem: str | None
    missing: bool = False  # nothing submitted: "not attempted", not "failed"
    helpers: tuple[tuple[str, str, str], ...] = ()  # (module, filename, text): the other .py files beside it, importable
    cells: tuple[tuple[int, int, int, str], ...] = ()  # a notebook's line map (notebooks.module_of_cells): messages name its cells

    @property
    def code(self) -> bytes:
        """All the code a worker grading this topic can run: what its hidden inputs are keyed by."""
        return self.data + b"".join(b"\0" + module.encode() + b"\0" + text.encode() for module, _, text in self.helpers)


@dataclass(frozen=True)
class Submission:
    label: str
    sources: dict[str, Source]
    notes: tuple[str, ...] = ()  # what a student should know about the files themselves (a misnamed topic file)

    @classmethod
    def from_path(cls, path: Path, course: Course) -> Submission:
        """A folder (``<topic>.py`` or ``<topic>.ipynb`` per topic) or one such file."""
        topics = [t.id for t in course.topics]
        if path.is_dir():
            with os.scandir(path) as found:
                files = [e.name for e in found if e.is_file(follow_symlinks=False)]
            return cls(label=str(path), sources={t: _with_helpers(_read_in(path, t), path) for t in topics}, notes=tuple(misnamed(files, topics)))
        if not path.is_file():
            raise UsageError(f"{path}: no such file or folder")
        if path.suffix not in SUFFIXES or path.stem not in topics:
            known = ", ".join(f"{t}.py" for t in topics)
            close = _closest(path.name, topics)
            hint = f"; did you mean {close}?" if close else ""
            raise UsageError(f"{path}: a submission file must be named after its topic ({known}, or .ipynb){hint}")
        return cls(label=str(path), sources={path.stem: _with_helpers(_read(path.stem, path), path.parent)})

    @classmethod
    def from_texts(cls, label: str, texts: dict[str, str], *, cells: dict[str, tuple[tuple[int, int, int, str], ...]] | None = None) -> Submission:
        """In-memory sources (a notebook's cells, a test): topic id -> module text; ``cells``: topic id -> the line map
        of a notebook's module (notebooks.module_of_cells), whose file is then ``<topic>.ipynb``."""
        cells = cells or {}
        return cls(
            label=label,
            sources={t: Source(t, f"{label}/{t}{'.ipynb' if t in cells else '.py'}", s.encode(), s, None, cells=cells.get(t, ())) for t, s in texts.items()},
        )


def _with_helpers(source: Source, folder: Path) -> Source:
    """The source with the other modules of its folder (``helpers.py``: what ``import helpers`` finds beside it), in
    name order, as many as fit in MAX_HELPERS files and MAX_SOURCE_BYTES; links and files that are not UTF-8 are left out."""
    if source.text is None:
        return source
    found: list[tuple[str, str, str]] = []
    budget = MAX_SOURCE_BYTES
    for file in sorted(folder.glob("*.py")):
        if file.stem == source.topic or not file.stem.isidentifier() or len(found) == MAX_HELPERS:
            continue
        opened = _regular_file_bytes(file)
        if opened is None or opened[1] > budget:
            continue
        try:
            found.append((file.stem, str(file.resolve()), opened[0].decode("utf-8")))
        except UnicodeDecodeError:
            continue
        budget -= opened[1]
    return dataclasses.replace(source, helpers=tuple(found))


def _read_in(folder: Path, topic: str) -> Source:
    """``<topic>.py`` or ``<topic>.ipynb`` in ``folder``; both at once is ambiguous, and reported for that topic."""
    script, notebook = folder / f"{topic}.py", folder / f"{topic}.ipynb"
    if os.path.lexists(script) and os.path.lexists(notebook):
        return Source(topic, str(script), b"", None, f"{folder}: both {script.name} and {notebook.name}; submit one of them")
    return _read(topic, notebook if os.path.lexists(notebook) else script)


def _read(topic: str, file: Path) -> Source:
    if not os.path.lexists(file):
        return Source(topic, str(file), b"", None, f"{file} not found: nothing submitted for this topic", missing=True)
    opened = _regular_file_bytes(file)
    if opened is None:
        return Source(topic, str(file), b"", None, f"{file} is not a regular file")
    data, size = opened
    if size > MAX_SOURCE_BYTES:
        return Source(topic, str(file), b"", None, f"{file} is {size} bytes; the limit is {MAX_SOURCE_BYTES}")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Source(topic, str(file), data, None, f"{file} is not UTF-8 text (byte {exc.start})")
    cells: tuple[tuple[int, int, int, str], ...] = ()
    if file.suffix == ".ipynb":
        try:
            text, cells = notebook_module(data, name=str(file))
        except NotebookError as exc:
            return Source(topic, str(file), data, None, str(exc))
        data = text.encode()  # hidden inputs follow the code, not outputs or metadata a re-save changes
    return Source(topic, str(file.resolve()), data, text, None, cells=cells)


def _regular_file_bytes(file: Path) -> tuple[bytes, int] | None:
    """(bytes, size) of ``file`` if it is a regular file and not a link, checked on the open file (O_NOFOLLOW), so a
    link or a FIFO put in its place after a look is refused too; None otherwise. Nothing over the limit is read."""
    try:
        fd = os.open(file, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        return None
    with os.fdopen(fd, "rb") as f:
        return (f.read(MAX_SOURCE_BYTES + 1) if info.st_size <= MAX_SOURCE_BYTES else b""), info.st_size
