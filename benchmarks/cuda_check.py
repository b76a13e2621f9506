"""The CUDA checks in one process, for a machine with an NVIDIA GPU (one fork server for everything):

    PYTHONPATH=. python3 benchmarks/cuda_check.py

the reference scores full marks on cpu and cuda, the stub zero ("not attempted"), the example and every known-mistake
submission get their mistakes named on cuda too; then the cost of the extra CUDA pass (median of 3).
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("AUTOGRADER_SECRET", "cuda-check")

import torch  # noqa: E402

from autograder.course.config import load_course  # noqa: E402
from autograder.course.submission import Submission  # noqa: E402
from autograder.engine.grading import Grader  # noqa: E402


def main() -> None:
    print("torch", torch.__version__, "cuda", torch.cuda.is_available(), torch.cuda.get_device_name(0))
    course = load_course(ROOT / "course.yaml")
    cases = {name: Submission.from_path(path, course) for name, path in (("solutions", ROOT / "solutions"), ("stub", ROOT / "exercises"), ("example", ROOT / "examples" / "submission"))}
    sys.path.insert(0, str(ROOT / "tests"))
    from mistakes import known_mistakes

    for name, known in known_mistakes("convolution").items():
        cases[name] = Submission.from_texts(name, {"convolution": known.source})
    with Grader(course=course, devices=["cpu", "cuda"]) as grader:
        print("sandbox:", grader.mode, *grader.notes)
        for name, submission in cases.items():
            report = grader.grade(submission)
            topic = report.topics[0]
            mistakes = sorted({c.mistake["id"] for c in topic.checks if c.mistake})
            statuses = sorted({c.status for c in topic.checks})
            print(f"{name:28s} {topic.points:4g}/{topic.max_points:g}  {statuses}  {mistakes}")
            if topic.error or (name == "solutions" and topic.points != topic.max_points):
                print(topic.error or "", *[f"{c.id}: {c.message}" for c in topic.checks if c.status != "passed"], topic.output[-3000:], sep="\n")
        reference = cases["solutions"]
        for devices in (["cpu"], ["cpu", "cuda"]):
            grader.devices = devices
            times = []
            for _ in range(3):
                start = time.perf_counter()
                grader.grade(reference)
                times.append(time.perf_counter() - start)
            print(f"grade the reference on {'+'.join(devices)} (warm grader): {statistics.median(times):.2f} s")


if __name__ == "__main__":
    main()
