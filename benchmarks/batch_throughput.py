"""`grade batch` throughput on a class of whole-course submissions, one at a time against one per core, in one run.

    .venv/bin/python benchmarks/batch_throughput.py [--students 100]

Each submission is a folder with every topic's file: per topic the reference, one of its known mistakes
(tests/mistakes/<topic>.yaml) or the untouched stub, drawn with a fixed seed. Every check runs, public and hidden, in
the strongest sandbox this machine offers; each run is a fresh `grade batch` process (start-up included).
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from autograder.course.config import load_course  # noqa: E402
from mistakes import known_mistakes  # noqa: E402

BIN = Path(sys.executable).parent


def build(folder: Path, students: int) -> None:
    rng = random.Random(0)
    topics = [t.id for t in load_course(ROOT / "course.yaml").topics]
    variants = {t: [(ROOT / "solutions" / f"{t}.py").read_text(), (ROOT / "exercises" / f"{t}.py").read_text(), *(k.source for k in known_mistakes(t).values())] for t in topics}
    for i in range(students):
        (folder / f"student{i:03d}").mkdir(parents=True)
        for topic in topics:
            (folder / f"student{i:03d}" / f"{topic}.py").write_text(rng.choice(variants[topic]))


def timed_batch(submissions: Path, out: Path, jobs: int) -> float:
    start = time.perf_counter()
    subprocess.run([str(BIN / "grade"), "batch", str(submissions), "--out", str(out), "--jobs", str(jobs), "--course", str(ROOT / "course.yaml")], check=True, capture_output=True, env={**os.environ, "AUTOGRADER_SECRET": "benchmark"})
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=100)
    args = parser.parse_args()
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as tmp:
        build(Path(tmp) / "submissions", args.students)
        serial = timed_batch(Path(tmp) / "submissions", Path(tmp) / "one", 1)
        parallel = timed_batch(Path(tmp) / "submissions", Path(tmp) / "all", cores)
    n = args.students
    topics = len(load_course(ROOT / "course.yaml").topics)
    print(f"grade batch: {n} submissions of the whole course ({topics} topics each), {cores} usable cores")
    print(f"  {'':26}{'total (s)':>11}{'per submission (s)':>20}{'submissions/min':>17}")
    for label, seconds in (("--jobs 1", serial), (f"--jobs {cores}", parallel)):
        print(f"  {label:26}{seconds:11.1f}{seconds / n:20.2f}{60 * n / seconds:17.1f}")
    print(f"  speed-up {serial / parallel:.2f}x")


if __name__ == "__main__":
    main()
