"""``grade selftest``: are a topic's checks strong enough to grade with?

Per topic, through the normal grading path (sandbox included):

1. the reference solution passes every check on every device;
2. the stub is "not attempted" on every check;
3. grading the reference twice gives byte-identical results;
4. every check's inputs vary with the seed: graded as another submission, the reference gets other inputs, unless
   course.yaml declares the check's inputs fixed (with the reason they cannot vary). A check that sends the same
   inputs whatever the seed is passed by a lookup table of the answers a student has seen;
5. single-point mutants of the reference (:mod:`autograder.selftest.mutation`) lose points under every one of
   ``selftest.secrets`` course secrets (8 by default): random inputs must not decide whether a bug is caught, so a
   mutant one secret's inputs let through survives. The share killed is the topic's mutation score; it must reach
   the topic's threshold. A mutant that compiles to the reference's own bytecode, or that course.yaml declares
   equivalent (with the reason no input can tell it apart), is listed and not counted;
6. partial credit (:mod:`autograder.selftest.units`): the reference with one unit of the stub removed loses points only
   on that unit's checks: every unit costs some check, and a check that loses points for several units beyond the
   reference's own calls declares them (``@check(..., combines=...)``).

The self-test grades as the course does, with a secret (its own, so that its results do not depend on where it
runs): public checks draw their inputs from it and the submission, like hidden ones. Mutants are graded on the CPU,
several at a time, by one grader whose fork server starts each worker in milliseconds; each check of a mutant gets
``selftest.cpu_s`` rather than the students' limits.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any, Callable, Sequence

from ..course.config import Course, Topic
from ..course.submission import Submission
from ..engine.grading import Grader
from ..engine.results import ERROR, NOT_ATTEMPTED, PASSED, CheckResult, Report, without_timings
from ..errors import UsageError
from .mutation import Mutant, mutants, same_bytecode
from .units import reach, remove, units
from .report import EQUIVALENT, KILLED, SURVIVED, MutantResult, SelfTestReport, TopicSelfTest

__all__ = ["selftest_topic", "run", "main"]

_SECRET = b"grade selftest"  # the self-test's course secret: any fixed one makes its results repeatable
_RESEED = "\n# the same code under another submission's seed\n"


def selftest_topic(*, grader: Grader, topic: Topic, jobs: int, progress: Callable[[str, int, int], None] | None = None) -> TopicSelfTest:
    """Run the five self-test steps for one topic with an open grader (its devices are the reference's devices) that
    grades with a course secret (``run`` gives it the self-test's own)."""
    started = time.monotonic()
    course: Course = grader.course
    if course.secret() is None:
        raise UsageError(f"{course.path.name}: the self-test needs a grader with a course secret, or public inputs never vary with the seed")
    result = TopicSelfTest(topic.id, topic.title, len(topic.checks), [d for d in grader.devices if d in topic.devices] or grader.devices[:1], topic.selftest.threshold)
    reference_text = topic.solution.read_text(encoding="utf-8")
    label = f"solutions/{topic.id}.py"

    first = _grade(grader, topic, reference_text, "reference")
    result.reference_failures = _unexpected(first, PASSED)
    result.problems += _internal_errors(first, "the reference solution")
    second = _grade(grader, topic, reference_text, "reference")
    result.deterministic = _canonical(first) == _canonical(second)

    # Another submission's digest, so another seed for every check: a check that sends the same inputs is passed by a
    # lookup table of the answers to what it sends.
    seen = grader.inputs(topic.id)
    reseeded = _grade(grader, topic, reference_text + _RESEED, "reference")
    result.reference_failures = {**_unexpected(reseeded, PASSED), **result.reference_failures}
    result.problems += _internal_errors(reseeded, "the reference solution under another seed")
    drawn = grader.inputs(topic.id)
    fixed = [c for c in topic.checks if seen.get(c) == drawn.get(c)]
    declared = topic.selftest.fixed_inputs
    result.fixed_inputs = [c for c in fixed if c not in declared]
    result.declared_fixed = dict(declared)
    at = f"topics[{course.topics.index(topic)}].selftest.fixed_inputs"
    for check_id in declared:
        if check_id not in fixed:
            result.problems.append(f"{course.path.name}: {at}.{check_id}: the inputs of check {check_id} vary with the seed: remove the declaration")

    stub = _grade(grader, topic, topic.stub.read_text(encoding="utf-8"), "stub")
    result.stub_failures = _unexpected(stub, NOT_ATTEMPTED)

    calls = grader.calls(topic.id)
    reached = reach(reference_text)
    candidates = mutants(reference_text)
    known = {m.id for m in candidates}
    at = f"topics[{course.topics.index(topic)}].selftest.equivalent"
    for stale in sorted(set(topic.selftest.equivalent) - known):
        result.problems.append(f"{course.path.name}: {at}: no mutant {stale} in {label} any more (the reference changed?); remove it")
    secrets = [_SECRET] + [_SECRET + b" %d" % i for i in range(1, topic.selftest.secrets)]
    result.secrets = len(secrets)

    def first_failure(source: str, batches: list[list[str]], secret: bytes, what: str) -> tuple[list[CheckResult], str | None]:
        """Grade ``batches`` in turn, stopping at the first check that loses points: (the checks that did, topic error)."""
        for batch in batches:
            if batch:
                report = grader.grade(Submission.from_texts("mutant", {topic.id: source}), topics=[topic.id], devices=["cpu"], cpu_s=topic.selftest.cpu_s, checks=batch, until_failure=True, secret=secret)
                ran = report.topics[0]
                errors = [c for c in ran.checks if c.status == ERROR]
                if errors:
                    raise _CheckBroke(f"check {errors[0].id} failed internally on {what}: {errors[0].message}")
                failed = [c for c in ran.checks if c.status != PASSED]
                if failed:
                    return failed, ran.error
        return [], None

    def grade_one(mutant: Mutant) -> MutantResult:
        diff = mutant.diff(reference_text, label)
        if same_bytecode(reference_text, mutant.source):
            return MutantResult(mutant, EQUIVALENT, why="compiles to the same bytecode as the reference", diff=diff)
        # The checks that reach the changed function run first, and grading stops at the first lost point: a killed
        # mutant costs a check or two. Only a mutant that passes those meets the other checks too.
        top = mutant.function.split(".")[0]
        entry_points = {name.split(".")[0] for name, runs in reached.items() if any(r.split(".")[0] == top for r in runs)} or {top}
        reaching = [c for c in topic.checks if top == "<module>" or calls.get(c, set()) & entry_points]
        what = f"mutant {mutant.id} ({mutant.description})"
        declared = topic.selftest.equivalent.get(mutant.id)
        if declared is not None:
            failed, _ = first_failure(mutant.source, [reaching, [c for c in topic.checks if c not in reaching]], secrets[0], what)
            if failed:
                raise _CheckBroke(f"{course.path.name} declares mutant {mutant.id} equivalent ({declared!r}), but check {failed[0].id} tells it apart: remove the declaration")
            return MutantResult(mutant, EQUIVALENT, why=declared, diff=diff)
        # Killed only if every secret's inputs kill it: random inputs must not decide whether a bug is caught. The check
        # that killed it under one secret goes first under the next; the first secret it survives ends the search.
        killer, why = "", ""
        for graded, secret in enumerate(secrets):
            first = [killer] if killer else []
            batches = [first + [c for c in reaching if c != killer], [c for c in topic.checks if c not in reaching and c != killer]]
            failed, error = first_failure(mutant.source, batches, secret, what)
            if not failed:
                return MutantResult(mutant, SURVIVED, exercised_by=reaching, diff=diff, secrets=graded + 1, killed_under=graded, killed_by=killer)
            if not killer:
                killer, why = failed[0].id, _first_line(failed[0].message or error or "")
        return MutantResult(mutant, KILLED, killed_by=killer, why=why, secrets=len(secrets), killed_under=len(secrets))

    def remove_one(unit: str) -> tuple[str, list[str]]:
        report = grader.grade(Submission.from_texts("removed", {topic.id: remove(reference_text, unit).source}), topics=[topic.id], devices=["cpu"], cpu_s=topic.selftest.cpu_s, secret=secrets[0])
        ran = report.topics[0]
        errors = [c for c in ran.checks if c.status == ERROR]
        if errors:
            raise _CheckBroke(f"check {errors[0].id} failed internally on the reference without {unit}: {errors[0].message}")
        return unit, [c.id for c in ran.checks if c.status != PASSED and c.id not in result.reference_failures]  # what the unit costs

    stub_units = units(topic.stub.read_text(encoding="utf-8"))
    jobs_list = [(grade_one, m) for m in candidates] + [(remove_one, u) for u in stub_units]
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(_catching, fn, item) for fn, item in jobs_list]
        for done, _ in enumerate(as_completed(futures), 1):
            if progress is not None:
                progress(topic.id, done, len(futures))
    for future in futures:  # in source order, whatever order they finished in
        outcome = future.result()
        if isinstance(outcome, str):
            result.problems.append(outcome)
        elif isinstance(outcome, MutantResult):
            result.mutants.append(outcome)
        else:
            result.removed[outcome[0]] = outcome[1]
    result.problems += _partial_credit(result.removed, reached, {c.id: c.combines for c in grader.checks(topic.id)}, stub_units)
    result.seconds = time.monotonic() - started
    return result


class _CheckBroke(Exception):
    """A check or a declaration is wrong: a problem for the instructor, not a mutant's score."""


def _catching(fn: Callable[[Any], Any], item: Any) -> Any:
    try:
        return fn(item)
    except _CheckBroke as exc:
        return str(exc)


def _partial_credit(removed: dict[str, list[str]], reached: dict[str, set[str]], combines: dict[str, tuple[str, ...]], stub_units: list[str]) -> list[str]:
    """What a missing unit costs must be that unit's own checks: every unit costs some check, and a check that loses
    points for several units (beyond the reference's own calls) declares them in ``combines``."""
    problems = [f"removing {u} alone from the reference costs no check: nothing grades {u}" for u in stub_units if u in removed and not removed[u]]
    needs: dict[str, set[str]] = {}
    for unit, lost in removed.items():
        for check_id in lost:
            needs.setdefault(check_id, set()).add(unit)
    for check_id, declared in combines.items():
        unknown = [u for u in declared if u not in stub_units]
        if unknown:
            problems.append(f"check {check_id} declares combines={unknown[0]!r}, which is not a unit of the stub (one of: {', '.join(stub_units)})")
        unneeded = [u for u in declared if u in stub_units and u in removed and check_id not in removed[u]]
        if unneeded:
            problems.append(f"check {check_id} declares combines={unneeded[0]!r}, but keeps its points without it: remove the declaration")
        # A unit the reference runs from another needed unit is that one's business (steps_to_tolerance runs sgd).
        need = needs.get(check_id, set())
        roots = {u for u in need if not any(u in reached.get(v, ()) and v not in reached.get(u, ()) for v in need if v != u)}
        mutual = sorted(roots)
        roots = {u for u in roots if not any(v < u and u in reached.get(v, ()) for v in mutual)}  # one of units that run each other
        own = roots - set(declared)
        if len(own) > 1:
            problems.append(
                f"check {check_id} loses its points when any of {', '.join(sorted(own))} is missing: a student who skipped one loses the others' credit;"
                f" grade each in a check of its own, or declare combines=(...) on the check and say so in its title"
            )
    return problems


def _grade(grader: Grader, topic: Topic, text: str, label: str) -> Report:
    return grader.grade(Submission.from_texts(label, {topic.id: text}), topics=[topic.id])


def _unexpected(report: Report, wanted: str) -> dict[str, str]:
    topic = report.topics[0]
    return {c.id: f"{c.status}: {_first_line(c.message or topic.error or '')}" for c in topic.checks if c.status != wanted}


def _internal_errors(report: Report, what: str) -> list[str]:
    return [f"check {c.id} failed internally on {what}: {c.message}" for c in report.topics[0].checks if c.status == ERROR]


def _canonical(report: Report) -> str:
    return json.dumps(without_timings(report.to_dict()), sort_keys=True)


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""


def run(*, course: Course, topics: Sequence[str], devices: Sequence[str], sandbox: str, jobs: int, progress: Callable[[str, int, int], None] | None = None) -> SelfTestReport:
    """Self-test the chosen topics (all when ``topics`` is empty) with one grader, under the self-test's secret."""
    started = time.monotonic()
    chosen = [course.topic(t) for t in topics] if topics else list(course.topics)
    with Grader(course=dataclasses.replace(course, given_secret=_SECRET), sandbox=sandbox, devices=devices) as grader:
        results = [selftest_topic(grader=grader, topic=topic, jobs=jobs, progress=progress) for topic in chosen]
        report = SelfTestReport(course.title, grader.mode, jobs, results, notes=list(grader.notes))
    report.seconds = time.monotonic() - started
    return report


def main(*, course: Path | None, topics: Sequence[str], device: str, fmt: str, output: Path | None, sandbox: str, jobs: int | None) -> int:
    """``grade selftest``: 0 when every chosen topic passes, 1 when one does not (config and usage errors raise)."""
    from ..course.config import RECORDED, load_course, locate_course
    from ..engine.grading import default_jobs, resolve_devices
    from ..errors import UsageError
    from ..reports.output import deliver
    from .render import render

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
