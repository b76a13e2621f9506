"""The grade command: formats, exit codes and the one-line errors users see (never a traceback)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from autograder.course.config import load_course

from conftest import ROOT

GRADE = [sys.executable, "-m", "autograder"]
EXAMPLE = str(ROOT / "examples" / "submission")
COURSE_POINTS = sum(t.points for t in load_course(ROOT / "course.yaml").topics)  # topics the example skips count as not attempted


def grade(*args: str, cwd: Path = ROOT, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*GRADE, *args], cwd=cwd, capture_output=True, text=True, timeout=300, env={**os.environ, **(env or {})})


@pytest.fixture(scope="module")
def example_outputs(tmp_path_factory) -> dict[str, Path]:
    """The example submission graded once, into every machine-readable format at the same time."""
    out = tmp_path_factory.mktemp("reports")
    files = {fmt: out / f"report.{fmt}" for fmt in ("json", "gradescope", "junit", "html")}
    done = grade("run", EXAMPLE, "--device", "cpu", *(f"--format={fmt}:{file}" for fmt, file in files.items()))
    assert done.returncode == 0, done.stderr
    assert f"Total: 25/{COURSE_POINTS:g}" in done.stdout  # the text report still comes to the terminal
    assert all(file.is_file() for file in files.values())
    return files


def test_json_report(example_outputs):
    data = json.loads(example_outputs["json"].read_text())
    assert (data["points"], data["max_points"]) == (25, COURSE_POINTS)
    assert (data["topics"][0]["points"], data["topics"][0]["max_points"]) == (25, 45)
    checks = {c["id"]: c for c in data["topics"][0]["checks"]}
    assert checks["conv1d_full"]["mistake"]["id"] == "kernel-flip"
    assert checks["receptive_field"]["status"] == "not attempted"


def test_gradescope_results(example_outputs):
    data = json.loads(example_outputs["gradescope"].read_text())
    assert data["score"] == 25
    test = next(t for t in data["tests"] if t["extra_data"]["check"] == "fft_conv1d")
    assert {k: test[k] for k in ("score", "max_score", "status", "number")} == {"score": 0, "max_score": 2, "status": "failed", "number": "1.11"}
    assert "circular-fft" in test["tags"]
    assert sum(t["max_score"] for t in data["tests"]) == COURSE_POINTS


def test_junit_xml(example_outputs):
    root = ET.parse(example_outputs["junit"]).getroot()
    suite = root.find("testsuite")
    assert suite.get("name") == "convolution" and suite.get("tests") == "30"
    failures = {case.get("name"): case.find("failure") for case in suite.iter("testcase") if case.find("failure") is not None}
    skipped = {case.get("name") for case in suite.iter("testcase") if case.find("skipped") is not None}
    assert failures["conv1d_full"].get("type") == "kernel-flip"
    assert skipped == {"receptive_field", "receptive_field_contract", "hidden_receptive_field"}  # not attempted: a to-do, not red
    assert suite.get("failures") == str(len(failures)) and suite.get("skipped") == "3"
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == [t.id for t in load_course(ROOT / "course.yaml").topics]
    assert root.get("failures") == str(sum(int(s.get("failures")) for s in suites))


def test_bare_grade_grades_exercises_in_the_current_folder(tmp_path: Path):
    shutil.copytree(ROOT / "exercises", tmp_path / "exercises")
    done = grade(cwd=tmp_path, env={"AUTOGRADER_COURSE": str(ROOT / "course.yaml")})
    assert done.returncode == 0, done.stderr
    assert f"Total: 0/{COURSE_POINTS:g}" in done.stdout and "todo (nothing implemented yet)" in done.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        pytest.param(["run", "--topic", "nope"], "Error: course.yaml: no topic 'nope'; the topics are: convolution", id="unknown-topic"),  # and any later ones
        pytest.param(["run", "no/such/folder"], "Error: no/such/folder: no such file or folder", id="no-path"),
        pytest.param(["run", "--format", "pdf"], "Invalid value for '--format': 'pdf' is not a report format", id="bad-format"),
        pytest.param(["run", "--format", "json", "--format", "junit"], "only one report can go to the terminal; give the others a file", id="two-formats-to-stdout"),
        pytest.param(["run", EXAMPLE, "--check", "conv3d_*"], "--check conv3d_*: no check matches it", id="unknown-check"),
    ],
)
def test_usage_errors_exit_2_without_traceback(args: list[str], message: str):
    done = grade(*args)
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_invalid_course_exits_2_naming_file_line_and_key(tmp_path: Path):
    bad = tmp_path / "course.yaml"
    bad.write_text((ROOT / "course.yaml").read_text().replace("conv1d_full: 2", "conv1d_full: two"))
    done = grade("run", EXAMPLE, "--course", str(bad))
    assert done.returncode == 2
    assert f"Error: {bad}:" in done.stderr and "topics[0].checks.conv1d_full: expected a positive number, got 'two'" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.skipif(subprocess.run([sys.executable, "-c", "import torch, sys; sys.exit(torch.cuda.is_available())"]).returncode == 1, reason="a GPU is present")
def test_cuda_without_a_gpu_is_a_clear_error():
    done = grade("run", EXAMPLE, "--device", "cuda")
    assert done.returncode == 2
    assert "Error: --device cuda: no CUDA GPU is available here" in done.stderr


def test_a_failing_check_exits_3(tmp_path: Path):
    toy = ROOT / "tests" / "toy_course"
    done = grade("run", str(toy / "solutions"), "--course", str(toy / "course.yaml"), "--device", "cpu")
    assert done.returncode == 3
    assert "ERROR" in done.stdout and "internal error in check toy.broken" in done.stdout


def test_help_lists_commands_and_exit_codes():
    done = grade("run", "--help")
    assert done.returncode == 0
    assert "Exit codes: 0 graded" in done.stdout and "--sandbox [auto|strict|process]" in done.stdout


@pytest.mark.parametrize(
    "threshold, code",
    [
        pytest.param("55", 0, id="at-the-threshold"),  # the example earns 25 of convolution's 45 points: 55.6%
        pytest.param("56", 4, id="under-the-threshold"),
        pytest.param("101", 2, id="not-a-percentage"),
    ],
)
def test_fail_under_turns_a_low_score_into_exit_4(threshold: str, code: int):
    done = grade("run", EXAMPLE, "--topic", "convolution", "--device", "cpu", "--fail-under", threshold)
    assert done.returncode == code, done.stderr
    if code == 4:
        assert "score 25/45 is under --fail-under 56% (25.2 points)" in done.stderr
