"""Markdown for CI pages ($GITHUB_STEP_SUMMARY, a merge-request comment): a table per topic, then what failed and why."""

from __future__ import annotations

import html
import re

from ...engine.results import ERROR, FAILED, NOT_ATTEMPTED, PASSED, CheckResult, Report
from ..explain import messages, missing, topic_error

_MARK = {PASSED: "✅ passed", FAILED: "❌ failed", NOT_ATTEMPTED: "⬜ not attempted", ERROR: "⚠️ error"}


def _cell(text: str) -> str:
    """One table cell: a `|` would end the cell and a newline the row."""
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\r\n", "\n").replace("\n", "<br>")


def _fenced(text: str) -> list[str]:
    """A code block whose fence is longer than any run of backticks in ``text``, so student output cannot close it."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return [fence, text.rstrip(), fence]


def _failure(check: CheckResult, message: str, explained: set[str]) -> list[str]:
    lines = ["", f"**{check.id}**{' (hidden)' if check.hidden else ''}: {check.title}"]
    if check.mistake and check.mistake["id"] in explained:
        lines += ["", f"Known mistake `{check.mistake['id']}` again: {check.mistake['title']}."]
    elif check.mistake:
        explained.add(check.mistake["id"])
        lines += ["", f"Known mistake `{check.mistake['id']}`: {check.mistake['title']}. **Fix:** {check.mistake['fix']}"]
    lines += ["", f"<details><summary>Why {html.escape(check.id)} failed</summary>", "", *_fenced(message), "", "</details>"]
    return lines


def _status(check: CheckResult) -> str:
    call = missing(check)
    return f"{_MARK[check.status]}: `{_cell(call)}`" if call else _MARK[check.status]


def render(report: Report) -> str:
    lines = [f"# {report.course}: {report.points:g}/{report.max_points:g}", ""]
    lines += [f"Graded `{report.submission}` (sandbox: {report.sandbox}; devices: {', '.join(report.devices)})."]
    lines += ["", *(f"> {note}" for note in report.notes)] if report.notes else []
    for topic in report.topics:
        lines += ["", f"## {topic.title} (`{topic.id}`): {topic.points:g}/{topic.max_points:g}", "", f"{topic.cpu_s:.2f} s of CPU time", ""]
        lines += [*_fenced(topic_error(topic) or ""), ""] if topic.error else []
        lines += ["| check | points | status |", "| --- | ---: | --- |"]
        lines += [f"| {_cell(c.id)}{' (hidden)' if c.hidden else ''} | {c.points:g}/{c.max_points:g} | {_status(c)} |" for c in topic.checks]
        failed = [c for c in topic.checks if c.status in (FAILED, ERROR) and c.message and not topic.error]
        lines += ["", "### What failed"] if failed else []
        said, explained = messages(topic), set()
        for check in failed:
            lines += _failure(check, said[check.id], explained)
        drawn = [(c.id, f["file"]) for c in topic.checks for f in c.figures if f.get("file")]
        lines += ["", *(f"- figure of {check}: [{file}]({file})" for check, file in drawn)] if drawn else []
        if topic.output:
            lines += ["", "<details><summary>What your code printed (an excerpt; never used for grading)</summary>", "", *_fenced(topic.output), "", "</details>"]
    lines += ["", f"**Total: {report.points:g}/{report.max_points:g}**"]
    return "\n".join(lines) + "\n"
