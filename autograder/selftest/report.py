"""The self-test's results: per topic, whether the reference passes, the stub is untouched, results repeat, inputs
vary with the seed, and what became of each mutant of the reference."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .mutation import Mutant

__all__ = ["KILLED", "SURVIVED", "EQUIVALENT", "MutantResult", "TopicSelfTest", "SelfTestReport"]

KILLED, SURVIVED, EQUIVALENT = "killed", "survived", "equivalent"


@dataclass
class MutantResult:
    mutant: Mutant
    status: str  # killed | survived | equivalent
    killed_by: str = ""  # the first check that took points from it
    exercised_by: list[str] = field(default_factory=list)  # checks that call the function it changes (survivors)
    why: str = ""  # equivalent: why no input tells it apart; killed: the first failing check's message
    diff: str = ""
    secrets: int = 0  # how many course secrets it was graded under (the search stops at the first it survives)
    killed_under: int = 0  # how many of those killed it


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
    fixed_inputs: list[str] = field(default_factory=list)  # checks whose inputs do not vary with the seed, undeclared
    declared_fixed: dict[str, str] = field(default_factory=dict)  # check id -> why course.yaml lets its inputs be fixed
    mutants: list[MutantResult] = field(default_factory=list)
    secrets: int = 1  # course secrets each mutant is graded under
    removed: dict[str, list[str]] = field(default_factory=dict)  # unit -> the checks that lose points without it
    problems: list[str] = field(default_factory=list)  # the check code or course.yaml is wrong
    seconds: float = 0.0

    def count(self, status: str) -> int:
        return sum(1 for m in self.mutants if m.status == status)

    def per_secret(self) -> list[tuple[int, int]]:
        """(graded, killed) under each secret in turn: a mutant is graded under the next only if this one killed it."""
        counted = [m for m in self.mutants if m.status != EQUIVALENT]
        return [(sum(1 for m in counted if m.secrets > i), sum(1 for m in counted if m.killed_under > i)) for i in range(self.secrets)]

    @property
    def seed_dependent(self) -> list[MutantResult]:
        """Survivors that some secrets' inputs kill: the checks catch them only by luck of the draw."""
        return [m for m in self.mutants if m.status == SURVIVED and m.killed_under > 0]

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
            and not self.fixed_inputs
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
            "inputs": {"passed": not self.fixed_inputs, "fixed": self.fixed_inputs, "declared_fixed": self.declared_fixed},
            "mutants": {
                "total": len(self.mutants),
                "killed": self.count(KILLED),
                "survived": self.count(SURVIVED),
                "equivalent": self.count(EQUIVALENT),
                "score": self.score,
                "threshold": self.threshold,
                "secrets": self.secrets,
                "per_secret": [{"graded": g, "killed": k} for g, k in self.per_secret()],
            },
            "partial_credit": {"units": self.removed},
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
        "secrets": result.secrets,
        "killed_under": result.killed_under,
        "why": result.why,
    }
