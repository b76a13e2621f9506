"""The one results model every output format renders."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["PASSED", "FAILED", "NOT_ATTEMPTED", "ERROR", "TIMINGS", "without_timings", "CheckResult", "TopicResult", "Report"]

PASSED, FAILED, NOT_ATTEMPTED, ERROR = "passed", "failed", "not attempted", "error"
# Keys of the results that observe the run, not the submission: CPU time, and where a worker stopped for running out
# of time was (a sample of its stack, which the machine's load moves along a loop).
TIMINGS = frozenset(["cpu_s", "stopped_at"])


def without_timings(data: Any) -> Any:
    """Results data (``Report.to_dict()``, a results.json) less its TIMINGS: what two gradings of one submission
    agree on, whatever the machine's load."""
    if isinstance(data, dict):
        return {k: without_timings(v) for k, v in data.items() if k not in TIMINGS}
    if isinstance(data, list):
        return [without_timings(v) for v in data]
    return data


@dataclass
class CheckResult:
    id: str
    title: str
    max_points: float
    status: str  # passed | failed | not attempted | error (a fault of the grader or the check: fails closed)
    hidden: bool
    message: str = ""
    mistake: dict[str, str] | None = None  # {"id", "title", "fix"} when the answer matches a known mistake
    devices: list[str] = field(default_factory=list)
    figures: list[dict[str, Any]] = field(default_factory=list)  # autograder.reports.plots data; "file" once drawn
    # What failed in the grader's words only (no text of the submission's: its exceptions, names, printed values);
    # what a failing hidden check shows below feedback `full` (engine.visibility). Not rendered itself.
    summary: str = ""
    cpu_s: float = 0.0  # CPU time its workers spent on it, over its devices: a timing, not a grade
    stopped_at: str = ""  # "stopped while running f.py, line 3, in g: `while True:`": where it ran out of time (TIMINGS)

    @property
    def points(self) -> float:
        return self.max_points if self.status == PASSED else 0.0


@dataclass
class TopicResult:
    id: str
    title: str
    file: str | None  # the graded file, as the user named it
    checks: list[CheckResult]
    error: str | None = None  # the topic as a whole could not be graded (missing file, import error)
    output: str = ""  # an excerpt of what the submission printed; never used for grading
    error_after_hidden: bool = False  # ``error`` came once a hidden check had run: it is hidden text (engine.visibility)
    cpu_s: float = 0.0  # CPU time of its workers, imports included: a timing, not a grade
    stopped_at: str = ""  # where the module's import was when it ran out of time (TIMINGS)

    @property
    def points(self) -> float:
        return sum(c.points for c in self.checks)

    @property
    def max_points(self) -> float:
        return sum(c.max_points for c in self.checks)


@dataclass
class Report:
    course: str
    submission: str
    sandbox: str
    devices: list[str]
    topics: list[TopicResult]
    notes: list[str] = field(default_factory=list)
    hidden_feedback: str = "full"  # course.yaml feedback.hidden, already applied to the hidden checks' results

    @property
    def points(self) -> float:
        return sum(t.points for t in self.topics)

    @property
    def max_points(self) -> float:
        return sum(t.max_points for t in self.topics)

    @property
    def internal_errors(self) -> list[CheckResult]:
        return [c for t in self.topics for c in t.checks if c.status == ERROR]

    def to_dict(self) -> dict[str, Any]:
        """Plain data; regrading the same submission gives the same JSON but for its timings (TIMINGS keys)."""
        data = asdict(self)
        data["points"], data["max_points"] = self.points, self.max_points
        for topic, raw in zip(self.topics, data["topics"]):
            raw["points"], raw["max_points"] = topic.points, topic.max_points
            del raw["error_after_hidden"]
            for check, raw_check in zip(topic.checks, raw["checks"]):
                raw_check["points"] = check.points
                del raw_check["summary"]
        return data
