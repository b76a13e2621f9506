"""Shared fixtures: the course, and graders kept for the whole session (one fork server each)."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

from autograder.config import Course, Limits, load_course
from autograder.grading import Grader
from autograder.results import TopicResult
from autograder.sandbox import strict_available
from autograder.submission import Submission

ROOT = Path(__file__).resolve().parents[1]

# Hidden inputs are keyed by the secret: fixing it makes every run of the suite draw the same inputs.
os.environ["AUTOGRADER_SECRET"] = "test-suite-secret"

STRICT_OK, STRICT_WHY = strict_available()
MODES = [pytest.param("strict", marks=pytest.mark.skipif(not STRICT_OK, reason=STRICT_WHY)), "process"]


def with_limits(course: Course, **limits: float) -> Course:
    """The course with tighter limits for every topic (adversarial tests should not wait 10 s per hang)."""
    topics = tuple(dataclasses.replace(t, limits=Limits(**{**dataclasses.asdict(t.limits), **limits})) for t in course.topics)
    return dataclasses.replace(course, topics=topics)


@pytest.fixture(scope="session")
def course() -> Course:
    return load_course(ROOT / "course.yaml")


@pytest.fixture(scope="session")
def grader(course: Course):
    """The strongest sandbox this machine offers, on the CPU."""
    with Grader(course=course, sandbox="auto", devices=["cpu"]) as g:
        yield g


@pytest.fixture(scope="session", params=MODES)
def tight_grader(request, course: Course):
    """A grader per sandbox mode with short limits: 2 s per check, 512 MiB per worker."""
    with Grader(course=with_limits(course, wall_s=2.0, cpu_s=6.0, memory_mb=512), sandbox=request.param, devices=["cpu"]) as g:
        yield g


def grade_source(grader: Grader, source: str, topic: str = "convolution", **kwargs) -> TopicResult:
    """Grade one module's text as the submission for ``topic``."""
    report = grader.grade(Submission.from_texts("submission", {topic: source}), topics=[topic], **kwargs)
    return report.topics[0]


def statuses(result: TopicResult) -> dict[str, str]:
    return {c.id: c.status for c in result.checks}
