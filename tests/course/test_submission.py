"""Bad submissions: every kind of file a student can hand in instead of a module gets one clear line and a zero for
what it affects, never a traceback (autograder.course.submission, and the worker for what a module defines)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from autograder.course.submission import MAX_SOURCE_BYTES, Submission
from autograder.engine.results import FAILED, NOT_ATTEMPTED, PASSED

from conftest import ROOT

REFERENCE = (ROOT / "solutions" / "information.py").read_text()


def _write(folder: Path, kind: str) -> None:
    target = folder / "information.py"
    if kind == "binary":
        target.write_bytes(b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)))
    elif kind == "huge":
        target.write_text(REFERENCE + "#" * MAX_SOURCE_BYTES)
    elif kind == "empty":
        target.write_text("")
    elif kind == "symlink-outside":
        target.symlink_to(ROOT / "solutions" / "information.py")
    elif kind == "folder":
        target.mkdir()
    elif kind == "number-for-a-function":
        target.write_text(REFERENCE + "\nentropy = 3\n")
    elif kind == "syntax-error":
        target.write_text(REFERENCE + "\ndef broken(:\n")
    elif kind == "latin-1":
        target.write_bytes("# Übung von Jürgen\n".encode("latin-1") + REFERENCE.encode())
    elif kind == "notebook-not-json":
        (folder / "information.ipynb").write_text('{"cells": [{"cell_type": "code", "source": "x = 1"')


# kind -> (status of the checks it affects, a fragment of the one line the student gets, checks that still pass)
CASES = {
    "binary": (FAILED, "information.py is not UTF-8 text (byte 136)", 0),
    "huge": (FAILED, f"; the limit is {MAX_SOURCE_BYTES}", 0),
    "empty": (FAILED, "does not define 'entropy'", 0),
    "symlink-outside": (FAILED, "information.py is not a regular file", 0),
    "folder": (FAILED, "information.py is not a regular file", 0),
    "number-for-a-function": (FAILED, "defines 'entropy' as int 3, not as a function or class", 1),
    "syntax-error": (FAILED, "SyntaxError", 0),
    "latin-1": (FAILED, "information.py is not UTF-8 text (byte 2)", 0),
    "notebook-not-json": (FAILED, "information.ipynb is not a notebook", 0),
}


@pytest.mark.parametrize("kind", sorted(CASES))
def test_a_bad_file_gets_one_clear_line_and_a_zero(grader, tmp_path: Path, kind: str):
    status, fragment, some_pass = CASES[kind]
    _write(tmp_path, kind)
    result = grader.grade(Submission.from_path(tmp_path, grader.course), topics=["information"]).topics[0]
    messages = [result.error or ""] + [c.message for c in result.checks]
    assert any(fragment in m for m in messages), messages[:3]
    assert not any("Traceback (most recent call last)" in m for m in messages)
    entropy = next(c for c in result.checks if c.id == "entropy")
    assert entropy.status == status and entropy.points == 0
    assert (sum(c.status == PASSED for c in result.checks) > 0) == bool(some_pass)  # the rest of the module still counts


def test_a_missing_file_is_not_attempted(grader, tmp_path: Path):
    result = grader.grade(Submission.from_path(tmp_path, grader.course), topics=["information"]).topics[0]
    assert {c.status for c in result.checks} == {NOT_ATTEMPTED} and "not found" in result.error
    assert not os.listdir(tmp_path)


# ---- the other modules of a submission's folder ----------------------------------------------------------------------

def test_a_topic_imports_its_folders_helper_modules_and_tracebacks_show_their_lines(grader, tmp_path: Path):
    (tmp_path / "logs.py").write_text("import numpy as np\n\n\ndef plogp(p):\n    return p * np.log(p, where=p > 0)\n")
    (tmp_path / "broken_helper.py").write_text("def boom():\n    return 1 / 0\n")
    (tmp_path / "information.py").write_text(REFERENCE + "\nfrom broken_helper import boom\n\n\ndef cross_entropy(p, q):\n    return boom()\n")
    submission = Submission.from_path(tmp_path, grader.course)
    assert [h[0] for h in submission.sources["information"].helpers] == ["broken_helper", "logs"]
    result = grader.grade(submission, topics=["information"]).topics[0]
    check = next(c for c in result.checks if c.id == "cross_entropy")
    assert check.status == FAILED
    assert f'File "{tmp_path / "broken_helper.py"}", line 2, in boom' in check.message and "return 1 / 0" in check.message
    assert next(c for c in result.checks if c.id == "entropy").status == PASSED


def test_helper_modules_are_part_of_what_seeds_the_hidden_inputs(tmp_path: Path, course):
    (tmp_path / "information.py").write_text(REFERENCE)
    before = Submission.from_path(tmp_path, course).sources["information"].code
    (tmp_path / "helpers.py").write_text("X = 1\n")
    after = Submission.from_path(tmp_path, course).sources["information"]
    assert after.data == before and after.code != before  # a helper changed: other inputs


@pytest.mark.parametrize(
    ("files", "notes"),
    [
        pytest.param(["convolutions.py"], ["convolutions.py is not a topic file, so it was not graded; did you mean convolution.py?"], id="plural"),
        pytest.param(["Convolution.ipynb"], ["Convolution.ipynb is not a topic file, so it was not graded; did you mean convolution.ipynb?"], id="capital"),
        pytest.param(["convolution.py", "helpers.py", "utils.py"], [], id="helpers-are-not-misnamed"),
        pytest.param(["probabilty.py", "information.py"], ["probabilty.py is not a topic file, so it was not graded; did you mean probability.py?"], id="typo"),
    ],
)
def test_a_misnamed_topic_file_is_named_with_the_file_it_was_meant_to_be(course, tmp_path: Path, files: list[str], notes: list[str]):
    for name in files:
        (tmp_path / name).write_text("x = 1\n")
    assert list(Submission.from_path(tmp_path, course).notes) == notes


def test_a_misnamed_single_file_or_a_folder_of_them_says_did_you_mean(course, tmp_path: Path):
    from autograder.course.submission import find_topic_folder
    from autograder.errors import UsageError

    (tmp_path / "inner").mkdir()
    (tmp_path / "inner" / "Convolution.py").write_text("x = 1\n")
    with pytest.raises(UsageError, match=r"did you mean convolution\.py\?$"):
        Submission.from_path(tmp_path / "inner" / "Convolution.py", course)
    with pytest.raises(UsageError, match=r"inner/Convolution\.py is not a topic file, so it was not graded; did you mean convolution\.py\?"):
        find_topic_folder(tmp_path, [t.id for t in course.topics])
