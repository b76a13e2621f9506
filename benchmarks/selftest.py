"""How long `grade selftest` takes, and what makes it fast, measured side by side in one run.

    .venv/bin/python benchmarks/selftest.py [--topic convolution] [--sample 24]

1. the whole self-test of one topic under the kill rule (a mutant is killed only if each of 8 course secrets kills
   it) vs under one secret, one mutant per usable core: what the rule costs, as a ratio;
2. grading a sample of its mutants on every check, through the fork server (strict sandbox, as the self-test does)
   vs through workers that are fresh interpreters (what every mutant would cost without the fork server), as a
   ratio. (The self-test itself stops at a mutant's first lost point, so it costs less per mutant than either.)
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("AUTOGRADER_SECRET", "benchmark")

from autograder.course.config import load_course  # noqa: E402
from autograder.course.submission import Submission  # noqa: E402
from autograder.engine.grading import Grader, default_jobs  # noqa: E402
from autograder.selftest import runner as selftest  # noqa: E402
from autograder.selftest.mutation import mutants  # noqa: E402


def whole_topic(course, topic: str, jobs: int, secrets: int) -> tuple[float, int]:
    chosen = course.topic(topic)
    course = dataclasses.replace(course, topics=(dataclasses.replace(chosen, selftest=dataclasses.replace(chosen.selftest, secrets=secrets)),))
    start = time.perf_counter()
    report = selftest.run(course=course, topics=[topic], devices=["cpu"], sandbox="auto", jobs=jobs)
    return time.perf_counter() - start, len(report.topics[0].mutants)


def sample_rate(course, topic: str, sources: list[str], jobs: int, *, forkserver: bool) -> float:
    """Seconds per mutant, grading ``sources`` with ``jobs`` threads (grader start-up excluded)."""
    sandbox = "auto" if forkserver else "process"
    with Grader(course=course, sandbox=sandbox, devices=["cpu"], use_forkserver=forkserver) as grader:
        grader.grade(Submission.from_texts("warm-up", {topic: sources[0]}), topics=[topic])
        cpu_s = course.topic(topic).selftest.cpu_s
        start = time.perf_counter()
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            list(pool.map(lambda s: grader.grade(Submission.from_texts("m", {topic: s}), topics=[topic], cpu_s=cpu_s), sources))
        return (time.perf_counter() - start) / len(sources)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--topic", default="convolution")
    parser.add_argument("--sample", type=int, default=24, help="mutants graded for the fork-server comparison")
    args = parser.parse_args()
    course = load_course(ROOT / "course.yaml")
    jobs = default_jobs()
    print(f"self-test of {args.topic!r}, {jobs} usable cores")

    secrets = course.topic(args.topic).selftest.secrets
    single, count = whole_topic(course, args.topic, jobs, 1)
    rule, _ = whole_topic(course, args.topic, jobs, secrets)
    print(f"  whole topic ({count} mutants, {jobs} at a time), 1 secret        {single:8.1f} s")
    print(f"  whole topic ({count} mutants, {jobs} at a time), {secrets} secrets       {rule:8.1f} s   ({rule / single:.2f}x the cost)")

    found = mutants(course.topic(args.topic).solution.read_text(encoding="utf-8"))
    step = max(1, len(found) // args.sample)
    sample = [m.source for m in found[::step][: args.sample]]
    warm = sample_rate(course, args.topic, sample, jobs, forkserver=True)
    cold = sample_rate(course, args.topic, sample, jobs, forkserver=False)
    checks = len(course.topic(args.topic).checks)
    print(f"  one mutant on all {checks} checks ({len(sample)} sampled, {jobs} at a time):")
    print(f"    worker from the fork server (strict)     {1000 * warm:8.0f} ms")
    print(f"    worker is a fresh interpreter (process)  {1000 * cold:8.0f} ms   ({cold / warm:.1f}x slower)")


if __name__ == "__main__":
    main()
