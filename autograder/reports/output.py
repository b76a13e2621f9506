"""Where a report goes: to the terminal, or to a file written atomically with a text summary on the terminal."""

from __future__ import annotations

import os
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Callable, Iterable

__all__ = ["deliver", "write_atomically", "write_zip"]

_EPOCH = (1980, 1, 1, 0, 0, 0)  # zip timestamps: the same files give the same zip


def deliver(render: Callable[[str], str], *, fmt: str, output: Path | None) -> None:
    """Write ``render(fmt)`` to stdout, or to ``output`` and then (for a machine format) the text report to stdout."""
    if output is None:
        sys.stdout.write(render(fmt))
        return
    write_atomically(output, render(fmt))
    if fmt != "text":
        sys.stdout.write(render("text"))


def write_atomically(path: Path, text: str) -> None:
    """Write next to the target and rename: a reader never sees half a report, and a symlink is replaced, not followed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def write_zip(archive: Path, entries: Iterable[tuple[str, bytes, int]]) -> None:
    """A deterministic zip of (name, content, permission bits), in sorted order, replacing ``archive`` atomically."""
    archive.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=archive.parent, prefix=f".{archive.name}.")
    try:
        with os.fdopen(fd, "wb") as f, zipfile.ZipFile(f, "w", compression=zipfile.ZIP_DEFLATED) as z:
            for name, data, mode in sorted(entries):
                info = zipfile.ZipInfo(name, date_time=_EPOCH)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = (0o100000 | mode) << 16  # a regular file with these permissions (unzip restores them)
                z.writestr(info, data)
        os.replace(tmp, archive)
    except BaseException:
        os.unlink(tmp)
        raise
