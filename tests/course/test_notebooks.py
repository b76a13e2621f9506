"""Notebooks as submissions (autograder.course.notebooks, Submission.from_path): the code cells are the module."""

from __future__ import annotations

import json

import pytest

from autograder.course.config import load_course
from autograder.course.notebooks import NotebookError, notebook_code
from autograder.course.submission import Submission
from autograder.engine.results import FAILED
from autograder.errors import UsageError

from conftest import ROOT, grade_source, statuses
from mistakes import known_mistakes

COURSE = load_course(ROOT / "course.yaml")


def _notebook(*cells: dict) -> bytes:
    return json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": list(cells)}).encode()


def _code(source, **nbgrader) -> dict:
    return {"cell_type": "code", "source": source, "metadata": {"nbgrader": nbgrader} if nbgrader else {}, "outputs": [], "execution_count": None}


@pytest.mark.parametrize(
    "cells, expected",
    [
        pytest.param([_code("x = 1"), {"cell_type": "markdown", "source": "# x", "metadata": {}}, _code(["def f():\n", "    return x"])], "# In[0]\nx = 1\n\n# In[2]\ndef f():\n    return x\n", id="code-cells-in-order"),
        pytest.param([_code("%matplotlib inline\n!pip install x\ny = 2")], "# In[0]\n# %matplotlib inline  (IPython only)\n# !pip install x  (IPython only)\ny = 2\n", id="magics-commented-out"),
        pytest.param([_code("y = 2", grade_id="s", solution=True, grade=False, locked=False), _code("check()", grade_id="t", solution=False, grade=True, locked=True, points=1)], "# In[0]\ny = 2\n", id="nbgrader-test-cells-left-out"),
    ],
)
def test_the_code_cells_are_the_module(cells, expected: str):
    assert notebook_code(_notebook(*cells), name="nb.ipynb") == expected


@pytest.mark.parametrize(
    "data, message",
    [
        pytest.param(b"\xff\xfe", "nb.ipynb is not UTF-8 text (byte 0), so not a notebook", id="not-utf8"),
        pytest.param(b'{"cells": [', "nb.ipynb is not a notebook: not valid JSON", id="truncated-json"),
        pytest.param(b"[]", "expected a JSON object with a 'cells' list", id="not-an-object"),
        pytest.param(json.dumps({"nbformat": 3, "cells": []}).encode(), "nbformat 3 is not supported", id="nbformat-3"),
        pytest.param(_notebook({"cell_type": "code", "source": 7, "metadata": {}}), "cell 0: 'source' must be a string or a list of strings, got int", id="bad-source"),
    ],
)
def test_what_is_not_a_notebook_gets_one_clear_line(data: bytes, message: str):
    with pytest.raises(NotebookError, match=message.replace("(", r"\(").replace(")", r"\)")):
        notebook_code(data, name="nb.ipynb")


def _as_notebook(source: str) -> bytes:
    return _notebook(_code(source))


def test_a_notebook_grades_like_the_module_it_holds(grader, tmp_path):
    known = known_mistakes("information")["kl_swapped"]
    (tmp_path / "information.ipynb").write_bytes(_as_notebook(known.source))
    from_notebook = grader.grade(Submission.from_path(tmp_path / "information.ipynb", grader.course), topics=["information"]).topics[0]
    from_module = grade_source(grader, known.source, "information")
    assert statuses(from_notebook) == statuses(from_module)
    assert {c.id for c in from_notebook.checks if c.status == FAILED} == known.fails


def test_a_broken_notebook_fails_its_topic_with_the_reason(grader, tmp_path):
    (tmp_path / "information.ipynb").write_bytes(b"{not json")
    result = grader.grade(Submission.from_path(tmp_path, grader.course), topics=["information"]).topics[0]
    assert result.points == 0 and "information.ipynb is not a notebook: not valid JSON" in result.error


def test_a_folder_with_both_a_module_and_a_notebook_for_a_topic_is_ambiguous(grader, tmp_path):
    (tmp_path / "information.py").write_text("x = 1\n")
    (tmp_path / "information.ipynb").write_bytes(_as_notebook("x = 1"))
    result = grader.grade(Submission.from_path(tmp_path, grader.course), topics=["information"]).topics[0]
    assert "both information.py and information.ipynb; submit one of them" in result.error


def test_a_notebook_must_be_named_after_its_topic(tmp_path):
    (tmp_path / "homework.ipynb").write_bytes(_as_notebook("x = 1"))
    with pytest.raises(UsageError, match="must be named after its topic"):
        Submission.from_path(tmp_path / "homework.ipynb", COURSE)
