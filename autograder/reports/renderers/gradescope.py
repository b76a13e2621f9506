"""Gradescope's results.json (see docs: score, tests with score/max_score/status/name/number/output/tags)."""

from __future__ import annotations

from ...engine.results import PASSED, Report
from ..explain import said
from ..output import to_json

# A hidden check's test, by course.yaml feedback.hidden: shown at once with its (redacted) message, or, for
# pass/fail only, not before the due date, so that resubmitting cannot be used to probe the hidden checks.
HIDDEN_VISIBILITY = {"full": "visible", "no-values": "visible", "pass-fail": "after_due_date"}


def render(report: Report) -> str:
    tests = []
    for t_index, topic in enumerate(report.topics, start=1):
        for c_index, check in enumerate(topic.checks, start=1):
            output = said(check) or ("passed" if check.status == PASSED else check.status)
            output += "".join(f"\nFigure: {f['file']}" for f in check.figures if f.get("file"))
            tests.append(
                {
                    "name": f"{topic.title}: {check.title}",
                    "number": f"{t_index}.{c_index}",
                    "score": check.points,
                    "max_score": check.max_points,
                    "status": "passed" if check.status == PASSED else "failed",
                    "output": output,
                    "output_format": "text",
                    "tags": [topic.id] + ([check.mistake["id"]] if check.mistake else []),
                    "visibility": HIDDEN_VISIBILITY[report.hidden_feedback] if check.hidden else "visible",
                    "extra_data": {"topic": topic.id, "check": check.id, "status": check.status, "hidden": check.hidden, "mistake": check.mistake, "cpu_s": check.cpu_s},
                }
            )
    summary = [f"{topic.title}: {topic.points:g}/{topic.max_points:g}, {topic.cpu_s:.2f} s of CPU time" + (f" ({topic.error.splitlines()[0]})" if topic.error else "") for topic in report.topics]
    outputs = [f"Output of {topic.id} (not used for grading):\n{topic.output}" for topic in report.topics if topic.output]
    results = {
        "score": report.points,
        "output": "\n".join(report.notes + summary + outputs),
        "output_format": "text",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
        "extra_data": {"sandbox": report.sandbox, "devices": report.devices, "max_score": report.max_points},
    }
    return to_json(results)
