"""Adversarial submissions: every attack of docs/threat-model.md that applies to this grader, graded for real.

This module is their shared machinery: the course's facts, the attack builder, the assertions and the table row.
The tests, grouped by the threat model's classes (its numbers), are in

- test_exits.py: exiting (1), fake scores and result files (2);
- test_forgery.py: forged return values (3), monkeypatching (4), frames and the heap (5), mutated inputs (7),
  forged protocol frames (10);
- test_secrets.py: the reference, the hidden checks and the course secret (6), the network (13);
- test_payloads.py: pickle payloads (9), forged array headers and a planted symlink (10);
- test_resources.py: atexit hooks and threads (8), survivors (12), hangs, memory, forks, disk, floods (13),
  doing nothing;
- test_cheating.py: hardcoded public answers (11), behaving differently when graded (15);
- test_neighbours.py: signalling other workers and reaching into a classmate's submission (14);
- test_leaks.py: hidden inputs spelled in the submission's own text, forged sandbox failures (5, 6);
- test_class.py: a class graded with ``grade batch``: links above the topic file, names and text that would stop the
  class files (6, 10, 13, 14);
- test_gradescope.py: upload paths that would steer the Gradescope autograder to the course's own files (6, 10);
- test_lookup.py: a lookup table of the student bundle's recorded answers, graded with the course secret (11);
- test_persistence.py: what one worker leaves (keyrings, files, shm, sockets) and what a worker can see of the host
  (6, 12, 14).

Each attack is the reference solution with something appended (usually a new ``conv1d``), so that the checks the
attack targets and the checks it leaves alone are both known. Every test asserts that

1. the attacked checks earn nothing (not "passed", 0 points),
2. the checks of the functions the attack did not touch still pass (the rest of the run is unharmed),
3. the grader keeps working: the pristine reference, graded right afterwards by the same grader, scores full marks
   (once per attack class, to keep the suite fast: exits, fake output, forged results, the reference by name,
   hangs, memory, processes, network, forged frames; rows with ``recover=True``),
4. the student is told what happened, in words (a distinctive phrase of the message).

Most tests run in every sandbox mode (``tight_grader``: per check 2 s of CPU time and 2 s asleep, 512 MiB). Attacks
that only the strict sandbox can stop (reading files, talking to the network, seeing other processes) skip the process
mode.

Costly attacks (hangs, memory and fork bombs) fire only on the first public conv1d call, recognised by its input's
length (the course grades with its secret, so public inputs are drawn fresh and their values are unknown), so each
costs one time limit, not one per conv1d call.
"""

from __future__ import annotations

import os
import re
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from autograder.course.config import load_course
from autograder.course.submission import Submission
from autograder.engine.grading import Grader
from autograder.engine.results import ERROR, PASSED, Report, TopicResult

from conftest import ROOT, grade_source

REFERENCE = (ROOT / "solutions" / "convolution.py").read_text()
STUB = (ROOT / "exercises" / "convolution.py").read_text()
HIDDEN_CHECKS = ROOT / "checks" / "hidden" / "convolution.py"
# Distinctive lines that must never reach a student: one of the hidden checks, one of the reference's code.
HIDDEN_LINE = "def hidden_conv2d_backward(t: Trial) -> None:"
REFERENCE_LINE = "# One shifted slice per kernel tap: k vector operations rather than m * k scalar ones."
SECRET = os.environ["AUTOGRADER_SECRET"]  # conftest sets it (unless the caller already had one)
GRADE = str(Path(sys.executable).with_name("grade"))

COURSE = load_course(ROOT / "course.yaml")
POINTS = COURSE.topic("convolution").checks  # check id -> points
TOTAL = sum(POINTS.values())
CONV1D_CHECKS = ("conv1d_full", "conv1d_modes", "bad_mode", "conv1d_contract", "hidden_conv1d")  # every check that calls conv1d
OTHER_CHECKS = tuple(c for c in POINTS if c not in CONV1D_CHECKS)
EVERYTHING = tuple(POINTS)


def out_of_cpu(budget: float | None = None) -> str:
    """The message of a check stopped for computing ``budget`` seconds (limits.cpu_s; None: any budget)."""
    return rf"used this check's {_seconds(budget)} s of CPU time \(limits\.cpu_s\) without finishing and was stopped"


def asleep(budget: float | None = None) -> str:
    """The message of a check stopped for sleeping or blocking ``budget`` seconds (limits.wall_s; None: any budget)."""
    return rf"spent {_seconds(budget)} s neither computing nor waiting for a CPU \(asleep or blocked: limits\.wall_s\) and was stopped"


def _seconds(budget: float | None) -> str:
    return r"[\d.]+" if budget is None else re.escape(f"{budget:g}")


TIMEOUT = f"{out_of_cpu()}|{asleep()}"  # either, with any budget
STRICT_ONLY = "only the strict sandbox can stop this (the process sandbox shares the file system, network and /proc)"

assert REFERENCE_LINE in REFERENCE and HIDDEN_LINE in HIDDEN_CHECKS.read_text(), "update the distinctive lines"

