"""What one topic's whole check set costs in CPU time, check by check, against the 1.5 s a topic may cost.

    .venv/bin/python benchmarks/topic_cost.py [--topic vae] [--repeat 3]

Grades the reference (every check passes, so every check runs to its end: the most a submission's checks can cost)
with one warm grader (after one grading that is not measured: its first imports), on the CPU, each topic alone, and prints per check the worker's CPU time (the student's code:
``cpu_s`` in the report) and the grader's (the check's own code and the reference, measured with getrusage between
one check's result and the next), then each topic's total beside the budget, as a ratio. Medians over --repeat runs.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("AUTOGRADER_SECRET", "benchmark")

from autograder.course.config import load_course  # noqa: E402
from autograder.course.submission import Submission  # noqa: E402
from autograder.engine.grading import Grader  # noqa: E402

BUDGET_S = 1.5  # a topic's whole check set, training and sampling included (issue 20)


def _self_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure(grader: Grader, submission: Submission, topic: str) -> dict[str, tuple[float, float]]:
    """check id -> (worker CPU s, grader CPU s) for one grading of ``topic``."""
    costs: dict[str, tuple[float, float]] = {}
    mark = [_self_cpu()]

    def heard(_topic: str, result) -> None:  # type: ignore[no-untyped-def]
        now = _self_cpu()
        costs[result.id] = (result.cpu_s, now - mark[0])
        mark[0] = now

    grader.grade(submission, topics=[topic], devices=["cpu"], on_check=heard)
    return costs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--topic", action="append", help="only this topic (repeatable; default: all)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    course = load_course(ROOT / "course.yaml")
    topics = args.topic or [t.id for t in course.topics]
    submission = Submission.from_path(ROOT / "solutions", course)
    totals = {}
    with Grader(course=course, devices=["cpu"]) as grader:
        print(f"sandbox: {grader.mode}; the reference of each topic, {args.repeat} runs, medians; CPU seconds")
        grader.grade(submission, topics=topics, devices=["cpu"])  # not measured: the grader's first imports of each topic
        for topic in topics:
            runs = [measure(grader, submission, topic) for _ in range(args.repeat)]
            print(f"\n{topic}: {'check':34s} {'worker':>8s} {'grader':>8s} {'total':>8s}")
            total = 0.0
            for check in runs[0]:
                worker = statistics.median(r[check][0] for r in runs)
                own = statistics.median(r[check][1] for r in runs)
                total += worker + own
                print(f"  {check:40s} {worker:8.3f} {own:8.3f} {worker + own:8.3f}")
            totals[topic] = total
    print(f"\n{'topic':14s} {'CPU s':>7s} {'budget':>7s} {'ratio':>6s}")
    for topic, total in totals.items():
        print(f"{topic:14s} {total:7.2f} {BUDGET_S:7.2f} {total / BUDGET_S:6.2f}")


if __name__ == "__main__":
    main()
