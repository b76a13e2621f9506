"""End to end with real nbgrader, headless: `grade release nbgrader`, then nbgrader generate_assignment, submissions,
autograde, export and generate_feedback, as an instructor runs them, after moving the course and its nbgrader folder
elsewhere together; and nbgrader validate, as a student runs it on a fetched notebook."""

from __future__ import annotations

import csv
import importlib
import inspect
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from autograder.course.config import load_course
from autograder.course.notebooks import notebook_code, topic_of_notebook
from autograder.engine.checks import checks_in
from autograder.engine.results import NOT_ATTEMPTED, PASSED
from autograder.release.nbgrader_release import HIDDEN_CELL

from conftest import ROOT, STRICT_OK, STRICT_WHY, topic_course

nbformat = pytest.importorskip("nbformat")
pytest.importorskip("nbgrader")

TOPIC = "convolution"
MISTAKE = yaml.safe_load((ROOT / "tests" / "mistakes" / f"{TOPIC}.yaml").read_text())["kernel_flip"]
COURSE = load_course(ROOT / "course.yaml")
PUBLIC = {c.id for c in checks_in(importlib.import_module(f"checks.public.{TOPIC}"))}
BIN = Path(sys.executable).parent  # nbgrader shells out to alembic: the venv's bin folder goes on PATH

# Reads the instructor's source notebook (every solution) and runs it; writes to the gradebook.
STEAL = '''
def conv1d(f, h, mode="full"):
    import json, pathlib
    course = pathlib.Path({course_dir!r})
    for target in (course / "gradebook.db", pathlib.Path("../../gradebook.db")):
        with open(target, "ab") as db:
            db.write(b"forged")
    for source in (course / "source" / "convolution" / "convolution.ipynb", pathlib.Path("../../source/convolution/convolution.ipynb")):
        cells = json.loads(source.read_text())["cells"]
        namespace = {{}}
        exec("\\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code" and not c["metadata"]["nbgrader"]["grade"]), namespace)
        return namespace["conv1d"](f, h, mode)
'''


