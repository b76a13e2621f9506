"""Plain text for people: a table per topic, then what went wrong and how to fix it."""

from __future__ import annotations

import textwrap

from ...engine.results import ERROR, FAILED, NOT_ATTEMPTED, PASSED, CheckResult, Report
from ..explain import messages, missing

_MARK = {PASSED: "ok", FAILED: "FAIL", NOT_ATTEMPTED: "todo", ERROR: "ERROR"}


def _table(rows: list[tuple[str, str, str]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    return ["  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]


def _status(check: CheckResult) -> str:
    if check.status != NOT_ATTEMPTED:
        return _MARK[check.status]
    call = missing(check)
    return f"todo: {call} not attempted" if call else f"todo: {check.status}"


def render(report: Report) -> str:
    lines = [f"{report.course}: grading {report.submission} (sandbox: {report.sandbox}; devices: {', '.join(report.devices)})"]
    lines += report.notes
    for topic in report.topics:
        lines += ["", f"{topic.title} [{topic.id}]  {topic.points:g}/{topic.max_points:g}  ({topic.cpu_s:.2f} s of CPU time)"]
        rows = [("check", "points", "status")]
        rows += [(c.id + (" (hidden)" if c.hidden else ""), f"{c.points:g}/{c.max_points:g}", _status(c)) for c in topic.checks]
        lines += _table(rows)
        if topic.error:
            lines += ["", textwrap.indent(topic.error, "  ! ")]
        failed = [c for c in topic.checks if c.status in (FAILED, ERROR) and c.message and not topic.error]
        said = messages(topic)
        for check in failed:
            lines += ["", f"  {check.id}: {check.title}", textwrap.indent(said[check.id].rstrip(), "    ")]
            if check.mistake:
                lines += [f"    -> known mistake: {check.mistake['id']}"]
        drawn = [(c.id, f["file"]) for c in topic.checks for f in c.figures if f.get("file")]
        lines += ["", *(f"  figure of {check}: {file}" for check, file in drawn)] if drawn else []
        undrawn = sum(1 for c in topic.checks for f in c.figures if not f.get("file"))
        if undrawn:
            lines += ["", f"  {undrawn} figure(s) of your trajectories against the reference: add --figures DIR to draw them"]
        if topic.output:
            lines += ["", "  --- what your code printed (an excerpt; never used for grading) ---", textwrap.indent(topic.output.rstrip(), "  | ")]
    lines += ["", f"Total: {report.points:g}/{report.max_points:g}"]
    return "\n".join(lines) + "\n"
