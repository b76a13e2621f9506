"""The course as bytes: what a node needs to grade (course.yaml and its exercises/, solutions/, answers/ and checks/),
so that nodes share no file system with the batch. The course secret is not among them (the node plugin carries it)."""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

from ..course.config import Course
from ..errors import ConfigError

__all__ = ["pack", "unpack"]

FOLDERS = ("exercises", "solutions", "answers", "checks")
MAX_BYTES = 64 << 20


def pack(course: Course) -> tuple[tuple[str, bytes], ...]:
    """(path relative to course.yaml's folder, bytes) of every file a node grades with; caches and hidden files are
    left out. Folders linked into the course are read through the link (a course may be assembled that way)."""
    root = course.root
    files = [(course.path.name, course.path.read_bytes())]
    for folder in FOLDERS:
        for where, dirs, names in os.walk(root / folder, followlinks=True):
            dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "__pycache__")
            for name in sorted(names):
                path = Path(where) / name
                if not name.startswith(".") and path.is_file():
                    files.append((path.relative_to(root).as_posix(), path.read_bytes()))
    total = sum(len(data) for _, data in files)
    if total > MAX_BYTES:
        raise ConfigError(f"{course.path}: the course's files come to {total} bytes; a cluster's nodes are sent at most {MAX_BYTES}")
    return tuple(files)


def unpack(files: tuple[tuple[str, bytes], ...], into: Path) -> None:
    """Write ``files`` under ``into``, refusing a path that would leave it."""
    for name, data in files:
        path = PurePosixPath(name)
        if path.is_absolute() or ".." in path.parts or not path.parts:
            raise ConfigError(f"course file {name!r}: points outside the course")
        target = into.joinpath(*path.parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