def _env() -> dict[str, str]:
    return {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", "AUTOGRADER_SECRET": "nbgrader-test-secret"}


def _run(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(args, cwd=cwd, env=env or _env(), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done


def _submit(course_dir: Path, student: str, notebook: dict) -> Path:
    path = course_dir / "submitted" / student / TOPIC / f"{TOPIC}.ipynb"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(notebook))
    return path


@pytest.fixture(scope="module")
def released(tmp_path_factory) -> dict[str, object]:
    """A course (the topic alone) with its nbgrader folder inside, as the README has it, released and generated, then
    moved elsewhere, one folder deeper: a path to the course that is absolute, or relative to anything but the
    nbgrader folder, no longer leads to it there. Graded where it was moved to."""
    root = tmp_path_factory.mktemp("nbgrader")
    (root / "before" / "project").mkdir(parents=True)
    course = topic_course(root / "before" / "project", TOPIC)
    release = _run([str(BIN / "grade"), "release", "nbgrader", str(course.parent / "nbcourse"), "--topic", TOPIC, "--course", str(course)], ROOT)
    config = (course.parent / "nbcourse" / "nbgrader_config.py").read_text()
    _run([str(BIN / "nbgrader"), "generate_assignment", TOPIC], course.parent / "nbcourse")
    (root / "after" / "elsewhere").mkdir(parents=True)
    course_dir = Path(shutil.move(course.parent, root / "after" / "elsewhere" / "project")) / "nbcourse"
    source = json.loads((course_dir / "source" / TOPIC / f"{TOPIC}.ipynb").read_text())
    stub = json.loads((course_dir / "release" / TOPIC / f"{TOPIC}.ipynb").read_text())
    _submit(course_dir, "alice", source)  # the reference, filled in
    bob = json.loads(json.dumps(stub))  # the stub, filled in with one known mistake
    for cell, filled in zip(bob["cells"], source["cells"]):
        if cell["metadata"]["nbgrader"]["solution"]:
            cell["source"] = "".join(filled["source"]).replace(MISTAKE["replace"], MISTAKE["with"])
    _submit(course_dir, "bob", bob)
    carol = json.loads(json.dumps(stub))
    next(c for c in carol["cells"] if c["metadata"]["nbgrader"]["grade_id"] == "solution-conv1d")["source"] = STEAL.format(course_dir=str(course_dir))
    _submit(course_dir, "carol", carol)
    _run([str(BIN / "nbgrader"), "autograde", TOPIC], course_dir)
    _run([str(BIN / "nbgrader"), "export"], course_dir)
    _run([str(BIN / "nbgrader"), "generate_feedback", TOPIC], course_dir)
    return {"course_dir": course_dir, "root": root, "config": config, "next": release.stdout.split("next:", 1)[-1]}


@pytest.fixture(scope="module")
def course_dir(released) -> Path:
    return released["course_dir"]  # type: ignore[return-value]


def _scores(course_dir: Path) -> dict[str, float]:
    with open(course_dir / "grades.csv", newline="") as f:
        return {row["student_id"]: float(row["score"]) for row in csv.DictReader(f) if row["assignment"] == TOPIC}


def _grade_run(notebook: Path) -> dict:
    done = _run([str(BIN / "grade"), "run", str(notebook), "--format", "json", "--course", str(ROOT / "course.yaml")], ROOT)
    return json.loads(done.stdout)["topics"][0]


def _cells(course_dir: Path, student: str) -> dict[str, dict]:
    notebook = json.loads((course_dir / "autograded" / student / TOPIC / f"{TOPIC}.ipynb").read_text())
    return {c["metadata"]["nbgrader"]["grade_id"]: c for c in notebook["cells"] if c["metadata"].get("nbgrader", {}).get("grade")}


def test_the_released_notebook_is_the_stub(course_dir: Path):
    """generate_assignment leaves the stub's contract (names, signatures, docstrings) and nothing to grade."""
    path = course_dir / "release" / TOPIC / f"{TOPIC}.ipynb"
    assert "BEGIN SOLUTION" not in path.read_text()
    namespace: dict = {}
    exec(compile(notebook_code(path.read_bytes(), name=path.name), str(path), "exec"), namespace)
    stub = importlib.import_module(f"exercises.{TOPIC}")
    assert namespace["__all__"] == stub.__all__
    for name in stub.__all__:
        assert inspect.signature(namespace[name]) == inspect.signature(getattr(stub, name)), name
        assert namespace[name].__doc__ == getattr(stub, name).__doc__, name
    assert {c["status"] for c in _grade_run(path)["checks"]} == {NOT_ATTEMPTED}
    assert topic_of_notebook(path.read_bytes(), topics=COURSE.topics, name="homework.ipynb") == TOPIC  # grade batch reads its metadata


def test_the_release_folder_holds_what_its_test_cells_grade_with_and_nothing_hidden(course_dir: Path):
    folder = course_dir / "release" / TOPIC
    assert sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()) == [f"answers/{TOPIC}.npz", f"checks/public/{TOPIC}.py", f"{TOPIC}.ipynb", "course.yaml"]
    course = load_course(folder / "course.yaml")
    assert [t.id for t in course.topics] == [TOPIC] and set(course.topic(TOPIC).checks) == PUBLIC
    hidden = [c for c in COURSE.topic(TOPIC).checks if c not in PUBLIC]
    assert hidden and not [c for c in hidden if c in (folder / "course.yaml").read_text()]


def test_a_fetched_notebook_checks_itself_where_it_is(course_dir: Path, tmp_path: Path):
    """A student's copy of release/<topic>/ (what nbgrader fetch makes), far from the course, validated from the folder
    above it, with no nbgrader_config.py and no AUTOGRADER_COURSE: each public check's cell gives that check's verdict."""
    shutil.copytree(course_dir / "release" / TOPIC, tmp_path / TOPIC)
    shutil.copy(course_dir / "submitted" / "bob" / TOPIC / f"{TOPIC}.ipynb", tmp_path / TOPIC / f"{TOPIC}.ipynb")  # one known mistake
    env = {k: v for k, v in _env().items() if k not in ("AUTOGRADER_COURSE", "AUTOGRADER_SECRET")}
    done = _run([str(BIN / "nbgrader"), "validate", f"{TOPIC}/{TOPIC}.ipynb"], tmp_path, env=env)
    blocks = done.stdout.split("The following cell failed:")[1:]
    failed = {re.search(rf"check\({TOPIC!r}, '(\w+)'\)", block).group(1) for block in blocks}  # type: ignore[union-attr]
    assert failed == {c for c in MISTAKE["fails"] if c in PUBLIC}, done.stdout[-3000:]
    assert f"VALIDATION FAILED ON {len(failed)} CELL(S)" in done.stdout and "course.yaml" not in done.stdout
    assert [c for c in failed if f"CheckNotPassed: {c} failed: " not in done.stdout] == []  # the check's own verdict


def test_the_config_names_the_course_relative_to_itself(released):
    """The folder was graded after the move (the tests above); here, that nothing in it is absolute."""
    config = released["config"]
    assert "c.GradeInSandbox.course = os.path.join(os.path.dirname(os.path.abspath(__file__)), '../course.yaml')" in config
    assert str(released["root"]) not in config and str(ROOT) not in config


def test_the_next_steps_say_where_submissions_go_and_which_secret_to_set(released):
    hint = released["next"]
    assert f"nbgrader generate_assignment {TOPIC}" in hint and f"submitted/<student>/{TOPIC}/{TOPIC}.ipynb" in hint
    assert f"AUTOGRADER_SECRET=<the course secret> nbgrader autograde {TOPIC}" in hint


def test_exported_scores_agree_with_grade_run_on_the_same_notebooks(course_dir: Path):
    scores = _scores(course_dir)
    for student in ("alice", "bob"):
        graded = _grade_run(course_dir / "submitted" / student / TOPIC / f"{TOPIC}.ipynb")
        earned = sum(c["max_points"] for c in graded["checks"] if c["status"] == PASSED)
        assert scores[student] == earned, student
    assert scores["alice"] == COURSE.topic(TOPIC).points > scores["bob"]


def test_each_test_cell_shows_its_checks_verdict(course_dir: Path):
    bob = _cells(course_dir, "bob")
    failed = {cid for cid, cell in bob.items() if any(o["output_type"] == "error" for o in cell["outputs"])}
    assert failed == {c for c in MISTAKE["fails"] if c in PUBLIC} and "kernel is not flipped" in json.dumps(bob["conv1d_full"]["outputs"])
    for cell in _cells(course_dir, "alice").values():
        assert cell["outputs"] and not any(o["output_type"] == "error" or o.get("name") == "stderr" for o in cell["outputs"])
    hidden = bob[HIDDEN_CELL]["outputs"]
    assert [o["output_type"] for o in hidden] == ["stream", "execute_result"]


def test_feedback_names_no_hidden_check(course_dir: Path):
    hidden = checks_in(importlib.import_module(f"checks.hidden.{TOPIC}"))
    for student in ("alice", "bob", "carol"):
        html = (course_dir / "feedback" / student / TOPIC / f"{TOPIC}.html").read_text()
        assert "hidden checks:" in html
        assert not [c.id for c in hidden if c.id in html or c.title in html], student


def test_a_notebook_that_reads_the_course_folder_or_the_gradebook_gets_nothing(course_dir: Path):
    if not STRICT_OK:
        pytest.skip(f"only the strict sandbox hides the nbgrader folder: {STRICT_WHY}")
    carol = _cells(course_dir, "carol")
    assert _scores(course_dir)["carol"] == 0
    message = json.dumps(carol["conv1d_full"]["outputs"])
    assert "gradebook.db" in message and ("No such file" in message or "Permission denied" in message or "Read-only" in message)
    assert b"forged" not in (course_dir / "gradebook.db").read_bytes()
    assert set(_scores(course_dir)) == {"alice", "bob", "carol"}


@pytest.mark.parametrize(
    "course, grade_id, message",
    [
        pytest.param("", "conv1d_full", "c.GradeInSandbox.course is not set", id="no-course-configured"),
        pytest.param(str(ROOT / "course.yaml"), "not_a_check", "no check of topic 'convolution' has this test cell's id", id="unknown-test-cell"),
    ],
)
def test_a_test_cell_without_a_verdict_scores_nothing(course: str, grade_id: str, message: str):
    """nbgrader gives full points to a test cell with no output: every test cell gets one, an error if need be."""
    from autograder.release.nbgrader_plugin import GradeInSandbox

    cell = nbformat.v4.new_code_cell("check()", metadata={"nbgrader": {"grade": True, "solution": False, "locked": True, "points": 1, "grade_id": grade_id, "schema_version": 3}})
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1"), cell])
    GradeInSandbox(course=course).preprocess(notebook, {"nbgrader": {"assignment": TOPIC, "student": "s"}})
    assert [o["output_type"] for o in cell.outputs] == ["error"] and message in cell.outputs[0]["evalue"]
