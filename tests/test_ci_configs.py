"""docs/ci/: the CI configurations students copy, tested by running their grading commands in a student repository,
and the sandbox each one grades in."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from autograder.release import bundle

from conftest import ROOT, STRICT_OK, STRICT_WHY
from mistakes import known_mistakes

CI = ROOT / "docs" / "ci"
VENV_BIN = str(Path(sys.executable).parent)  # stands in for the install step, which needs the network
MISTAKE = known_mistakes("information")["kl_swapped"]


def github_steps() -> dict[str, dict]:
    config = yaml.safe_load((CI / "github-actions.yml").read_text())
    return {step.get("name", step.get("uses")): step for step in config["jobs"]["grade"]["steps"]}


def gitlab_job() -> dict:
    return yaml.safe_load((CI / "gitlab-ci.yml").read_text())["grade"]


# Per configuration: its Python, its install command, and its grading commands as the runner runs them (GitHub runs a
# step's `run` with `bash -eo pipefail`, GitLab each `script` line in one shell that stops at the first failure).
CONFIGS = {
    "github-actions": lambda: (github_steps()["actions/setup-python@v5"]["with"]["python-version"], github_steps()["Install"]["run"], github_steps()["Grade"]["run"]),
    "gitlab-ci": lambda: (gitlab_job()["image"].split(":")[1].split("-")[0], "\n".join(gitlab_job()["before_script"]), "\n".join(gitlab_job()["script"])),
}


# Per configuration: the sandbox every grading command asks for, and why (its comment must say it).
SANDBOXES = {
    "github-actions": ("strict", "It needs root here"),
    "gitlab-ci": ("process", "A student's own self-check, in the process sandbox, knowingly"),
}
FILES = {"github-actions": CI / "github-actions.yml", "gitlab-ci": CI / "gitlab-ci.yml"}


@pytest.fixture(scope="module")
def student_repo(tmp_path_factory) -> Path:
    """What a student pushes: the student bundle with the known mistake in exercises/information.py."""
    out = tmp_path_factory.mktemp("repo") / "student"
    bundle.main(out=out, course=ROOT / "course.yaml", force=True)
    (out / "exercises" / "information.py").write_text(MISTAKE.source)
    return out


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_python_is_pinned_and_the_install_uses_the_constraints(name: str):
    python, install, grading = CONFIGS[name]()
    assert python == "3.11"
    assert "python -m pip install" in install and "-c constraints.txt -e ." in install
    assert "--format junit:results/junit.xml --format markdown:results/summary.md" in grading  # one grading, two reports


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_every_grading_command_chooses_its_sandbox_and_the_configuration_says_why(name: str):
    _, _, grading = CONFIGS[name]()
    sandbox, why = SANDBOXES[name]
    runs = [line for line in grading.splitlines() if re.search(r"\brun exercises\b", line)]
    assert len(runs) == 1 and all(f"--sandbox {sandbox} " in line for line in runs), runs
    assert why in " ".join(line.strip().lstrip("# ") for line in FILES[name].read_text().splitlines())


def test_the_github_workflow_grades_as_root_through_sudo_with_the_venvs_grade():
    """sudo resets PATH (secure_path): grade goes by its full path; the reports are handed back to the runner's user."""
    grading = github_steps()["Grade"]["run"].splitlines()
    assert grading[0] == 'GRADE="$(command -v grade)"'
    assert grading[1].startswith('sudo "$GRADE" run exercises ')
    assert 'sudo chown -R "$(id -u):$(id -g)" results' in grading


def test_the_github_workflow_publishes_a_test_tab_and_the_reports():
    steps = github_steps()
    assert steps["Test tab"]["uses"] == "mikepenz/action-junit-report@v4" and steps["Test tab"]["with"]["report_paths"] == "results/junit.xml"
    assert steps["Keep the reports"]["uses"] == "actions/upload-artifact@v4" and steps["Keep the reports"]["with"]["path"] == "results/"


def test_the_gitlab_job_publishes_the_junit_report_and_the_summary():
    artifacts = gitlab_job()["artifacts"]
    assert artifacts["when"] == "always" and artifacts["reports"]["junit"] == "results/junit.xml" and "results/" in artifacts["paths"]


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.skipif(SANDBOXES[n][0] == "strict" and not STRICT_OK, reason=STRICT_WHY)) for n in sorted(CONFIGS)])
def test_the_grading_commands_grade_the_student_repository(student_repo: Path, tmp_path: Path, name: str):
    _, _, grading = CONFIGS[name]()
    repo = shutil.copytree(student_repo, tmp_path / "repo")  # each configuration writes its own results/
    summary = tmp_path / "step-summary.md"
    stand_ins = tmp_path / "bin"  # sudo: runs the command as the test's user (root where strict mode is root's)
    stand_ins.mkdir()
    (stand_ins / "sudo").write_text('#!/bin/sh\nexec "$@"\n')
    (stand_ins / "sudo").chmod(0o755)
    path = os.pathsep.join([str(stand_ins), VENV_BIN, os.environ["PATH"]])
    env = {**{k: v for k, v in os.environ.items() if k != "AUTOGRADER_COURSE"}, "PATH": path, "GITHUB_STEP_SUMMARY": str(summary)}
    done = subprocess.run(["bash", "-eo", "pipefail", "-c", grading], cwd=repo, env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr

    suite = next(s for s in ET.parse(repo / "results" / "junit.xml").getroot() if s.get("name") == "information")
    failures = {case.get("name"): case.find("failure") for case in suite.iter("testcase") if case.find("failure") is not None}
    public = {case.get("name") for case in suite.iter("testcase")}  # the student bundle grades public checks only
    assert set(failures) == MISTAKE.fails & public
    assert {f.get("type") for f in failures.values()} == {MISTAKE.mistake}
    skipped = {case.get("name") for s in ET.parse(repo / "results" / "junit.xml").getroot() if s.get("name") != "information" for case in s.iter("testcase") if case.find("skipped") is not None}
    assert skipped and not any(case.find("failure") is not None for s in ET.parse(repo / "results" / "junit.xml").getroot() if s.get("name") != "information" for case in s.iter("testcase"))  # untouched topics are skipped, not red
    text = (repo / "results" / "summary.md").read_text()
    assert f"Known mistake `{MISTAKE.mistake}`" in text
    if name == "github-actions":
        assert summary.read_text() == text
