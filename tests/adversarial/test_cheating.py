"""Adversarial submissions that answer from a table or change their behaviour under grading (threat model 11, 15).

Hardcoding: answers looked up for the public inputs, which students see. A student's own run (no course secret)
uses those inputs, so the table passes there; the course grades with its secret, and then every check, public ones
included, draws fresh inputs: the table earns nothing. Behaving differently when graded: everything a worker can
observe (its environment, argv, working folder, the request it was sent) is the same in a student's own run and in
the course's grading, so code cannot tell the two apart and save its tricks for one of them.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import re

import numpy as np
import pytest

from autograder.engine.grading import Grader
from autograder.engine.seeding import check_seed

from attacks import COURSE, CONV1D_CHECKS, Attack, attack, grade_report
from conftest import grade_source, statuses

from solutions.convolution import conv1d as reference_conv1d


def _public_inputs() -> tuple[np.ndarray, np.ndarray]:
    """conv1d_full's inputs as a student sees them: drawn from the course's public seed."""
    seed = check_seed(topic="convolution", check="conv1d_full", hidden=False, public_seed=COURSE.public_seed, secret=None, submission="")
    rng = np.random.default_rng(seed)
    return rng.standard_normal(9), rng.standard_normal(4)


def _table() -> dict[str, list[float]]:
    f, h = _public_inputs()
    return {f.tobytes().hex() + h.tobytes().hex(): reference_conv1d(f, h, "full").tolist()}


HARDCODED = """
_TABLE = {{TABLE}}


def conv1d(f, h, mode="full"):
    key = _np.asarray(f, dtype=float).tobytes().hex() + _np.asarray(h, dtype=float).tobytes().hex()
    if mode == "full" and key in _TABLE:
        return _np.array(_TABLE[key])
    return _wrong(f, h, mode)
"""


@pytest.fixture(scope="module")
def students_own():
    """What a student runs, in a given sandbox mode: the same course without its secret (a student bundle has none)."""
    course = dataclasses.replace(COURSE, secret_env="AUTOGRADER_SECRET_NOT_SET_HERE", secret_file=None)
    graders: dict[str, Grader] = {}
    with contextlib.ExitStack() as stack:

        def in_mode(mode: str) -> Grader:
            if mode not in graders:
                graders[mode] = stack.enter_context(Grader(course=course, sandbox=mode, devices=["cpu"]))
            return graders[mode]

        yield in_mode


def test_answers_hardcoded_for_the_public_inputs_earn_nothing_when_the_course_grades(tight_grader, students_own):
    source = attack(HARDCODED, TABLE=_table())
    assert statuses(grade_source(students_own(tight_grader.mode), source))["conv1d_full"] == "passed"  # the table does match
    Attack(HARDCODED, values={"TABLE": _table()}, phrase=r"are off").run(tight_grader)


OBSERVER = """
import json, os, sys


def _observe():
    frame, request = sys._getframe(1), None
    while frame is not None and request is None:
        request = frame.f_locals.get("request") if isinstance(frame.f_locals.get("request"), dict) else None
        frame = frame.f_back
    seen = {"env": dict(os.environ), "argv": sys.argv, "cwd": os.getcwd(), "request": request}
    print("OBSERVED " + json.dumps(seen, sort_keys=True, default=repr), flush=True)


def conv1d(f, h, mode="full"):
    if _first_call(f):
        _observe()
    return _wrong(f, h, mode)
"""


def test_a_worker_cannot_tell_the_courses_grading_from_a_students_own_run(tight_grader, students_own):
    observed = {}
    for who, g in (("course", tight_grader), ("student", students_own(tight_grader.mode))):
        output = grade_report(g, attack(OBSERVER)).topics[0].output
        found = re.search(r"OBSERVED (\{.*\})", output)
        assert found, output
        # The process sandbox's working folder is a fresh random one per worker: it differs between any two runs.
        observed[who] = json.loads(re.sub(r"autograder-worker-\w+", "autograder-worker-*", found.group(1)))
    assert observed["course"]["request"] is not None, "the observer should have found the request it answers"
    assert observed["course"] == observed["student"]
    assert not {k for k in observed["course"]["env"] if "SECRET" in k or "AUTOGRADER" in k or "GRADESCOPE" in k or k == "CI"}
    text = json.dumps(observed["course"])
    assert not any(check in text for check in CONV1D_CHECKS), "the request names the check it belongs to"
    assert "hidden" not in text
