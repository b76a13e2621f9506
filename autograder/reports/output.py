"""Where a report goes: to the terminal, or to a file written atomically with a text summary on the terminal; and
the one way the grader writes JSON."""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import secrets
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any, Callable, Iterable

__all__ = ["deliver", "to_stdout", "write_atomically", "write_zip", "to_json", "safe_text"]

_SURROGATE = re.compile("[\ud800-\udfff]")
_EPOCH = (1980, 1, 1, 0, 0, 0)  # zip timestamps: the same files give the same zip


def deliver(render: Callable[[str], str], *, fmt: str, output: Path | None) -> None:
    """Write ``render(fmt)`` to stdout, or to ``output`` and then (for a machine format) the text report to stdout."""
    if output is None:
        to_stdout(render(fmt))
        return
    write_atomically(output, render(fmt))
    if fmt != "text":
        to_stdout(render("text"))


def to_stdout(text: str) -> None:
    """To stdout, whatever its encoding (a terminal that cannot show a character gets a replacement, not a crash)."""
    text = safe_text(text)
    try:
        sys.stdout.write(text)
    except UnicodeEncodeError:
        sys.stdout.flush()
        sys.stdout.buffer.write(text.encode(sys.stdout.encoding or "utf-8", "replace"))


def safe_text(text: str) -> str:
    """``text`` with what UTF-8 cannot encode (lone surrogates: from a worker, or a file name's undecodable bytes)
    replaced by U+FFFD, so that no string can stop a report from being written."""
    return _SURROGATE.sub("\ufffd", text)


def _plain(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None  # RFC 8259 has no NaN or Infinity: strict parsers (Gradescope's, browsers') refuse them
    if isinstance(value, str):
        return safe_text(value)
    if isinstance(value, dict):
        return {safe_text(str(k)): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def to_json(data: Any, *, indent: int | None = 2, sort_keys: bool = False) -> str:
    """``data`` as RFC 8259 JSON text (with a final newline when indented): non-finite floats become null and
    unencodable characters U+FFFD. Every JSON file the grader writes goes through here."""
    text = json.dumps(_plain(data), indent=indent, sort_keys=sort_keys, allow_nan=False)
    return text + "\n" if indent is not None else text


def write_atomically(path: Path, text: str) -> None:
    """Write next to the target and rename: a reader never sees half a report, and a symlink is replaced, not followed.
    Characters UTF-8 cannot encode are written as U+FFFD: a report is never lost to one character."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # Not mkstemp, whose files are 0600: a report is an ordinary file, 0666 less the umask like any other.
    tmp = path.parent / f".{path.name}.{secrets.token_hex(8)}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(safe_text(text))
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


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
