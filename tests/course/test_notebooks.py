"""Notebooks as submissions (autograder.course.notebooks, Submission.from_path): the code cells are the module."""

from __future__ import annotations

import dataclasses
import json

import pytest

from autograder.course.config import load_course
from autograder.course.notebooks import NotebookError, notebook_code, notebook_module, topic_of_notebook
from autograder.course.submission import Submission
from autograder.engine.results import FAILED
from autograder.errors import UsageError

from conftest import ROOT, grade_source, statuses
from mistakes import known_mistakes

COURSE = load_course(ROOT / "course.yaml")


def _notebook(*cells: dict) -> bytes:
    return json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": list(cells)}).encode()


def _code(source, *, cell_id: str | None = None, **nbgrader) -> dict:
    cell = {"cell_type": "code", "source": source, "metadata": {"nbgrader": nbgrader} if nbgrader else {}, "outputs": [], "execution_count": None}
    return cell if cell_id is None else {"id": cell_id, **cell}


MARKDOWN = {"cell_type": "markdown", "source": "# x", "metadata": {}}


@pytest.mark.parametrize(
    "cells, expected",
    [
        pytest.param([_code("x = 1"), MARKDOWN, _code(["def f():\n", "    return x"])], "# cell 1\nx = 1\n\n# cell 3\ndef f():\n    return x\n", id="code-cells-in-order"),
        pytest.param([_code("%matplotlib inline\n!pip install x\ny = 2")], "# cell 1\n# %matplotlib inline  (IPython only)\n# !pip install x  (IPython only)\ny = 2\n", id="magics-commented-out"),
        pytest.param([_code("y = 2", grade_id="s", solution=True, grade=False, locked=False), _code("check()", grade_id="t", solution=False, grade=True, locked=True, points=1)], "# cell 1 (id s)\ny = 2\n", id="nbgrader-test-cells-left-out"),
    ],
)
def test_the_code_cells_are_the_module(cells, expected: str):
    assert notebook_code(_notebook(*cells), name="nb.ipynb") == expected


@pytest.mark.parametrize(
    "cells, expected",
    [
        pytest.param([_code("x = 1", cell_id="a1"), MARKDOWN, _code("def f():\n    return x", cell_id="b2")], ((2, 1, 1, "a1"), (5, 2, 3, "b2")), id="markdown-cells-are-counted"),
        pytest.param(
            [_code("y = 2", cell_id="abc", grade_id="cell-3f2a", solution=True, grade=False), _code("check()", grade_id="t", solution=False, grade=True), _code("z = 3")],
            ((2, 1, 1, "cell-3f2a"), (5, 1, 3, "")),
            id="nbgrader-grade-id-first-test-cells-counted-not-mapped",
        ),
        pytest.param([_code("", cell_id="e"), _code("w = 1", cell_id="not an id!")], ((4, 1, 2, ""),), id="empty-cell-unmapped-odd-id-dropped"),
    ],
)
def test_the_line_map_gives_each_code_cell_its_number_id_and_lines(cells, expected):
    """Cells are numbered from 1 down the notebook, as a student counts them; a module line is the cell line's text."""
    text, spans = notebook_module(_notebook(*cells), name="nb.ipynb")
    assert spans == expected
    module = text.splitlines()
    for first, count, number, _ in spans:
        assert module[first - 1 : first - 1 + count] == cells[number - 1]["source"].splitlines()