# Appended after the reference, before each attack: a wrong answer of the right shape, and the first-call trigger.
PRELUDE = '''

# ---- attack ----------------------------------------------------------------------------------------------
import numpy as _np


def _wrong(f, h, mode="full"):
    """Zeros of the length conv1d must return: a wrong answer of the right shape and dtype."""
    n, k = _np.shape(f)[0], _np.shape(h)[0]
    return _np.zeros({"full": n + k - 1, "same": n, "valid": max(n - k + 1, 1)}.get(mode, 1))


def _first_call(f):
    """The first public conv1d call (conv1d_full, the only public one with 9 samples): costly attacks fire there."""
    return _np.shape(f) == (9,)

'''


D = textwrap.dedent


def attack(code: str, **values: object) -> str:
    """The reference with ``code`` appended; ``{{NAME}}`` in the code is replaced by ``repr(values[NAME])``."""
    code = textwrap.dedent(code)
    for name, value in values.items():
        code = code.replace("{{" + name + "}}", repr(value))
    assert "{{" not in code, "unfilled placeholder in the attack"
    return REFERENCE + PRELUDE + code


def grade_report(grader: Grader, source: str) -> Report:
    return grader.grade(Submission.from_texts("submission", {"convolution": source}), topics=["convolution"])


def assert_grader_still_works(grader: Grader) -> None:
    """The pristine reference, graded by the same grader right after an attack, still scores full marks."""
    result = grade_source(grader, REFERENCE)
    assert result.error is None
    assert {c.id: c.message for c in result.checks if c.status != PASSED} == {}
    assert result.points == result.max_points == TOTAL


def assert_defeated(result: TopicResult, *, attacked=CONV1D_CHECKS, intact=None, phrase: str | None = None, where: str | None = None) -> None:
    """``attacked`` checks earn nothing; ``intact`` ones (default: all the others) pass; ``phrase`` (a regex) is in
    the message of ``where`` (default: the first attacked check; "error": the topic's error)."""
    by_id = {c.id: c for c in result.checks}
    assert set(by_id) == set(POINTS)
    intact = tuple(c for c in POINTS if c not in attacked) if intact is None else intact
    gained = {c: by_id[c].status for c in attacked if by_id[c].status == PASSED or by_id[c].points}
    assert gained == {}, f"the attack earned credit: {gained}"
    broken = {c: (by_id[c].status, by_id[c].message[:300]) for c in intact if by_id[c].status != PASSED}
    assert broken == {}, "checks the attack did not touch no longer pass"
    assert [c.id for c in result.checks if c.status == ERROR] == [], "an attack must not cause internal errors"
    assert result.points == sum(POINTS[c] for c in POINTS if by_id[c].status == PASSED)
    assert result.points <= TOTAL - sum(POINTS[c] for c in attacked)
    if phrase is not None:
        text = (result.error or "") if where == "error" else by_id[where or attacked[0]].message
        assert re.search(phrase, text), f"expected /{phrase}/ in the message, got: {text[:600]!r}"


def strict_only(grader: Grader) -> None:
    if grader.mode != "strict":
        pytest.skip(STRICT_ONLY)


# ---- a table row ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Attack:
    code: str
    phrase: str | None = None  # regex expected in the message of `where`
    attacked: tuple[str, ...] = CONV1D_CHECKS
    intact: tuple[str, ...] | None = None  # None: every check not attacked
    where: str | None = None  # the check whose message holds `phrase`; "error": the topic's error
    recover: bool = False  # grade the reference afterwards (once per attack class)
    values: dict = field(default_factory=dict)

    def run(self, grader: Grader) -> TopicResult:
        result = grade_source(grader, attack(self.code, **self.values))
        assert_defeated(result, attacked=self.attacked, intact=self.intact, phrase=self.phrase, where=self.where)
        if self.recover:
            assert_grader_still_works(grader)
        return result


def table(rows: dict[str, Attack]):
    params = [pytest.param(row, id=name) for name, row in rows.items()]
    return pytest.mark.parametrize("row", params)


# ---- pieces that attacks are assembled from ----------------------------------------------------------------------

ALWAYS_EQUAL = """
class _Eq:
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    def __bool__(self): return True
    def __len__(self): return 12
    def __float__(self): return 0.0
"""

ZERO_CONV1D = """
def conv1d(f, h, mode="full"):
    return _wrong(f, h, mode)
"""

FORGE = """
import json as _json, os as _os, struct as _struct


def _forge(body, payload=b""):
    \"\"\"Write one frame of our own (a header, then ``payload`` as its array bytes) straight onto the protocol
    socket (the only socket the worker has).\"\"\"
    if not isinstance(body, bytes):
        body = _json.dumps(body).encode()
    for fd in map(int, _os.listdir("/proc/self/fd")):
        try:
            if _os.readlink(f"/proc/self/fd/{fd}").startswith("socket:"):
                _os.write(fd, b"AGX1" + _struct.pack("<I", len(body)) + body + payload)
        except OSError:
            pass
"""


def forged(body: str, payload: str = 'b""') -> str:
    """conv1d forges a reply frame (``body``, ``payload``: Python expressions), then answers for real (wrongly)."""
    return FORGE + f"""

def conv1d(f, h, mode="full"):
    _forge({body}, {payload})
    return _wrong(f, h, mode)
"""
