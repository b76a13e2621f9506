"""`grade batch --cluster` against `grade batch` on this machine, on the same class, in one run.

    .venv/bin/python benchmarks/cluster.py [--students 100]

The class is benchmarks/batch_throughput.py's: whole-course submissions, each topic the reference, a known mistake
or the stub, drawn with a fixed seed. It is graded three times, each a fresh `grade batch` process (start-up
included; for a cluster, starting its workers and their Graders too): locally with --jobs 2, on --cluster local:2
(two one-thread Dask workers) and on --cluster local:1. The figures: the cluster path's cost against the local one
at the same parallelism (their ratio), and how a cluster scales from one worker to two. The three gradebooks must
be byte-identical.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

from batch_throughput import build  # noqa: E402

from autograder.course.config import load_course  # noqa: E402

BIN = Path(sys.executable).parent


def timed_batch(submissions: Path, out: Path, *how: str) -> float:
    start = time.perf_counter()
    done = subprocess.run([str(BIN / "grade"), "batch", str(submissions), "--out", str(out), "--course", str(ROOT / "course.yaml"), *how], capture_output=True, text=True, env={**os.environ, "AUTOGRADER_SECRET": "benchmark"})
    if done.returncode not in (0, 4):
        sys.exit(f"grade batch {' '.join(how)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=100)
    args = parser.parse_args()
    n, topics = args.students, len(load_course(ROOT / "course.yaml").topics)
    runs = {"local, --jobs 2": ("--jobs", "2"), "--cluster local:2": ("--cluster", "local:2"), "--cluster local:1": ("--cluster", "local:1")}
    with tempfile.TemporaryDirectory() as tmp:
        build(Path(tmp) / "submissions", n)
        seconds = {label: timed_batch(Path(tmp) / "submissions", Path(tmp) / f"out{i}", *how) for i, (label, how) in enumerate(runs.items())}
        books = {(Path(tmp) / f"out{i}" / "gradebook.csv").read_bytes() for i in range(len(runs))}
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    print(f"grade batch: {n} submissions of the whole course ({topics} topics each), {cores} usable cores")
    print(f"  {'':22}{'total (s)':>11}{'per submission (s)':>20}{'submissions/min':>17}")
    for label, s in seconds.items():
        print(f"  {label:22}{s:11.1f}{s / n:20.2f}{60 * n / s:17.1f}")
    local, two, one = seconds.values()
    print(f"  cluster path against local, 2 at a time: {two / local:.2f}x the time ({two - local:+.1f} s)")
    print(f"  local:1 -> local:2: {one / two:.2f}x the throughput")
    print(f"  gradebooks byte-identical: {'yes' if len(books) == 1 else 'NO'}")


if __name__ == "__main__":
    main()
