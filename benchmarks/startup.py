"""Start-up and grading-time figures, measured side by side in one run (medians of several runs).

    .venv/bin/python benchmarks/startup.py [--repeat N]

1. worker start: through the fork server (spawn, load a module, one call, exit) vs a fresh interpreter that imports
   torch (what every worker would cost without the fork server), as a ratio;
2. `grade --help` start-up;
3. wall time of `grade run` (a fresh process, as a student runs it) on the convolution reference and on the example
   submission, and the same grading inside an already-warm grader (what each extra submission of a batch costs).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("AUTOGRADER_SECRET", "benchmark")

from autograder.course.config import load_course  # noqa: E402
from autograder.course.submission import Submission  # noqa: E402
from autograder.engine.grading import Grader  # noqa: E402

TRIVIAL = "import numpy as np\n\ndef conv1d(f, h, mode='full'):\n    return np.convolve(f, h, mode)\n"


def median_time(action, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def worker_start(grader: Grader) -> None:
    topic = grader.course.topic("convolution")
    source = Submission.from_texts("bench", {"convolution": TRIVIAL}).sources["convolution"]
    worker, problem, starved = grader._start(topic, source, "cpu", lifetime_cpu_s=topic.limits.cpu_s)
    assert problem is None and starved is None, problem or starved
    worker[0].close()
    grader._finish(worker)


def run(command: list[str]) -> None:
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    n = parser.parse_args().repeat
    course = load_course(ROOT / "course.yaml")
    python = sys.executable
    script = Path(sys.executable).with_name("grade")
    grade = [str(script)] if script.exists() else [python, "-m", "autograder"]
    rows: list[tuple[str, float]] = []

    for mode in ("strict", "process"):
        try:
            with Grader(course=course, sandbox=mode, devices=["cpu"]) as grader:
                grader.mode  # wait for the fork server's imports: not part of a worker's start
                worker_start(grader)  # warm-up
                rows.append((f"worker start via fork server ({mode} sandbox)", median_time(lambda: worker_start(grader), 4 * n)))
        except Exception as exc:  # noqa: BLE001 - strict mode is not available everywhere
            print(f"({mode} sandbox unavailable: {exc})")
    rows.append(("fresh interpreter: python -c 'import torch'", median_time(lambda: run([python, "-c", "import torch"]), n)))
    with Grader(course=course, sandbox="process", devices=["cpu"], use_forkserver=False) as grader:
        grader.mode
        rows.append(("worker start via fresh interpreter (no fork server)", median_time(lambda: worker_start(grader), n)))
    rows.append(("grade --help", median_time(lambda: run([*grade, "--help"]), 2 * n)))
    rows.append(("grade run solutions (fresh process, CPU)", median_time(lambda: run([*grade, "run", "solutions", "--device", "cpu"]), n)))
    rows.append(("grade run examples/submission (fresh process, CPU)", median_time(lambda: run([*grade, "run", "examples/submission", "--device", "cpu"]), n)))
    with Grader(course=course, devices=["cpu"]) as grader:
        for label, path in (("solutions", ROOT / "solutions"), ("examples/submission", ROOT / "examples" / "submission")):
            submission = Submission.from_path(path, course)
            grader.grade(submission)  # warm-up: references imported, first autograd call made
            rows.append((f"grade {label} in a warm grader (per submission)", median_time(lambda: grader.grade(submission), n)))

    width = max(len(label) for label, _ in rows)
    print(f"{'measurement'.ljust(width)}  median")
    for label, seconds in rows:
        print(f"{label.ljust(width)}  {seconds * 1000:8.1f} ms")
    table = dict(rows)
    fork = table.get("worker start via fork server (strict sandbox)") or table["worker start via fork server (process sandbox)"]
    fresh = table["worker start via fresh interpreter (no fork server)"]
    print(f"\nworker start: fresh interpreter / fork server = {fresh * 1000:.0f} ms / {fork * 1000:.1f} ms = {fresh / fork:.0f}x")


if __name__ == "__main__":
    main()
