"""The source notebooks `grade release nbgrader` writes (autograder.release.nbgrader_release) and the test cells a
student runs in Jupyter (autograder.release.notebook), without running nbgrader itself (test_nbgrader.py does)."""

from __future__ import annotations

import json

import nbformat
import pytest

from autograder.course.config import load_course
from autograder.course.notebooks import notebook_code, topic_of_notebook
from autograder.engine.results import PASSED
from autograder.release.nbgrader_release import HIDDEN_CELL, build_notebook

from conftest import ROOT, grade_source
from mistakes import known_mistakes

COURSE = load_course(ROOT / "course.yaml")
TOPICS = [t.id for t in COURSE.topics]


def _as_notebook(source: str) -> bytes:
    return nbformat.writes(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])).encode()


@pytest.mark.parametrize("topic", TOPICS)
def test_source_notebook_holds_the_reference_and_names_no_hidden_check(grader, topic: str):
    topic_obj = COURSE.topic(topic)
    notebook = build_notebook(topic=topic_obj, course=COURSE)
    nbformat.validate(notebook)
    ids = [c.metadata["nbgrader"]["grade_id"] for c in notebook.cells]
    assert len(ids) == len(set(ids))
    tests = [c for c in notebook.cells if c.metadata["nbgrader"]["grade"]]
    assert sum(c.metadata["nbgrader"]["points"] for c in tests) == topic_obj.points
    text = json.dumps(notebook)
    hidden = [c for c in topic_obj.checks if c not in {t.metadata["nbgrader"]["grade_id"] for t in tests}]
    assert hidden and all(h not in text for h in hidden)
    assert tests[-1].metadata["nbgrader"]["grade_id"] == HIDDEN_CELL
    assert topic_of_notebook(nbformat.writes(notebook).encode(), topics=COURSE.topics, name="homework.ipynb") == topic  # by its metadata
    result = grade_source(grader, notebook_code(nbformat.writes(notebook).encode(), name=f"{topic}.ipynb"), topic)
    assert {c.id: c.message for c in result.checks if c.status != PASSED} == {}


def test_a_test_cell_run_by_the_student_grades_the_saved_notebook(tmp_path, monkeypatch, capsys):
    """autograder.release.notebook.check: passes quietly (stdout only) or raises with the check's message."""
    from autograder.release import notebook

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AUTOGRADER_COURSE", str(ROOT / "course.yaml"))
    known = known_mistakes("information")["kl_swapped"]
    (tmp_path / "information.ipynb").write_bytes(_as_notebook(known.source))
    notebook.check("information", "entropy")
    captured = capsys.readouterr()
    assert captured.out.startswith("passed: ") and captured.err == ""
    with pytest.raises(notebook.CheckNotPassed, match="kl_divergence failed: .*your answer matches a known mistake: the KL divergence has its arguments swapped"):
        notebook.check("information", "kl_divergence")
    with pytest.raises(notebook.CheckNotPassed, match="topic 'information' has no check 'no_such_check'"):
        notebook.check("information", "no_such_check")


def test_a_test_cell_away_from_its_released_files_says_what_to_put_back(tmp_path, monkeypatch):
    """The notebook alone, without the course.yaml, checks/ and answers/ released beside it."""
    from autograder.release import notebook

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AUTOGRADER_COURSE", raising=False)
    monkeypatch.setattr(notebook, "_state", {"grader": None, "reports": {}})
    (tmp_path / "information.ipynb").write_bytes(_as_notebook("x = 1"))
    with pytest.raises(notebook.CheckNotPassed) as caught:
        notebook.check("information", "entropy")
    assert str(caught.value) == (
        f"no course.yaml in {tmp_path} or above it: the test cells grade with the files released beside information.ipynb"
        " (course.yaml, checks/public/information.py, answers/information.npz); put them back beside it (nbgrader fetch"
        " does), or set AUTOGRADER_COURSE to the course.yaml of a course that has this topic"
    )