@pytest.mark.parametrize(
    "data, message",
    [
        pytest.param(b"\xff\xfe", "nb.ipynb is not UTF-8 text (byte 0), so not a notebook", id="not-utf8"),
        pytest.param(b'{"cells": [', "nb.ipynb is not a notebook: not valid JSON", id="truncated-json"),
        pytest.param(b"[]", "expected a JSON object with a 'cells' list", id="not-an-object"),
        pytest.param(json.dumps({"nbformat": 3, "cells": []}).encode(), "nbformat 3 is not supported", id="nbformat-3"),
        pytest.param(_notebook({"cell_type": "code", "source": 7, "metadata": {}}), "cell 1: 'source' must be a string or a list of strings, got int", id="bad-source"),
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


# ---- messages name the cell and its line, never a line of the JSON or of the module -----------------------------------

INFORMATION = (ROOT / "solutions" / "information.py").read_text()


def _graded(grader, tmp_path, cell: dict, **kwargs):
    """The information topic from a notebook: a markdown cell, the reference, then ``cell`` (cell 3)."""
    path = tmp_path / "information.ipynb"
    path.write_bytes(json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [MARKDOWN, _code(INFORMATION, cell_id="ref"), cell]}, indent=1).encode())
    return path.resolve(), grader.grade(Submission.from_path(path, grader.course), topics=["information"], public_only=True, **kwargs).topics[0]


@pytest.mark.parametrize(
    "source, shown",
    [
        pytest.param("x = 1\ny = (2,\n", ["cell 3 (id cell-b), line 2\n    y = (2,\n        ^\nSyntaxError: '(' was never closed"], id="syntax-error"),
        pytest.param("def f():\n\nx = 1\n", ["cell 3 (id cell-b), line 3\n    x = 1\n", "after function definition in cell 3 (id cell-b), line 1"], id="indentation-error-names-the-cell-in-its-message"),
        pytest.param("x = 1\nraise ValueError('at import')\n", ["cell 3 (id cell-b), line 2, in <module>\n    raise ValueError('at import')\nValueError: at import"], id="raises-at-import"),
    ],
)
def test_a_notebook_that_cannot_load_names_the_cell_and_its_line(grader, tmp_path, source: str, shown: list[str]):
    path, result = _graded(grader, tmp_path, _code(source, cell_id="cell-b"))
    assert result.error.startswith(f'importing {path} failed:\n  File "{path}", '), result.error
    for text in shown:
        assert text in result.error
    assert '"cell_type"' not in result.error and "line 4" not in result.error  # neither the JSON nor the module's numbering


def test_a_runtime_error_in_a_notebook_shows_every_frame_as_a_cell_and_line(grader, tmp_path):
    cell = _code("def helper(p):\n    return p / undefined_name\n\n\ndef entropy(p):\n    return helper(p)\n", cell_id="cell-c")
    path, result = _graded(grader, tmp_path, cell, checks=["entropy"])
    (entropy,) = result.checks
    assert f'File "{path}", cell 3 (id cell-c), line 6, in entropy\n    return helper(p)\n' in entropy.message
    assert f'File "{path}", cell 3 (id cell-c), line 2, in helper\n    return p / undefined_name\n' in entropy.message


def test_nbgrader_feedback_names_the_cell_and_its_line(grader, monkeypatch):
    """The nbgrader preprocessor grades the notebook's cells with their line map (here with the session's grader)."""
    pytest.importorskip("nbgrader")
    from autograder.release.nbgrader_plugin import GradeInSandbox

    course = str((ROOT / "course.yaml").resolve())
    monkeypatch.setitem(GradeInSandbox._graders, course, grader)
    test_cell = _code("check()", grade_id="entropy", grade=True, solution=False, locked=True, points=1)
    notebook = {"cells": [MARKDOWN, _code("x = (1,", cell_id="cell-b", grade_id="cell-b", solution=True, grade=False), test_cell]}
    from nbformat import from_dict

    nb, _ = GradeInSandbox(course=course).preprocess(from_dict(notebook), {"nbgrader": {"assignment": "information", "student": "s"}})
    (output,) = nb.cells[2].outputs
    assert 's/information/information.ipynb", cell 2 (id cell-b), line 1' in "\n".join(output["traceback"])


def _with_topic(topic: str) -> bytes:
    """A notebook whose metadata names its topic, as `grade release nbgrader` writes it, and no cells."""
    return json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {"autograder": {"topic": topic}}, "cells": []}).encode()


