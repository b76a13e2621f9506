"""Adversarial uploads to the Gradescope autograder (threat model 6, 10): paths the student names that lead the choice
of the folder to grade into the course's own solutions.

Each upload holds only the stub, so any credit it gets was computed by the course's reference. The autograder is the
zip `grade gradescope build` writes, run as Gradescope runs it: in a fake /autograder (``ROOT_ENV``), from that folder,
with the course in source/ (solutions included) and the upload in submission/.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest

from autograder.release import gradescope_build as build_module

from conftest import ROOT, STRICT_OK
from mistakes import known_mistakes

STUB = (ROOT / "exercises" / "information.py").read_text()
MISTAKE = known_mistakes("information")["kl_swapped"]
VENV_BIN = str(Path(sys.executable).parent)  # run_autograder falls back to the grade on PATH: this checkout's


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("build") / "autograder.zip"
    # Strict where this machine has it, as on a grading machine; elsewhere the opt-in, or nothing would be graded.
    assert build_module.main(out=out, course=ROOT / "course.yaml", force=False, **({} if STRICT_OK else {"allow_process": True})) == 0
    return out


def gradescope(archive: Path, tmp_path: Path, upload: Callable[[Path, Path], None]) -> dict:
    """Install the autograder in a fake /autograder, let ``upload(submission, root)`` lay out the upload, run
    run_autograder from /autograder (where Gradescope starts it) and return results.json, read as strict JSON."""
    root = tmp_path / "autograder"
    with zipfile.ZipFile(archive) as z:
        z.extractall(root / "source")
        for info in z.infolist():
            (root / "source" / info.filename).chmod((info.external_attr >> 16) & 0o777)
    (root / "submission").mkdir()
    upload(root / "submission", root)
    env = {k: v for k, v in os.environ.items() if k != "AUTOGRADER_SECRET"}
    env.update({build_module.ROOT_ENV: str(root), "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}"})
    done = subprocess.run(["bash", str(root / "source" / "run_autograder")], cwd=root, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads((root / "results" / "results.json").read_text(), parse_constant=_refuse)


def _refuse(name: str) -> None:
    raise ValueError(f"results.json is not RFC 8259 JSON: it holds {name}")


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def _beyond(root: Path) -> tuple[str, ...]:
    """``root``'s absolute path as folder names, to rebuild it inside the upload below a folder named with a newline:
    a tool that reads paths line by line then sees the line ``root``."""
    return root.parts[1:]


def newline_to_the_solutions(submission: Path, root: Path) -> None:
    # Printed one per line, `a/b/x\n` + root's path + /source/solutions/information.py reads as two paths; the second,
    # /autograder/source/solutions/information.py, has the fewest parts: "the shallowest".
    _write(submission.joinpath("a", "b", "x\n", *_beyond(root), "source", "solutions", "information.py"), STUB)


def newline_in_a_repository(submission: Path, root: Path) -> None:
    # A repository as students upload it, with one folder more: its second line is source/solutions/information.py,
    # a path relative to /autograder, where Gradescope starts run_autograder.
    repo = submission / "student-repo-main"
    _write(repo / "exercises" / "information.py", STUB)
    shutil.copytree(ROOT / "checks" / "public", repo / "checks" / "public")
    _write(repo / "notes\nsource" / "solutions" / "information.py", STUB)


def symlink_to_the_solutions(submission: Path, root: Path) -> None:
    # exercises/ links to the course's solutions; a deep folder named with a newline reads as the line
    # /autograder/submission/exercises/information.py, so the link is what a path-printing chooser picks.
    (submission / "exercises").symlink_to(root / "source" / "solutions", target_is_directory=True)
    _write(submission.joinpath("a", "b", "c", "d", "x\n", *_beyond(root), "submission", "exercises", "information.py"), STUB)


def control_character(submission: Path, root: Path) -> None:
    # A carriage return and an erase-line escape: on a terminal, the instructor's log line naming this folder shows
    # whatever follows instead.
    _write(submission / "exercises\r\x1b[2KTotal: 100 of 100" / "information.py", STUB)


@dataclass(frozen=True)
class Upload:
    threat: str
    layout: Callable[[Path, Path], None]
    says: str  # what results.json tells the student


UPLOADS = {
    "newline-to-the-solutions": Upload("6", newline_to_the_solutions, repr("x\n")),
    "newline-in-a-repository": Upload("6", newline_in_a_repository, repr("notes\nsource")),
    "symlink-to-the-solutions": Upload("10", symlink_to_the_solutions, "This submission was not graded"),
    "control-character": Upload("6", control_character, repr("exercises\r\x1b[2KTotal: 100 of 100")),
}


@pytest.mark.parametrize("name", sorted(UPLOADS))
def test_an_upload_cannot_lead_the_autograder_to_the_courses_solutions(built: Path, tmp_path: Path, name: str):
    """6, 10: a stub uploaded below a folder named with a newline or a control character, or beside a link to the
    course's solutions, scores 0; the upload is refused in one line naming the entry, and never graded from the
    course's folders."""
    row = UPLOADS[name]
    results = gradescope(built, tmp_path, row.layout)
    assert results["score"] == 0, f"threat {row.threat}: {name} earned {results['score']}"
    assert [t["name"] for t in results["tests"] if t["status"] == "passed"] == []
    reason, *rest = results["output"].split("\n")
    assert reason.startswith("This submission was not graded: ") and row.says in reason, results["output"]
    assert reason.isprintable(), f"the reason must be one line, its control characters shown as escapes: {reason!r}"
    assert rest == ["Your score is 0: fix this and submit again."]


def test_a_repository_with_its_git_folder_is_still_found_and_graded(built: Path, tmp_path: Path):
    """6: the control for the uploads above: a cloned repository (.git/, its public checks under the topics' names,
    exercises/ one folder down) is graded from its own exercises/."""

    def repository(submission: Path, root: Path) -> None:
        repo = submission / "student-repo-main"
        _write(repo / "exercises" / "information.py", MISTAKE.source)
        shutil.copytree(ROOT / "checks" / "public", repo / "checks" / "public")
        _write(repo / ".git" / "HEAD", "ref: refs/heads/main\n")
        _write(repo / ".git" / "information.py", STUB)  # hidden folders are not searched

    results = gradescope(built, tmp_path, repository)
    failed = {t["extra_data"]["check"] for t in results["tests"] if t["extra_data"]["topic"] == "information" and t["status"] == "failed"}
    assert failed == MISTAKE.fails
    assert results["score"] > 0
