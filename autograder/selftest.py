"""``grade selftest``: are a topic's checks strong enough to grade with?

Per topic, through the normal grading path (sandbox included):

1. the reference solution passes every check on every device;
2. the stub is "not attempted" on every check;
3. grading the reference twice gives byte-identical results;
4. single-point mutants of the reference (:mod:`autograder.mutation`) lose points. The share that do is the topic's
   mutation score; it must reach the topic's threshold. A mutant that compiles to the reference's own bytecode, or
   that course.yaml declares equivalent (with the reason no input can tell it apart), is listed and not counted.

Mutants are graded on the CPU, several at a time, by one grader whose fork server starts each worker in
milliseconds; each check of a mutant gets ``selftest.wall_s`` rather than the students' wall-clock limit.
"""

from __future__ import annotations

import ast
import json
import os
import sys
import time
from pathlib import Path
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from .config import Course, Topic
from .grading import Grader
from .mutation import Mutant, mutants, same_bytecode
from .results import ERROR, NOT_ATTEMPTED, PASSED, CheckResult, Report
from .submission import Submission

__all__ = ["MutantResult", "TopicSelfTest", "SelfTestReport", "selftest_topic", "default_jobs", "run", "main"]

KILLED, SURVIVED, EQUIVALENT = "killed", "survived", "equivalent"


@dataclass
class MutantResult:
    mutant: Mutant
    status: str  # killed | survived | equivalent
    killed_by: str = ""  # the first check that took points from it
    exercised_by: list[str] = field(default_factory=list)  # checks that call the function it changes (survivors)
    why: str = ""  # equivalent: why no input tells it apart; killed: the first failing check's message
    diff: str = ""


@dataclass
class TopicSelfTest:
    id: str
    title: str
    checks: int
    devices: list[str]
    threshold: float
    reference_failures: dict[str, str] = field(default_factory=dict)  # check id -> message
    stub_failures: dict[str, str] = field(default_factory=dict)  # check id -> what it reported instead
    deterministic: bool = True
    mutants: list[MutantResult] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # the check code or course.yaml is wrong
    seconds: float = 0.0

    def count(self, status: str) -> int:
        return sum(1 for m in self.mutants if m.status == status)

    @property
    def score(self) -> float | None:
        """Killed / (killed + survived); None when every mutant is equivalent or there are none."""
        counted = self.count(KILLED) + self.count(SURVIVED)
        return self.count(KILLED) / counted if counted else None

    @property
    def passed(self) -> bool:
        return (
            not self.reference_failures
            and not self.stub_failures
            and self.deterministic
            and not self.problems
            and (self.score is None or self.score >= self.threshold)
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "passed": self.passed,
            "checks": self.checks,
            "devices": self.devices,
            "reference": {"passed": not self.reference_failures, "failures": self.reference_failures},
            "stub": {"passed": not self.stub_failures, "failures": self.stub_failures},
            "deterministic": self.deterministic,
            "mutants": {
                "total": len(self.mutants),
                "killed": self.count(KILLED),
                "survived": self.count(SURVIVED),
                "equivalent": self.count(EQUIVALENT),
                "score": self.score,
                "threshold": self.threshold,
            },
            "survivors": [_mutant_dict(m) for m in self.mutants if m.status == SURVIVED],
            "equivalent": [_mutant_dict(m) for m in self.mutants if m.status == EQUIVALENT],
            "problems": self.problems,
            "seconds": round(self.seconds, 2),
        }


@dataclass
class SelfTestReport:
    course: str
    sandbox: str
    jobs: int
    topics: list[TopicSelfTest]
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return all(t.passed for t in self.topics)

    def to_dict(self) -> dict[str, Any]:
        return {
            "course": self.course,
            "passed": self.passed,
            "sandbox": self.sandbox,
            "jobs": self.jobs,
            "topics": [t.to_dict() for t in self.topics],
            "notes": self.notes,
            "seconds": round(self.seconds, 2),
        }