def _tests(*check_ids: str) -> bytes:
    return _notebook(*(_code("check()", grade_id=c, solution=False, grade=True, locked=True, points=1) for c in check_ids))


@pytest.mark.parametrize(
    "name, data, expected",
    [
        pytest.param("homework.ipynb", _with_topic("information"), "information", id="the-metadata"),
        pytest.param("convolution.ipynb", _with_topic("information"), "information", id="the-metadata-before-the-name"),
        pytest.param("homework.ipynb", _tests("conv1d_full", "bad_mode", "hidden-checks"), "convolution", id="the-test-cells"),
        pytest.param("convolution.ipynb", _notebook(), "convolution", id="the-exact-name"),
        pytest.param("convolution (1).ipynb", _notebook(), "convolution", id="a-copy-of-the-name"),
        pytest.param("convolution-jdoe.ipynb", _notebook(), "convolution", id="the-name-and-a-student"),
        pytest.param("jdoe_convolution.ipynb", _notebook(), "convolution", id="a-student-and-the-name"),
        pytest.param("Convolutions.ipynb", _notebook(), "convolution", id="a-close-name"),
        pytest.param("homework.ipynb", _as_notebook("def entropy(p):\n    pass\n\ndef kl_divergence(p, q):\n    pass\n"), "information", id="the-functions"),
        pytest.param("hw.ipynb", _as_notebook("def conv1d(f, h:\n"), "convolution", id="the-functions-of-code-that-does-not-parse"),
        pytest.param("information-convolution.ipynb", _as_notebook("def conv1d(f, h):\n    pass\n"), "convolution", id="the-functions-break-a-tie-of-names"),
        pytest.param("convolution (2).ipynb", b"{not json", "convolution", id="the-name-of-a-broken-notebook"),
    ],
)
def test_a_notebooks_topic_is_inferred(name: str, data: bytes, expected: str):
    assert topic_of_notebook(data, topics=COURSE.topics, name=name) == expected


# Two topics that share a check id: a notebook's test cells named after it fit both.
SHARED_CHECK = [COURSE.topic("convolution"), dataclasses.replace(COURSE.topic("information"), checks={"conv1d_full": 1.0})]


@pytest.mark.parametrize(
    "name, data, topics, message",
    [
        pytest.param("information-convolution.ipynb", _notebook(), COURSE.topics, "cannot tell which topic information-convolution.ipynb answers: it could be convolution or information (by its file name); name it after its topic (convolution.ipynb, ...) or pass --topic", id="two-names"),
        pytest.param("hw.ipynb", _tests("conv1d_full"), SHARED_CHECK, "cannot tell which topic hw.ipynb answers: it could be convolution or information (by its nbgrader test cells); name it after its topic (convolution.ipynb, ...) or pass --topic", id="test-cells-of-two-topics"),
        pytest.param("homework.ipynb", _as_notebook("x = 1"), COURSE.topics, f"no topic matches homework.ipynb: neither its metadata, its nbgrader test cells, its file name nor the functions it defines name one of {', '.join(t.id for t in COURSE.topics)}; name it after its topic (<topic>.ipynb) or pass --topic", id="nothing-matches"),
        pytest.param("homework.ipynb", b"{not json", COURSE.topics, "homework.ipynb is not a notebook: not valid JSON (Expecting property name enclosed in double quotes at line 1, column 2)", id="not-a-notebook-and-no-name"),
    ],
)
def test_a_notebook_whose_topic_cannot_be_told_is_named_with_the_candidates(name: str, data: bytes, topics, message: str):
    with pytest.raises(NotebookError) as caught:
        topic_of_notebook(data, topics=topics, name=name)
    assert str(caught.value) == message


def test_with_one_topic_a_notebook_is_that_topics():
    assert topic_of_notebook(_as_notebook("x = 1"), topics=[COURSE.topic("probability")], name="homework.ipynb") == "probability"
