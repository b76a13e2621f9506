"""The whole course's checks on CUDA against the CPU, in one process, for a machine with an NVIDIA GPU:

    PYTHONPATH=. python3 benchmarks/cuda_check.py [--topic vae] [--other cuda]

For every topic: the reference, the stub and every known-mistake submission (tests/mistakes/<topic>.yaml) are graded
on the CPU and on the other device (cuda; ``--other cpu`` runs the script without a GPU, as a dry run), and every
check's verdict (status and the mistake named) is compared: the parity table lists, per topic and check, the
reference's status on each device and how many submissions got the same verdict on both. Then the cost of the
extra CUDA pass for the reference (median of 3). Exit status 1 when a verdict differs or the reference loses a point.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
os.environ.setdefault("AUTOGRADER_SECRET", "cuda-check")

import torch  # noqa: E402

from autograder.course.config import load_course  # noqa: E402
from autograder.course.submission import Submission  # noqa: E402
from autograder.engine.grading import Grader  # noqa: E402
from mistakes import known_mistakes  # noqa: E402


def verdicts(grader: Grader, submission: Submission, topic: str, device: str) -> dict[str, tuple[str, str]]:
    report = grader.grade(submission, topics=[topic], devices=[device]).topics[0]
    if report.error:
        return {"(topic)": ("error", report.error.splitlines()[0])}
    return {c.id: (c.status, (c.mistake or {}).get("id", "")) for c in report.checks}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--topic", action="append", help="only this topic (repeatable; default: all)")
    parser.add_argument("--other", default="cuda", choices=["cuda", "cpu"], help="the device compared with the CPU")
    args = parser.parse_args()
    other = args.other
    if other == "cuda":
        print("torch", torch.__version__, "cuda", torch.cuda.is_available(), torch.cuda.get_device_name(0))
    course = load_course(ROOT / "course.yaml")
    topics = args.topic or [t.id for t in course.topics]
    differ = 0
    with Grader(course=course, devices=sorted({"cpu", other})) as grader:
        print("sandbox:", grader.mode, *grader.notes)
        for topic in topics:
            cases = {"reference": (ROOT / "solutions" / f"{topic}.py").read_text(), "stub": (ROOT / "exercises" / f"{topic}.py").read_text()}
            cases.update({name: known.source for name, known in known_mistakes(topic).items()})
            same: dict[str, int] = {}
            reference: dict[str, tuple[str, str]] = {}
            for name, source in cases.items():
                submission = Submission.from_texts(name, {topic: source})
                cpu, gpu = verdicts(grader, submission, topic, "cpu"), verdicts(grader, submission, topic, other)
                if name == "reference":
                    reference = {check: (cpu[check][0], gpu.get(check, ("missing", ""))[0]) for check in cpu}
                for check, verdict in cpu.items():
                    agree = gpu.get(check) == verdict
                    same[check] = same.get(check, 0) + agree
                    if not agree:
                        differ += 1
                        print(f"  DIFFERS {topic}.{check} [{name}]: cpu {verdict}, {other} {gpu.get(check)}")
            print(f"\n{topic}: {len(cases)} submissions (reference, stub, {len(cases) - 2} known mistakes)")
            print(f"  {'check':40s} {'reference cpu':>14s} {'on ' + other:>14s} {'same verdict':>13s}")
            for check, (on_cpu, on_other) in reference.items():
                print(f"  {check:40s} {on_cpu:>14s} {on_other:>14s} {same[check]:>6d}/{len(cases):<6d}")
                differ += on_cpu != "passed" or on_other != "passed"
        whole = Submission.from_path(ROOT / "solutions", course)
        for devices in (["cpu"], ["cpu", other]):
            times = []
            for _ in range(3):
                start = time.perf_counter()
                grader.grade(whole, topics=topics, devices=devices)
                times.append(time.perf_counter() - start)
            print(f"grade the reference of {len(topics)} topic(s) on {'+'.join(devices)} (warm grader): {statistics.median(times):.2f} s")
    print(f"\n{'every verdict the same on both devices' if not differ else f'{differ} verdict(s) differ or lost points'}")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