def _mutant_dict(result: MutantResult) -> dict[str, Any]:
    m = result.mutant
    return {
        "id": m.id,
        "kind": m.kind,
        "function": m.function,
        "line": m.line,
        "change": m.description,
        "diff": result.diff,
        "killed_by": result.killed_by,
        "exercised_by": result.exercised_by,
        "why": result.why,
    }


def default_jobs() -> int:
    """The cores this process may use (a container or taskset may allow fewer than the machine has)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS and Windows
        return max(1, os.cpu_count() or 1)


def selftest_topic(*, grader: Grader, topic: Topic, jobs: int, progress: Callable[[str, int, int], None] | None = None) -> TopicSelfTest:
    """Run the four self-test steps for one topic with an open grader (its devices are the reference's devices)."""
    started = time.monotonic()
    course: Course = grader.course
    result = TopicSelfTest(topic.id, topic.title, len(topic.checks), [d for d in grader.devices if d in topic.devices] or grader.devices[:1], topic.selftest.threshold)
    reference_text = topic.solution.read_text(encoding="utf-8")
    label = f"solutions/{topic.id}.py"

    first = _grade(grader, topic, reference_text, "reference")
    result.reference_failures = _unexpected(first, PASSED)
    result.problems += _internal_errors(first, "the reference solution")
    second = _grade(grader, topic, reference_text, "reference")
    result.deterministic = _canonical(first) == _canonical(second)

    stub = _grade(grader, topic, topic.stub.read_text(encoding="utf-8"), "stub")
    result.stub_failures = _unexpected(stub, NOT_ATTEMPTED)

    calls = grader.calls(topic.id)
    reach = _callers(reference_text)
    candidates = mutants(reference_text)
    known = {m.id for m in candidates}
    at = f"topics[{course.topics.index(topic)}].selftest.equivalent"
    for stale in sorted(set(topic.selftest.equivalent) - known):
        result.problems.append(f"{course.path.name}: {at}: no mutant {stale} in {label} any more (the reference changed?); remove it")

    def grade_one(mutant: Mutant) -> MutantResult:
        diff = mutant.diff(reference_text, label)
        if same_bytecode(reference_text, mutant.source):
            return MutantResult(mutant, EQUIVALENT, why="compiles to the same bytecode as the reference", diff=diff)
        # The checks that reach the changed function run first, and grading stops at the first lost point: a killed
        # mutant costs a check or two. Only a mutant that passes those meets the other checks too.
        top = mutant.function.split(".")[0]
        entry_points = reach.get(top, {top})
        reaching = [c for c in topic.checks if top == "<module>" or calls.get(c, set()) & entry_points]
        failed: list[CheckResult] = []
        error = None
        for batch in (reaching, [c for c in topic.checks if c not in reaching]):
            if batch and not failed:
                report = grader.grade(Submission.from_texts("mutant", {topic.id: mutant.source}), topics=[topic.id], devices=["cpu"], wall_s=topic.selftest.wall_s, checks=batch, until_failure=True)
                ran = report.topics[0]
                errors = [c for c in ran.checks if c.status == ERROR]
                if errors:
                    raise _CheckBroke(f"check {errors[0].id} failed internally on mutant {mutant.id} ({mutant.description}): {errors[0].message}")
                failed = [c for c in ran.checks if c.status != PASSED]
                error = ran.error
        declared = topic.selftest.equivalent.get(mutant.id)
        if declared is not None:
            if failed:
                raise _CheckBroke(
                    f"{course.path.name} declares mutant {mutant.id} equivalent ({declared!r}), but check {failed[0].id} tells it apart: remove the declaration"
                )
            return MutantResult(mutant, EQUIVALENT, why=declared, diff=diff)
        if failed:
            return MutantResult(mutant, KILLED, killed_by=failed[0].id, why=_first_line(failed[0].message or error or ""))
        return MutantResult(mutant, SURVIVED, exercised_by=reaching, diff=diff)

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(_catching, grade_one, m) for m in candidates]
        for done, _ in enumerate(as_completed(futures), 1):
            if progress is not None:
                progress(topic.id, done, len(candidates))
    for future in futures:  # in source order, whatever order they finished in
        outcome = future.result()
        if isinstance(outcome, str):
            result.problems.append(outcome)
        else:
            result.mutants.append(outcome)
    result.seconds = time.monotonic() - started
    return result


