"""Where a report goes: to the terminal, or to a file written atomically with a text summary on the terminal."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Callable

__all__ = ["deliver", "write_atomically"]


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
