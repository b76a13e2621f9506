"""Attacks on a whole class graded with ``grade batch``: a submission must neither earn credit from outside itself
nor stop the class files (gradebook, summary) from being written.

Threat-model classes (../shared/docs/threat-model.md): 6 (reading the instructor's source or a classmate's work
through a link above the topic file), 10 (symlinks), 13 (a notebook nested deeply enough to exhaust the parser's
stack), 14 (taking classmates' results down: a name that takes a class file's place, text that cannot be encoded).
One batch grades the whole class, twice (a rerun must grade again only what failed and write the same gradebook).
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, topic_course

REFERENCE = (ROOT / "solutions" / "information.py").read_text()
FULL = 29  # the information topic's points
SURROGATE = REFERENCE + '\n\ndef entropy(p):\n    raise ValueError("\\ud800 cannot be encoded")\n'


def _folder(path: Path, text: str) -> None:
    path.mkdir(parents=True)
    (path / "information.py").write_text(text)


def _notebook(code: str) -> str:
    return json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{"cell_type": "code", "source": code, "metadata": {}, "outputs": [], "execution_count": None}]})


# name -> (status in the gradebook, total, a fragment of its error column)
ROWS = {
    "alice": ("graded", FULL, ""),
    "linked-source": ("failed", 0, "no topic file"),  # exercises/ is a link to the instructor's source folder
    "linked-up": ("failed", 0, "no topic file"),  # up/ is a link to the submissions folder: alice's work at up/alice
    "gradebook.csv": ("graded", FULL, ""),
    "summary.md": ("graded", FULL, ""),
    "summary.json": ("graded", FULL, ""),
    "surrogate": ("graded", None, ""),  # loses entropy's checks, nothing else
    "deep": ("graded", 0, "nested too deeply"),
    "bad\ufffdname": ("graded", FULL, ""),  # a folder name with a byte that is not UTF-8
}


def _class(folder: Path, instructor: Path) -> None:
    _folder(instructor / "source" / "information", REFERENCE)
    _folder(folder / "alice", REFERENCE)
    (folder / "linked-source").mkdir()
    (folder / "linked-source" / "exercises").symlink_to(instructor / "source" / "information")
    (folder / "linked-up").mkdir()
    (folder / "linked-up" / "up").symlink_to("..")
    for name in ("gradebook.csv", "summary.md", "summary.json"):
        _folder(folder / name, REFERENCE)
    _folder(folder / "surrogate", SURROGATE)
    (folder / "deep.ipynb").write_text('{"cells": ' + "[" * 200_000 + "]" * 200_000 + "}")
    _folder(Path(os.fsdecode(bytes(folder / "bad") + b"\xffname")), REFERENCE)


def _batch(submissions: Path, out: Path, course: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AUTOGRADER_SECRET": "class-attack-secret"}
    return subprocess.run([sys.executable, "-m", "autograder", "batch", str(submissions), "--out", str(out), "--course", str(course)], capture_output=True, text=True, timeout=900, env=env, cwd=ROOT)


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> dict[str, object]:
    root = tmp_path_factory.mktemp("class")
    submissions, out = root / "submissions", root / "results"
    submissions.mkdir()
    _class(submissions, root / "instructor")
    course = topic_course(root, "information", cpu_s=2, memory_mb=1024)  # no submission here computes for long
    first = _batch(submissions, out, course)
    gradebook = (out / "gradebook.csv").read_bytes() if (out / "gradebook.csv").is_file() else b""
    second = _batch(submissions, out, course)
    return {"first": first, "second": second, "out": out, "gradebook": gradebook}


def _rows(out: Path) -> dict[str, dict[str, str]]:
    return {row["submission"]: row for row in csv.DictReader(io.StringIO((out / "gradebook.csv").read_text(encoding="utf-8")))}


def test_the_class_files_are_written_whatever_a_submission_did(graded):
    """14: no submission's name or text stops the gradebook and summary; the rerun grades only what failed and agrees."""
    first, second, out = graded["first"], graded["second"], graded["out"]
    assert first.returncode == 4, first.stderr[-3000:]  # the linked-* rows cannot be graded
    assert (out / "gradebook.csv").is_file() and (out / "summary.md").is_file() and json.loads((out / "summary.json").read_text())["submissions"] == len(ROWS)
    assert second.returncode == 4, second.stderr[-3000:]
    failed = sum(status == "failed" for status, _, _ in ROWS.values())  # tried again on every run
    assert f"{len(ROWS) - failed} already graded, {failed} to grade (failed last time)" in second.stderr
    assert (out / "gradebook.csv").read_bytes() == graded["gradebook"]
    assert not [p.name for p in out.iterdir() if p.name.startswith(".") and p.name != ".lock"]  # no temporary files left


@pytest.mark.parametrize("name", sorted(ROWS))
def test_each_submission_gets_its_own_row(graded, name: str):
    """6, 10, 13: links above the topic file are not followed (no credit from the instructor's source or a classmate);
    a notebook nested too deeply is one clear line for that submission only."""
    status, total, fragment = ROWS[name]
    row = _rows(graded["out"])[name]
    assert row["status"] == status and fragment in row["error"], row
    if total is not None:
        assert float(row["total"]) == total, row
    else:
        assert 0 < float(row["total"]) < FULL, row


def test_text_that_cannot_be_encoded_reaches_the_report_as_a_replacement_character(graded):
    """14 (and 3 of the issue): a lone surrogate in an exception message is made safe where it leaves the worker."""
    report = json.loads((graded["out"] / "submissions" / "surrogate" / "results.json").read_text(encoding="utf-8"))
    messages = [c["message"] for t in report["topics"] for c in t["checks"] if c["status"] == "failed"]
    assert messages and any("\ufffd cannot be encoded" in m for m in messages)
