"""One self-contained HTML page per submission: a table per topic, what went wrong and how to fix it, and the checks'
figures drawn inline. It fetches nothing (inline CSS and SVG, no script, a Content-Security-Policy that forbids any
other source), and everything from the report is escaped: a student's code writes its messages and printed output."""

from __future__ import annotations

from html import escape
from itertools import count
from typing import Iterator

from ...engine.results import ERROR, FAILED, NOT_ATTEMPTED, PASSED, CheckResult, Report, TopicResult
from ..explain import messages, missing, topic_error
from ..plots import render_svg
from .text import untouched

_CSP = "default-src 'none'; style-src 'unsafe-inline'"  # belt and braces: the page names no other source anyway
_STYLE = """
body { font: 16px/1.45 system-ui, sans-serif; color: #1a1a1a; background: #fff; max-width: 62rem; margin: 0 auto; padding: 0 .75rem 2rem; }
h1 { font-size: 1.4rem; margin-bottom: .2rem; } h2 { font-size: 1.15rem; margin: 2rem 0 .3rem; border-bottom: 1px solid #ddd; }
h3 { font-size: 1rem; margin: 1.2rem 0 .3rem; } .meta { color: #555; margin: .2rem 0; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
th, td { text-align: left; vertical-align: top; padding: .2rem .4rem; border-bottom: 1px solid #eee; overflow-wrap: anywhere; }
td:first-child { width: 50%; } .pts { text-align: right; white-space: nowrap; }
.passed { color: #1b5e20; } .failed { color: #b71c1c; } .error { color: #bf360c; } .todo { color: #666; }
.tag { font-size: .75rem; background: #eee; border-radius: 3px; padding: 0 .3rem; color: #333; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; background: #f6f6f6; padding: .5rem; border-radius: 4px; font-size: .85rem; margin: .3rem 0; }
pre.problem { border-left: 3px solid #b71c1c; }
figure { margin: 1rem 0; } figcaption { font-size: .85rem; color: #555; } svg { max-width: 100%; height: auto; }
"""
_STATUS = {PASSED: "passed", FAILED: "failed", NOT_ATTEMPTED: "not attempted", ERROR: "error"}
_CLASS = {PASSED: "passed", FAILED: "failed", NOT_ATTEMPTED: "todo", ERROR: "error"}


def _score(points: float, max_points: float) -> str:
    return f"{points:g}/{max_points:g}"


def _breakable(name: str) -> str:
    """``name`` escaped, free to wrap after each underscore (check ids are long words on a phone)."""
    return escape(name).replace("_", "_<wbr>")


def _hidden(check: CheckResult) -> str:
    return ' <span class="tag">hidden</span>' if check.hidden else ""


def _status(check: CheckResult) -> str:
    call = missing(check)
    said = f"not attempted: <code>{escape(call)}</code>" if call else _STATUS[check.status]
    return f'<td class="{_CLASS[check.status]}">{said}</td>'


def _heading(topic: TopicResult) -> str:
    return f'<h2 id="topic-{escape(topic.id)}">{escape(topic.title)} <span class="tag">{escape(topic.id)}</span> {_score(topic.points, topic.max_points)}</h2>'


def _topic(topic: TopicResult, figure_ids: Iterator[int]) -> list[str]:
    if untouched(topic):  # one line, not a table of "not attempted" rows
        why = f" ({escape(topic.error)})" if topic.error else ""
        return [_heading(topic), f'<p class="todo">Not attempted{why}.</p>']
    out = [_heading(topic), f'<p class="meta">{topic.cpu_s:.2f} s of CPU time</p>', "<table>", '<tr><th>check</th><th class="pts">points</th><th>status</th></tr>']
    out += [f'<tr><td>{_breakable(c.id)}{_hidden(c)}</td><td class="pts">{_score(c.points, c.max_points)}</td>{_status(c)}</tr>' for c in topic.checks]
    out.append("</table>")
    if topic.error:
        out.append(f'<pre class="problem">{escape(topic_error(topic) or "")}</pre>')
    else:
        said = messages(topic)  # a named mistake is explained once per topic, referred to after
        for check in topic.checks:
            if check.status in (FAILED, ERROR) and check.message:
                out += [f"<h3>{escape(check.id)}{_hidden(check)}: {escape(check.title)}</h3>", f"<pre>{escape(said[check.id].rstrip())}</pre>"]
                if check.mistake:
                    out.append(f'<p class="meta">Known mistake: <code>{escape(check.mistake["id"])}</code></p>')
    figures = [(c, f) for c in topic.checks for f in c.figures]
    if figures:
        out.append("<h3>Figures</h3>")
        for check, figure in figures:
            out += ["<figure>", render_svg(figure, ids=f"fig{next(figure_ids)}-").rstrip(), f"<figcaption>{escape(check.id)}: {escape(check.title)}</figcaption>", "</figure>"]
    if topic.output:
        out += ["<details>", "<summary>What your code printed (an excerpt; never used for grading)</summary>", f"<pre>{escape(topic.output.rstrip())}</pre>", "</details>"]
    return out


def render(report: Report) -> str:
    title = f"{report.course}: {report.submission}"
    out = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title>",
        f"<style>{_STYLE}</style>",
        "</head>",
        "<body>",
        f"<h1>{escape(report.course)}</h1>",
        f'<p class="meta">Submission <code>{escape(report.submission)}</code> · sandbox: {escape(report.sandbox)} · devices: {escape(", ".join(report.devices))}</p>',
        f"<p><strong>Total: {_score(report.points, report.max_points)}</strong></p>",
    ]
    if report.notes:
        out += ["<ul>", *(f"<li>{escape(note)}</li>" for note in report.notes), "</ul>"]
    figure_ids = count(1)
    for topic in report.topics:
        out += _topic(topic, figure_ids)
    out += [f"<p><strong>Total: {_score(report.points, report.max_points)}</strong></p>", "</body>", "</html>"]
    return "\n".join(out) + "\n"
