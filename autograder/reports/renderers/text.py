"""Text for people, laid out by rich: wrapped to the width it is shown at, coloured on a terminal. A topic is its
check rows, then its score, then what went wrong and how to fix it; a topic nobody has started is one line.

The report is a sequence of pieces (``header``, ``topic_rows``/``row``, ``topic_end``, ``footer``) so that a terminal
can show each check's row as it finishes (``reports.terminal``) and a file gets the very same lines at once.
"""

from __future__ import annotations

import io
import re
import textwrap
from typing import Iterable

from rich.console import Console
from rich.text import Text

from ...engine.results import ERROR, FAILED, NOT_ATTEMPTED, PASSED, CheckResult, Report, TopicResult
from ..explain import messages, missing, topic_error

__all__ = ["render", "console", "wrap", "header", "row", "topic_title", "topic_end", "untouched", "untouched_line", "footer", "pieces", "WIDTH"]

WIDTH = 80  # of a report written to a file (and of the golden files)
_MARK = {PASSED: ("ok", "green"), FAILED: ("FAIL", "bold red"), NOT_ATTEMPTED: ("todo", "yellow"), ERROR: ("ERROR", "bold magenta")}


def wrap(text: str, width: int, indent: int = 0, hang: int | None = None) -> str:
    """``text`` wrapped to ``width``, each of its lines on its own, indented by ``indent`` (continuations by ``hang``)."""
    first, rest = " " * indent, " " * (indent if hang is None else hang)
    return "\n".join(
        textwrap.fill(line, width=max(width, len(rest) + 20), initial_indent=first, subsequent_indent=rest, break_on_hyphens=False, break_long_words=False) or first.rstrip()
        for line in text.rstrip().splitlines() or [""]
    )


def _styled(text: str, *spans: tuple[str, str]) -> Text:
    """``text`` with the first occurrence of each span's words styled (they may have been wrapped: matched loosely)."""
    out = Text(text)
    for words, style in spans:
        out.highlight_regex(r"\s+".join(re.escape(w) for w in words.split()), style) if words else None
    return out


def header(report: Report, width: int) -> list[Text]:
    devices = ", ".join(report.devices)
    return [_styled(wrap(f"{report.course}: grading {report.submission} (sandbox: {report.sandbox}; devices: {devices})", width, hang=2), (report.course, "bold"))]


def topic_title(topic: TopicResult, width: int) -> Text:
    return _styled("\n" + wrap(f"{topic.title} [{topic.id}]", width, hang=2), (topic.title, "bold"))


def row(check: CheckResult, width: int) -> Text:
    """One check: its mark, points and id (and, for a check not attempted, the call that was missing)."""
    mark, style = _MARK[check.status]
    call = missing(check)
    name = check.id + (" (hidden)" if check.hidden else "") + (f": {call} not attempted" if call else "")
    line = wrap(f"{mark:<5}  {f'{check.points:g}/{check.max_points:g}':>7}  {name}", width, indent=2, hang=18)
    out = Text(line)
    out.stylize(style, 2, 2 + len(mark))
    return out


def untouched(topic: TopicResult) -> bool:
    """Nothing of the topic attempted yet: it is shown as one line."""
    return bool(topic.checks) and all(c.status == NOT_ATTEMPTED for c in topic.checks)


def untouched_line(topic: TopicResult, width: int, *, first: bool) -> Text:
    why = "no file submitted" if topic.error else "nothing implemented yet"
    line = wrap(f"{topic.title} [{topic.id}]  0/{topic.max_points:g}  todo ({why})", width, hang=2)
    return _styled(("\n" if first else "") + line, (topic.title, "bold"), ("todo", "yellow"))


def topic_end(topic: TopicResult, width: int) -> list[Text]:
    """What follows a topic's rows: its score, its error, each failure explained, figures and printed output."""
    score = f"{topic.points:g}/{topic.max_points:g} points"
    out = [_styled(wrap(f"{score}  ({topic.cpu_s:.2f} s of CPU time)", width, indent=2), (score, "bold"))]
    if topic.error:
        out += [Text(""), Text(wrap(topic_error(topic) or "", width, indent=4), "red")]
    said = messages(topic)
    for check in topic.checks:
        if check.status not in (FAILED, ERROR) or not check.message or topic.error:
            continue
        out += [Text(""), _styled(wrap(f"{check.id}: {check.title}", width, indent=2, hang=4), (check.id, "bold")), Text(wrap(said[check.id], width, indent=4))]
        if check.mistake:
            out.append(Text(wrap(f"-> known mistake: {check.mistake['id']}", width, indent=4), "cyan"))
    drawn = [(c.id, f["file"]) for c in topic.checks for f in c.figures if f.get("file")]
    if drawn:
        out += [Text(""), *(Text(wrap(f"figure of {check}: {file}", width, indent=2, hang=4)) for check, file in drawn)]
    undrawn = sum(1 for c in topic.checks for f in c.figures if not f.get("file"))
    if undrawn:
        out += [Text(""), Text(wrap(f"{undrawn} figure(s) of your results beside the reference's: add --figures DIR (or --format html) to see them", width, indent=2))]
    if topic.output:
        printed = "\n".join(f"| {line}" for line in topic.output.rstrip().splitlines())
        out += [Text(""), Text(wrap("--- what your code printed (an excerpt; never used for grading) ---", width, indent=2), "dim"), Text(wrap(printed, width, indent=2, hang=4), "dim")]
    return out


def footer(report: Report, width: int) -> list[Text]:
    notes = [Text(wrap(note, width, hang=2), "yellow") for note in report.notes]
    return [Text(""), *notes, *([Text("")] if notes else []), Text(f"Total: {report.points:g}/{report.max_points:g}", "bold")]


def pieces(report: Report, width: int) -> Iterable[Text]:
    yield from header(report, width)
    after_untouched = False
    for topic in report.topics:
        if untouched(topic):
            yield untouched_line(topic, width, first=not after_untouched)
            after_untouched = True
            continue
        after_untouched = False
        yield topic_title(topic, width)
        yield from (row(c, width) for c in topic.checks)
        yield from topic_end(topic, width)
    yield from footer(report, width)


def console(*, file: io.TextIOBase | None = None, width: int | None = None, color: bool | None = None) -> Console:
    """A rich console: to ``file`` (a terminal's own width and colour) or, with ``width``, a plain fixed layout.
    rich honours NO_COLOR (and FORCE_COLOR, TERM=dumb) itself. The pieces come wrapped (``wrap``: a path or a long
    identifier is never split, so it can be copied), so rich only styles them (soft_wrap)."""
    plain = width is not None and not color
    return Console(
        file=file, width=width, force_terminal=color, no_color=True if plain else None, color_system=None if plain else "auto", highlight=False, markup=False, emoji=False, soft_wrap=True, legacy_windows=False,
    )


def render(report: Report, *, width: int = WIDTH) -> str:
    """The report as plain text ``width`` columns wide (a file, a CI log, the golden files)."""
    buffer = io.StringIO()
    out = console(file=buffer, width=width)
    for piece in pieces(report, width):
        out.print(piece)
    return buffer.getvalue()