class _CheckBroke(Exception):
    """A check or a declaration is wrong: a problem for the instructor, not a mutant's score."""


def _catching(fn: Callable[[Mutant], MutantResult], mutant: Mutant) -> MutantResult | str:
    try:
        return fn(mutant)
    except _CheckBroke as exc:
        return str(exc)


def _grade(grader: Grader, topic: Topic, text: str, label: str) -> Report:
    return grader.grade(Submission.from_texts(label, {topic.id: text}), topics=[topic.id])


def _unexpected(report: Report, wanted: str) -> dict[str, str]:
    topic = report.topics[0]
    return {c.id: f"{c.status}: {_first_line(c.message or topic.error or '')}" for c in topic.checks if c.status != wanted}


def _internal_errors(report: Report, what: str) -> list[str]:
    return [f"check {c.id} failed internally on {what}: {c.message}" for c in report.topics[0].checks if c.status == ERROR]


def _canonical(report: Report) -> str:
    return json.dumps(report.to_dict(), sort_keys=True)


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""


def _callers(source: str) -> dict[str, set[str]]:
    """Top-level name -> the top-level functions and classes that reach it through calls within the module."""
    tree = ast.parse(source)
    defined = {n.name: n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
    uses = {name: {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and n.id in defined and n.id != name} for name, node in defined.items()}
    reached_by: dict[str, set[str]] = {name: {name} for name in defined}
    for caller in defined:
        stack, seen = list(uses[caller]), set()
        while stack:
            name = stack.pop()
            if name not in seen:
                seen.add(name)
                reached_by[name].add(caller)
                stack.extend(uses[name])
    return reached_by


def run(*, course: Course, topics: Sequence[str], devices: Sequence[str], sandbox: str, jobs: int, progress: Callable[[str, int, int], None] | None = None) -> SelfTestReport:
    """Self-test the chosen topics (all when ``topics`` is empty) with one grader."""
    started = time.monotonic()
    chosen = [course.topic(t) for t in topics] if topics else list(course.topics)
    with Grader(course=course, sandbox=sandbox, devices=devices) as grader:
        results = [selftest_topic(grader=grader, topic=topic, jobs=jobs, progress=progress) for topic in chosen]
        report = SelfTestReport(course.title, grader.mode, jobs, results, notes=list(grader.notes))
    report.seconds = time.monotonic() - started
    return report


def main(*, course: Path | None, topics: Sequence[str], device: str, fmt: str, output: Path | None, sandbox: str, jobs: int | None) -> int:
    """``grade selftest``: 0 when every chosen topic passes, 1 when one does not (config and usage errors raise)."""
    from .errors import UsageError
    from .grading import resolve_devices
    from .renderers.selftest import render
    from .config import RECORDED, load_course
    from .output import deliver
    from .run import locate_course

    course_obj = load_course(locate_course(course, Path.cwd()))
    if course_obj.reference == RECORDED:
        raise UsageError(f"{course_obj.path}: a student bundle (reference: {RECORDED}) has no reference solutions to mutate; run grade selftest in the course itself")
    for topic in topics:
        course_obj.topic(topic)
    if jobs is not None and jobs < 1:
        raise UsageError(f"--jobs {jobs}: expected at least 1")
    show_progress = sys.stderr.isatty()

    def progress(topic: str, done: int, total: int) -> None:
        if show_progress:
            sys.stderr.write(f"\r{topic}: {done}/{total} mutants graded" + ("\n" if done == total else ""))
            sys.stderr.flush()

    report = run(course=course_obj, topics=topics, devices=resolve_devices(device), sandbox=sandbox, jobs=jobs or default_jobs(), progress=progress)
    deliver(lambda f: render(report, f), fmt=fmt, output=output)
    return 0 if report.passed else 1
