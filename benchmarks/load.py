"""`grade batch` idle and on a saturated machine: the wall time of each, and whether any grade changed (issue 17).

    .venv/bin/python benchmarks/load.py [--busy N] [--jobs J] [--copies K] [--cpu-s S] [--wall-s S] [--after-timeout-s S]

The class is the information topic alone with small budgets (by default 1 s of CPU and 1 s asleep per check, 0.5 s
once a check of the topic ran out of time): K copies of the reference, the untouched stub, a known mistake (the Gaussian KL without
its 1/2), an infinite loop and a sleep of 10**6 s, each on the first call of one function in a worker. Each run is a
fresh `grade batch` process (start-up included) in the strongest sandbox this machine offers; the saturated run has N
processes computing in a loop the whole time (default: 4 per usable core). Prints the wall time of each run and their
ratio, whether gradebook.csv, summary.json and each results.json (but for its timing keys) are identical, and the
points per submission in both runs. Exits with 1 when the runs disagree.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from autograder.engine.results import TIMINGS, without_timings  # noqa: E402
from conftest import topic_course  # noqa: E402
from test_load import BUG, LOOP, REFERENCE, SLEEP, STUB  # noqa: E402

LIMITS = {"cpu_s": 1, "wall_s": 1, "after_timeout_s": 0.5, "memory_mb": 1024}


def build(folder: Path, copies: int, limits: dict[str, float]) -> Path:
    """The class in ``folder``/submissions, made of tests/test_load.py's submissions; returns the course.yaml (the
    information topic alone, over the repository's course files)."""
    sources = {f"reference{i + 1}": REFERENCE for i in range(copies)}
    sources |= {"stub": STUB, "gaussian_kl_no_half": BUG.source, "loop_in_entropy": LOOP, "sleep_in_softmax_ce": SLEEP}
    for name, text in sources.items():
        (folder / "submissions" / name).mkdir(parents=True)
        (folder / "submissions" / name / "information.py").write_text(text)
    (folder / "course").mkdir()
    return topic_course(folder / "course", "information", **limits)


def timed_batch(submissions: Path, out: Path, course: Path, jobs: int) -> tuple[float, int]:
    start = time.perf_counter()
    command = [sys.executable, "-m", "autograder", "batch", str(submissions), "--out", str(out), "--course", str(course), "--jobs", str(jobs), "--allow-process-sandbox"]
    done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "AUTOGRADER_SECRET": "benchmark"}, cwd=ROOT)
    seconds = time.perf_counter() - start
    if done.returncode not in (0, 3):  # 3: a check the grader could not grade (a starved one): shown in the table
        sys.exit(f"grade batch --jobs {jobs} exited with {done.returncode}:\n{done.stderr}")
    return seconds, done.returncode


def results(out: Path, name: str) -> Any:
    try:
        return without_timings(json.loads((out / "submissions" / name / "results.json").read_text()))
    except OSError:
        return None


def rows(out: Path) -> dict[str, dict[str, str]]:
    return {r["submission"]: r for r in csv.DictReader(io.StringIO((out / "gradebook.csv").read_text()))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    parser.add_argument("--busy", type=int, default=4 * cores, help="busy processes of the saturated run (default: 4 per usable core)")
    parser.add_argument("--jobs", type=int, default=cores, help="grade batch --jobs, both runs (default: the usable cores)")
    parser.add_argument("--copies", type=int, default=3, help="copies of the reference in the class")
    parser.add_argument("--cpu-s", type=float, default=LIMITS["cpu_s"], help="limits.cpu_s of the course")
    parser.add_argument("--wall-s", type=float, default=LIMITS["wall_s"], help="limits.wall_s of the course")
    parser.add_argument("--after-timeout-s", type=float, default=LIMITS["after_timeout_s"], help="limits.after_timeout_s of the course")
    args = parser.parse_args()
    limits = {**LIMITS, "cpu_s": args.cpu_s, "wall_s": args.wall_s, "after_timeout_s": args.after_timeout_s}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        course = build(folder, args.copies, limits)
        idle, idle_rc = timed_batch(folder / "submissions", folder / "idle", course, args.jobs)
        busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"], stdin=subprocess.DEVNULL) for _ in range(args.busy)]
        try:
            loaded, loaded_rc = timed_batch(folder / "submissions", folder / "loaded", course, args.jobs)
            held = all(p.poll() is None for p in busy)
        finally:
            for p in busy:
                p.kill()
            for p in busy:
                p.wait()
        same = {name: (folder / "idle" / name).read_bytes() == (folder / "loaded" / name).read_bytes() for name in ("gradebook.csv", "summary.json")}
        names = sorted(p.name for p in (folder / "submissions").iterdir())
        differ = [n for n in names if results(folder / "idle", n) != results(folder / "loaded", n)]
        a, b = rows(folder / "idle"), rows(folder / "loaded")
    print(f"grade batch --jobs {args.jobs}: {len(names)} submissions of the information topic (cpu_s {limits['cpu_s']:g}, wall_s {limits['wall_s']:g}, after_timeout_s {limits['after_timeout_s']:g}), {cores} usable cores")
    print(f"  {'':34}{'idle':>10}{f'{args.busy} busy':>12}{'ratio':>9}")
    print(f"  {'wall time (s)':34}{idle:10.1f}{loaded:12.1f}{loaded / idle:9.2f}")
    print(f"  {'exit status':34}{idle_rc:10d}{loaded_rc:12d}")
    for name in names:
        points = [f"{float(r[name]['total']):g}/{float(r[name]['max']):g}" if name in r and r[name]["status"] == "graded" else (r.get(name, {}).get("status") or "missing") for r in (a, b)]
        print(f"  {name:34}{points[0]:>10}{points[1]:>12}{'' if points[0] == points[1] else '  differs':>9}")
    print(f"  gradebook.csv byte-identical: {'yes' if same['gradebook.csv'] else 'NO'}; summary.json: {'yes' if same['summary.json'] else 'NO'}; "
          f"results.json identical but for {', '.join(sorted(TIMINGS))}: {'yes' if not differ else 'NO (' + ', '.join(differ) + ')'}")
    if not held:
        print("  note: a busy process ended during the saturated run: the machine was not saturated throughout")
    if differ or not all(same.values()):
        sys.exit(1)


if __name__ == "__main__":
    main()
