"""A submission: the source of each topic's module, from a folder laid out like exercises/, one file (a module or a
notebook), or memory."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import UsageError
from .config import Course
from .notebooks import NotebookError, notebook_code

__all__ = ["Submission", "Source", "MAX_SOURCE_BYTES", "SUFFIXES"]

MAX_SOURCE_BYTES = 1 << 20
SUFFIXES = (".py", ".ipynb")  # a module, or a notebook whose code cells are the module


@dataclass(frozen=True)
class Source:
    """One topic's module as submitted. ``problem`` is set instead of ``text`` when the file cannot be graded."""

    topic: str
    filename: str  # shown in messages and tracebacks
    data: bytes
    text: str | None
    problem: str | None
    folder: str | None
    missing: bool = False  # nothing submitted: "not attempted", not "failed"


@dataclass(frozen=True)
class Submission:
    label: str
    sources: dict[str, Source]

    @classmethod
    def from_path(cls, path: Path, course: Course) -> Submission:
        """A folder (``<topic>.py`` or ``<topic>.ipynb`` per topic) or one such file."""
        if path.is_dir():
            return cls(label=str(path), sources={t.id: _read_in(path, t.id) for t in course.topics})
        if not path.is_file():
            raise UsageError(f"{path}: no such file or folder")
        if path.suffix not in SUFFIXES or path.stem not in {t.id for t in course.topics}:
            known = ", ".join(f"{t.id}.py" for t in course.topics)
            raise UsageError(f"{path}: a submission file must be named after its topic ({known}, or .ipynb)")
        return cls(label=str(path), sources={path.stem: _read(path.stem, path)})

    @classmethod
    def from_texts(cls, label: str, texts: dict[str, str]) -> Submission:
        """In-memory sources (a notebook's cells, a test): topic id -> module text."""
        return cls(
            label=label,
            sources={t: Source(t, f"{label}/{t}.py", s.encode(), s, None, None) for t, s in texts.items()},
        )


def _read_in(folder: Path, topic: str) -> Source:
    """``<topic>.py`` or ``<topic>.ipynb`` in ``folder``; both at once is ambiguous, and reported for that topic."""
    script, notebook = folder / f"{topic}.py", folder / f"{topic}.ipynb"
    if script.exists() and notebook.exists():
        return Source(topic, str(script), b"", None, f"{folder}: both {script.name} and {notebook.name}; submit one of them", str(folder.resolve()))
    return _read(topic, notebook if notebook.exists() else script)


def _read(topic: str, file: Path) -> Source:
    folder = str(file.parent.resolve())
    if not file.exists():
        return Source(topic, str(file), b"", None, f"{file} not found: nothing submitted for this topic", folder, missing=True)
    if file.is_symlink() or not file.is_file():
        return Source(topic, str(file), b"", None, f"{file} is not a regular file", folder)
    data = file.read_bytes()
    if len(data) > MAX_SOURCE_BYTES:
        return Source(topic, str(file), data[:0], None, f"{file} is {len(data)} bytes; the limit is {MAX_SOURCE_BYTES}", folder)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Source(topic, str(file), data, None, f"{file} is not UTF-8 text (byte {exc.start})", folder)
    if file.suffix == ".ipynb":
        try:
            text = notebook_code(data, name=str(file))
        except NotebookError as exc:
            return Source(topic, str(file), data, None, str(exc), folder)
        data = text.encode()  # hidden inputs follow the code, not outputs or metadata a re-save changes
    return Source(topic, str(file.resolve()), data, text, None, folder)
