"""What a notebook submission costs through `nbgrader autograde` (with the grader `grade release nbgrader` configures)
against `grade run` on the same notebook, side by side in one run.

    .venv/bin/python benchmarks/nbgrader_autograde.py [--topic convolution] [--students 8]

The submissions are the topic's reference, each known mistake of tests/mistakes/<topic>.yaml in turn, and the
untouched stub, as filled-in copies of the released notebook. nbgrader's figure is the whole `nbgrader autograde`
run divided by the number of submissions (nbgrader's start-up, gradebook and file copies included); `grade run` is
one fresh process per notebook, as a student or a CI job runs it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
ENV = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", "AUTOGRADER_SECRET": os.environ.get("AUTOGRADER_SECRET", "benchmark")}


def run(args: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(args, cwd=cwd, env=ENV, check=True, capture_output=True)
    return time.perf_counter() - start


def submissions(course_dir: Path, topic: str, count: int) -> list[Path]:
    source = json.loads((course_dir / "source" / topic / f"{topic}.ipynb").read_text())
    released = json.loads((course_dir / "release" / topic / f"{topic}.ipynb").read_text())
    mistakes = list(yaml.safe_load((ROOT / "tests" / "mistakes" / f"{topic}.yaml").read_text()).values())
    paths = []
    for i in range(count):
        notebook = json.loads(json.dumps(source if i < count - 1 else released))
        if 0 < i < count - 1:
            row = mistakes[(i - 1) % len(mistakes)]
            for cell in notebook["cells"]:
                cell["source"] = "".join(cell["source"]).replace(row["replace"], row["with"])
        path = course_dir / "submitted" / f"student{i:02d}" / topic / f"{topic}.ipynb"
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps(notebook))
        paths.append(path)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--topic", default="convolution")
    parser.add_argument("--students", type=int, default=8)
    args = parser.parse_args()
    totals = {}
    for count in (1, args.students):
        with tempfile.TemporaryDirectory() as tmp:
            course_dir = Path(tmp)
            run([str(BIN / "grade"), "release", "nbgrader", str(course_dir), "--topic", args.topic, "--course", str(ROOT / "course.yaml")], ROOT)
            run([str(BIN / "nbgrader"), "generate_assignment", args.topic], course_dir)
            paths = submissions(course_dir, args.topic, count)
            totals[count] = run([str(BIN / "nbgrader"), "autograde", args.topic], course_dir)
            if count == args.students:
                grade_run = sum(run([str(BIN / "grade"), "run", str(p), "--course", str(ROOT / "course.yaml")], ROOT) for p in paths) / count
    autograde = totals[args.students] / args.students
    marginal = (totals[args.students] - totals[1]) / (args.students - 1)
    print(f"{args.topic}: {args.students} notebook submissions (reference, known mistakes, stub), {os.cpu_count()} cores")
    print(f"  nbgrader autograde (sandboxed grader)  {autograde:6.2f} s per submission ({totals[args.students]:.1f} s in all; {totals[1]:.1f} s for one, {marginal:.2f} s for each further one)")
    print(f"  grade run, a fresh process each       {grade_run:6.2f} s per submission")
    print(f"  ratio nbgrader / grade run            {autograde / grade_run:6.2f}x")


if __name__ == "__main__":
    main()
