"""The self-test report: a table per course, then per topic what to fix (text), or plain data (json)."""

from __future__ import annotations

import textwrap

from ..reports.output import to_json
from .report import EQUIVALENT, KILLED, SURVIVED, SelfTestReport, TopicSelfTest

__all__ = ["render"]

_FIXED_INPUTS = (
    "inputs do not vary with the seed: a lookup table of answers passes it; draw its inputs from t.rng or declare it"
    " under selftest.fixed_inputs in course.yaml with a reason"
)
_COLUMNS = ("topic", "checks", "reference", "stub", "repeatable", "seeded", "units", "mutants", "killed", "survived", "equivalent", "score", "threshold", "result")


def render(report: SelfTestReport, fmt: str) -> str:
    if fmt == "json":
        return to_json(report.to_dict())
    return _text(report)


def _percent(share: float | None) -> str:
    return "-" if share is None else f"{100 * share:.1f}%"


def _row(t: TopicSelfTest) -> tuple[str, ...]:
    return (
        t.id,
        str(t.checks),
        "ok" if not t.reference_failures else f"{len(t.reference_failures)} FAIL",
        "ok" if not t.stub_failures else f"{len(t.stub_failures)} FAIL",
        "ok" if t.deterministic else "NO",
        "ok" if not t.fixed_inputs else f"{len(t.fixed_inputs)} FIXED",
        str(len(t.removed)),
        str(len(t.mutants)),
        str(t.count(KILLED)),
        str(t.count(SURVIVED)),
        str(t.count(EQUIVALENT)),
        _percent(t.score),
        f"{100 * t.threshold:g}%",
        "pass" if t.passed else "FAIL",
    )


def _table(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  " + "  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths))).rstrip() for row in rows]


def _text(report: SelfTestReport) -> str:
    lines = [f"{report.course}: self-test (sandbox: {report.sandbox}; {report.jobs} mutants at a time; {report.seconds:.1f} s)"]
    lines += report.notes
    lines += [""] + _table([_COLUMNS] + [_row(t) for t in report.topics])
    secrets = max((t.secrets for t in report.topics), default=1)
    lines += ["", f"A mutant counts as killed only if every one of {secrets} course secrets' inputs kill it; kill rate under each secret in turn (graded, then killed, of the mutants the secrets before it killed):"]
    lines += _table([("topic", *(f"#{i + 1}" for i in range(secrets)))] + [(t.id, *(f"{_percent(k / g if g else None)} of {g}" for g, k in t.per_secret())) for t in report.topics])
    for t in report.topics:
        lines += _topic(t)
    failing = [t for t in report.topics if not t.passed]
    lines += ["", "Self-test passed." if not failing else f"Self-test FAILED: {', '.join(_why(t) for t in failing)}."]
    return "\n".join(lines) + "\n"


def _why(t: TopicSelfTest) -> str:
    reasons = []
    if t.reference_failures:
        reasons.append("the reference fails checks")
    if t.stub_failures:
        reasons.append("the stub is not 'not attempted' everywhere")
    if not t.deterministic:
        reasons.append("results differ between two gradings of the reference")
    if t.fixed_inputs:
        reasons.append(f"the inputs of {len(t.fixed_inputs)} check(s) do not vary with the seed")
    if t.problems:
        reasons.append(f"{len(t.problems)} problem(s) with checks or course.yaml")
    if t.score is not None and t.score < t.threshold:
        reasons.append(f"mutation score {_percent(t.score)} < {100 * t.threshold:g}%")
    return f"{t.id} ({'; '.join(reasons)})"


def _topic(t: TopicSelfTest) -> list[str]:
    lines: list[str] = []
    if t.reference_failures:
        lines += ["", f"{t.id}: the reference solution must pass every check on {', '.join(t.devices)}; these did not:"]
        lines += [f"  {check}: {message}" for check, message in t.reference_failures.items()]
    if t.stub_failures:
        lines += ["", f"{t.id}: every check must report the untouched stub as 'not attempted'; these did not:"]
        lines += [f"  {check}: {message}" for check, message in t.stub_failures.items()]
    if not t.deterministic:
        lines += ["", f"{t.id}: grading the reference twice gave different results: a check draws inputs outside its trial's rng?"]
    if t.fixed_inputs:
        lines += ["", f"{t.id}: the reference graded under two seeds got the same inputs from these checks:"]
        lines += [f"  {check}: {_FIXED_INPUTS}" for check in t.fixed_inputs]
    if t.problems:
        lines += ["", f"{t.id}: problems to fix:"] + [textwrap.indent(p, "  ! ") for p in t.problems]
    survivors = [m for m in t.mutants if m.status == SURVIVED]
    if survivors:
        lines += [
            "",
            f"{t.id}: {len(survivors)} mutant(s) survived. Add a check that tells each apart from the reference, or, when no",
            "input can, declare it under the topic's selftest.equivalent in course.yaml (id: why).",
        ]
        for m in survivors:
            exercised = f"passed every check that reaches {m.mutant.function}: {', '.join(m.exercised_by)}" if m.exercised_by else f"no check reaches {m.mutant.function}, directly or through the functions that call it"
            if m.killed_under:
                exercised = f"killed by {m.killed_by} under {m.killed_under} secret(s), then passed every check under secret #{m.secrets}: the inputs that catch it are drawn only sometimes; always include that corner"
            lines += ["", f"  {m.mutant.id}  (line {m.mutant.line}; {m.mutant.description})", f"    {exercised}", textwrap.indent(m.diff, "    ")]
    if t.declared_fixed:
        lines += ["", f"{t.id}: {len(t.declared_fixed)} check(s) declared with fixed inputs:"]
        lines += [f"  {check}: {why}" for check, why in t.declared_fixed.items()]
    equivalent = [m for m in t.mutants if m.status == EQUIVALENT]
    if equivalent:
        lines += ["", f"{t.id}: {len(equivalent)} equivalent mutant(s), not counted:"]
        lines += [f"  {m.mutant.id}  (line {m.mutant.line}; {m.mutant.description}): {m.why}" for m in equivalent]
    return lines
