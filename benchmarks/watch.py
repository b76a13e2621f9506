"""A student's edit-and-grade loop: save-to-report latency of `grade watch` against a fresh `grade run`, side by side.

    .venv/bin/python benchmarks/watch.py [--topic probability] [--saves 5]

Both grade the same file the same way (one topic, its public and hidden checks, the default sandbox). The fresh run
is timed from the command's start to its exit; `grade watch --log` from the moment the file is saved to the moment
its report's last line ("... graded in ...") is printed, polling included.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GRADE = [sys.executable, "-m", "autograder"]


def fresh_runs(folder: Path, topic: str, n: int, env: dict[str, str]) -> list[float]:
    times = []
    for _ in range(n):
        start = time.perf_counter()
        subprocess.run([*GRADE, "run", str(folder), "--topic", topic], env=env, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return times


def watch_saves(folder: Path, topic: str, n: int, env: dict[str, str]) -> list[float]:
    watcher = subprocess.Popen([*GRADE, "watch", str(folder), "--topic", topic, "--log"], env=env, stdout=subprocess.PIPE, text=True, bufsize=1)
    assert watcher.stdout is not None

    def until_graded() -> None:
        for line in watcher.stdout:
            if " graded in " in line:
                return
        raise RuntimeError(f"grade watch exited with {watcher.wait()}")

    try:
        until_graded()  # the first grading: start-up, not a save
        times = []
        source = (ROOT / "solutions" / f"{topic}.py").read_text()
        for i in range(n):
            start = time.perf_counter()
            (folder / f"{topic}.py").write_text(f"{source}\n# save {i}\n")
            until_graded()
            times.append(time.perf_counter() - start)
        return times
    finally:
        watcher.terminate()
        watcher.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--topic", default="probability")
    parser.add_argument("--saves", type=int, default=5)
    args = parser.parse_args()
    env = {**os.environ, "AUTOGRADER_COURSE": str(ROOT / "course.yaml"), "PYTHONUNBUFFERED": "1", "AUTOGRADER_SECRET": "benchmark"}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        shutil.copy(ROOT / "solutions" / f"{args.topic}.py", folder / f"{args.topic}.py")
        fresh = fresh_runs(folder, args.topic, args.saves, env)
        warm = watch_saves(folder, args.topic, args.saves, env)
    f, w = statistics.median(fresh), statistics.median(warm)
    print(f"topic {args.topic}, {args.saves} runs each (median; min-max)")
    print(f"  fresh `grade run`        {f:6.2f} s  ({min(fresh):.2f}-{max(fresh):.2f})")
    print(f"  `grade watch`, per save  {w:6.2f} s  ({min(warm):.2f}-{max(warm):.2f})")
    print(f"  ratio fresh / watch      {f / w:6.1f}x")


if __name__ == "__main__":
    main()
