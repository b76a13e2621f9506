"""Adversarial submissions: every attack of docs/threat-model.md that applies to this grader, graded for real.

Each attack is the reference solution with something appended (usually a new ``conv1d``), so that the checks the
attack targets and the checks it leaves alone are both known. Every test asserts that

1. the attacked checks earn nothing (not "passed", 0 points),
2. the checks of the functions the attack did not touch still pass (the rest of the run is unharmed),
3. the grader keeps working: the pristine reference, graded right afterwards by the same grader, scores full marks
   (once per attack class, to keep the suite fast: exits, fake output, forged results, the reference by name,
   hangs, memory, processes, network, forged frames; rows with ``recover=True``),
4. the student is told what happened, in words (a distinctive phrase of the message).

Most tests run in both sandbox modes (``tight_grader``: 2 s per check, 6 s CPU, 512 MiB). Attacks that only the
strict sandbox can stop (reading files, talking to the network, seeing other processes) skip the process mode.

Costly attacks (hangs, memory and fork bombs) fire only on the first public conv1d call, recognised by its first
input value, so each costs one time limit, not one per conv1d call.
"""

from __future__ import annotations

import json
import os
import re
import select
import signal
import socket
import subprocess
import sys
import textwrap
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from autograder.config import load_course
from autograder.grading import Grader
from autograder.renderers import render
from autograder.results import ERROR, NOT_ATTEMPTED, PASSED, Report, TopicResult
from autograder.seeding import check_seed
from autograder.submission import Submission

from conftest import ROOT, STRICT_OK, STRICT_WHY, grade_source, statuses

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
CONV1D_CHECKS = ("conv1d_full", "conv1d_modes", "bad_mode", "hidden_conv1d")  # every check that calls conv1d
OTHER_CHECKS = tuple(c for c in POINTS if c not in CONV1D_CHECKS)
EVERYTHING = tuple(POINTS)

# The first input value of the first public conv1d call (public inputs are fixed by the course's public seed).
FIRST_F0 = float(np.random.default_rng(check_seed(topic="convolution", check="conv1d_full", hidden=False, public_seed=COURSE.public_seed, secret=None, submission="")).standard_normal(9)[0])

TIMEOUT = r"did not (answer|finish) within"
STRICT_ONLY = "only the strict sandbox can stop this (the process sandbox shares the file system, network and /proc)"

assert REFERENCE_LINE in REFERENCE and HIDDEN_LINE in HIDDEN_CHECKS.read_text(), "update the distinctive lines"

# Appended after the reference, before each attack: a wrong answer of the right shape, and the first-call trigger.
PRELUDE = f'''

# ---- attack ----------------------------------------------------------------------------------------------
import numpy as _np


def _wrong(f, h, mode="full"):
    """Zeros of the length conv1d must return: a wrong answer of the right shape and dtype."""
    n, k = _np.shape(f)[0], _np.shape(h)[0]
    return _np.zeros({{"full": n + k - 1, "same": n, "valid": max(n - k + 1, 1)}}.get(mode, 1))


def _first_call(f):
    """The first public conv1d call (conv1d_full): costly attacks fire there only."""
    return float(f[0]) == {FIRST_F0!r}

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


# ---- 1, 2: exiting ------------------------------------------------------------------------------------------------

EXITS = {
    "sys_exit_at_import": Attack(
        """
        import sys
        print("Total: 34/34")
        sys.exit(0)
        """,
        phrase=r"SystemExit",
        attacked=EVERYTHING,
        where="error",
        recover=True,
    ),
    "os_exit_at_import": Attack(
        """
        import os
        print("Total: 34/34", flush=True)
        os._exit(0)
        """,
        phrase=r"the worker (exited with code 0|was killed by SIGKILL)",
        attacked=EVERYTHING,
        where="error",
    ),
    "os_exit_in_conv1d": Attack(
        """
        import os

        def conv1d(f, h, mode="full"):
            os._exit(0)
        """,
        # strict mode races: see test_exit_status_is_not_masked_by_the_graders_kill
        phrase=r"conv1d\(.*\): the worker (exited with code 0|was killed by SIGKILL)",
    ),
    "raise_system_exit_in_conv1d": Attack(
        """
        def conv1d(f, h, mode="full"):
            raise SystemExit(0)
        """,
        phrase=r"raised SystemExit",
    ),
    "sigkill_itself_in_conv1d": Attack(
        """
        import os, signal

        def conv1d(f, h, mode="full"):
            os.kill(os.getpid(), signal.SIGKILL)
        """,
        phrase=r"the worker was killed by SIGKILL",
    ),
}


@table(EXITS)
def test_exiting_earns_nothing_and_later_checks_still_run(tight_grader, row: Attack):
    result = row.run(tight_grader)
    if row.where == "error":
        assert result.points == 0
        assert "Total: 34/34" in result.output  # what it printed is shown, as its output, and not believed


# Hang up on the grader, then exit with status 0 a moment later: the student should be told "exited with code 0".
HANG_UP_THEN_EXIT = """
import os, socket, time

def conv1d(f, h, mode="full"):
    for fd in map(int, os.listdir("/proc/self/fd")):
        try:
            if os.readlink(f"/proc/self/fd/{fd}").startswith("socket:"):
                socket.socket(fileno=os.dup(fd)).shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    end = time.monotonic() + 0.2  # a moment: a grader that waits for the worker's own end sees "exited with code 0"
    while time.monotonic() < end:
        pass
    os._exit(0)
"""


def test_exit_status_is_not_masked_by_the_graders_kill(tight_grader):
    result = grade_source(tight_grader, attack(HANG_UP_THEN_EXIT))
    assert_defeated(result)
    messages = {c: m.message for c in CONV1D_CHECKS for m in result.checks if m.id == c}
    assert all("the worker exited with code 0" in m for m in messages.values()), messages


# ---- 3: fake scores and fake result files -----------------------------------------------------------------------

FAKE_SCORE = """
import atexit, json, os, sys, threading, time

FAKE = {"score": 34, "max_score": 34, "points": 34, "tests": [{"name": "conv1d_full", "score": 2, "status": "passed"}]}
TABLE = "Convolutions [convolution]  34/34\\n  conv1d_full   2/2  ok\\n  hidden_conv1d (hidden)  3/3  ok\\n\\nTotal: 34/34"


def _fake():
    print(TABLE, flush=True)
    print("Total: 34/34", file=sys.stderr, flush=True)
    for path in ("results.json", {{OUT}}):
        try:
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
            with open(path, "w") as fh:
                json.dump(FAKE, fh)
            print("wrote", path, flush=True)
        except OSError as exc:
            print("could not write", path, exc, flush=True)


_fake()
atexit.register(_fake)  # the worker leaves with os._exit: never runs
threading.Thread(target=lambda: (time.sleep(0.3), _fake()), daemon=False).start()  # never waited for


def conv1d(f, h, mode="full"):
    _fake()
    return _wrong(f, h, mode)
"""


def test_a_fake_score_and_fake_results_file_change_nothing(tight_grader, tmp_path: Path):
    out = tmp_path / "results.json"
    report = grade_report(tight_grader, attack(FAKE_SCORE, OUT=str(out)))
    result = report.topics[0]
    assert_defeated(result, phrase=r"are off")
    assert report.points == TOTAL - sum(POINTS[c] for c in CONV1D_CHECKS)
    # What it printed is kept, labelled as its output, after the real results; the real total is the last line.
    assert "Total: 34/34" in result.output
    text = render(report, "text")
    marker = "--- what your code printed (an excerpt; never used for grading) ---"
    assert marker in text
    before, after = text.split(marker, 1)
    assert "34/34" not in before
    assert all(line.startswith("  | ") or "34/34" not in line for line in after.splitlines())
    assert text.rstrip().splitlines()[-1] == f"Total: {report.points:g}/{TOTAL:g}"
    if tight_grader.mode == "strict":
        assert not out.exists(), "a strict worker wrote outside its sandbox"
    assert_grader_still_works(tight_grader)


CLI_ATTACK = """
import glob, json, os, sys

OUT = {{OUT}}
FAKE = {"points": 34, "max_points": 34, "topics": [{"id": "convolution", "points": 34, "max_points": 34}]}


def _ancestors():
    pid, seen = os.getpid(), []
    while pid > 1 and len(seen) < 3:  # worker -> supervisor -> fork server -> grade, and no further
        try:
            with open(f"/proc/{pid}/stat") as fh:
                pid = int(fh.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            break
        seen.append(pid)
    return seen


def _attack():
    print("Total: 34/34", flush=True)
    try:  # the report file the grader was told to write
        with open(OUT, "w") as fh:
            json.dump(FAKE, fh)
        print("wrote", OUT, flush=True)
    except OSError as exc:
        print("could not write", OUT, exc, flush=True)
    for pid in _ancestors():  # straight into the grading process's terminal
        for fd in (1, 2):
            try:
                with open(f"/proc/{pid}/fd/{fd}", "w") as fh:
                    fh.write("\\nTotal: 34/34\\n")
            except OSError:
                pass
    for path in glob.glob("/proc/[0-9]*/environ"):  # the course secret
        try:
            with open(path, "rb") as fh:
                data = fh.read()
        except OSError:
            continue
        for item in data.split(b"\\0"):
            if item.startswith(b"AUTOGRADER_SECRET="):
                print("STOLEN", item.decode(errors="replace"), flush=True)
    if os.fork() == 0:  # a survivor that keeps rewriting the report after the grader wrote it
        try:
            os.setsid()
            for _ in range(400):
                try:
                    with open(OUT, "w") as fh:
                        json.dump(FAKE, fh)
                except OSError:
                    pass
                __import__("time").sleep(0.02)
        finally:
            os._exit(0)


_attack()


def conv1d(f, h, mode="full"):
    return _wrong(f, h, mode)
"""


@pytest.mark.parametrize("mode", [pytest.param("strict", marks=pytest.mark.skipif(not STRICT_OK, reason=STRICT_WHY)), "process"])
def test_cli_report_file_holds_the_graders_results(tmp_path: Path, mode: str):
    """``grade run FILE --format json --output OUT``: the submission writes OUT itself, writes into the grader's
    terminal, hunts for the secret and leaves a survivor rewriting OUT; OUT still holds the grader's report."""
    out = tmp_path / "report.json"
    sub = tmp_path / "submission"
    sub.mkdir()
    (sub / "convolution.py").write_text(attack(CLI_ATTACK, OUT=str(out)))
    env = {**os.environ, "AUTOGRADER_SECRET": SECRET}
    done = subprocess.run(
        [GRADE, "run", str(sub / "convolution.py"), "--format", "json", "--output", str(out), "--device", "cpu", "--sandbox", mode],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    want = TOTAL - sum(POINTS[c] for c in CONV1D_CHECKS)
    time.sleep(0.5)  # a survivor (rewriting every 20 ms) would have rewritten it by now

    data = json.loads(out.read_text())
    assert (data["points"], data["max_points"], data["sandbox"]) == (want, TOTAL, mode)
    (topic,) = data["topics"]
    checks = {c["id"]: c for c in topic["checks"]}
    assert {c: checks[c]["points"] for c in CONV1D_CHECKS} == dict.fromkeys(CONV1D_CHECKS, 0)
    assert all(checks[c]["status"] == PASSED for c in OTHER_CHECKS)
    assert "Total: 34/34" in topic["output"]  # kept as the submission's output, nowhere else in the data
    assert "Total: 34/34" not in json.dumps({k: v for k, v in topic.items() if k != "output"})

    lines = done.stdout.splitlines()
    assert lines[-1] == f"Total: {want:g}/{TOTAL:g}"
    if mode == "strict":  # a process-mode worker runs as the grader's own user: it can write to the grader's terminal
        assert all(line.startswith("  | ") for line in lines if "34/34" in line), done.stdout
        assert SECRET not in done.stdout + out.read_text() + done.stderr
        assert "STOLEN" not in topic["output"]
        assert "wrote" not in topic["output"]


# ---- 4, 5: forged return values ---------------------------------------------------------------------------------

ALWAYS_EQUAL = """
class _Eq:
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    def __bool__(self): return True
    def __len__(self): return 12
    def __float__(self): return 0.0
"""

FORGED = {
    "always_equal_object": Attack(
        ALWAYS_EQUAL + D("""
        def conv1d(f, h, mode="full"):
            return _Eq()
        """),
        phrase=r"returned an object of type _Eq",
        recover=True,
    ),
    "__array__returns_the_input": Attack(
        ALWAYS_EQUAL + D("""
        class _Arr(_Eq):
            def __init__(self, a): self.a = a
            def __array__(self, dtype=None, copy=None): return self.a
            __array_priority__ = 1e9

        def conv1d(f, h, mode="full"):
            return _Arr(f)
        """),
        phrase=r"returned an object of type _Arr",
    ),
    "ndarray_subclass_that_compares_equal": Attack(
        """
        import numpy as np

        class _Liar(np.ndarray):
            def __eq__(self, other): return np.ones(self.shape, bool)
            def __array_ufunc__(self, ufunc, method, *args, **kwargs): return np.ones(self.shape, bool)
            def __array_function__(self, func, types, args, kwargs): return True

        def conv1d(f, h, mode="full"):
            return _wrong(f, h, mode).view(_Liar)
        """,
        phrase=r"are off",
    ),
    "object_array_of_always_equal": Attack(
        ALWAYS_EQUAL + D("""
        import numpy as np

        def conv1d(f, h, mode="full"):
            out = np.empty(len(_wrong(f, h, mode)), dtype=object)
            out[:] = [_Eq() for _ in out]
            return out
        """),
        phrase=r"returned an array of dtype object",
    ),
    "tuple_of_always_equal": Attack(
        ALWAYS_EQUAL + D("""
        def conv1d(f, h, mode="full"):
            return tuple(_Eq() for _ in _wrong(f, h, mode))
        """),
        phrase=r"returned an object of type _Eq",
    ),
    "float_subclass_that_compares_equal": Attack(
        """
        class _F(float):
            def __eq__(self, other): return True
            def __ne__(self, other): return False

        def conv1d(f, h, mode="full"):
            return _F(0.0)
        """,
        phrase=r"shape \(\), expected",
    ),
    "complex_array": Attack(
        """
        def conv1d(f, h, mode="full"):
            return _wrong(f, h, mode) + 0j
        """,
        phrase=r"dtype complex128",
    ),
    "nan_everywhere": Attack(
        """
        def conv1d(f, h, mode="full"):
            return _wrong(f, h, mode) * float("nan")
        """,
        phrase=r"non-finite",
    ),
    "returns_true": Attack(
        """
        def conv1d(f, h, mode="full"):
            return True
        """,
        phrase=r"dtype bool, expected floating point",
    ),
    "tensor_subclass_answers_true_to_comparisons": Attack(
        """
        import torch

        class _Liar(torch.Tensor):
            @classmethod
            def __torch_function__(cls, func, types, args=(), kwargs=None):
                if func in (torch.allclose, torch.equal, torch.Tensor.equal):
                    return True
                if func in (torch.eq, torch.isclose, torch.Tensor.eq, torch.Tensor.__eq__):
                    return torch.ones(args[0].shape, dtype=torch.bool)
                return super().__torch_function__(func, types, args, kwargs or {})

        def conv1d(f, h, mode="full"):
            out = torch.tensor(_wrong(f, h, mode)).as_subclass(_Liar)
            assert torch.allclose(out, torch.ones(3)) and torch.equal(out, out + 1)  # it lies...
            return out  # ...but only its values travel
        """,
        phrase=r"are off",
    ),
    "tensor_subclass_whose_numpy_lies": Attack(
        ALWAYS_EQUAL + D("""
        import torch

        class _Liar(torch.Tensor):
            @classmethod
            def __torch_function__(cls, func, types, args=(), kwargs=None):
                if func in (torch.Tensor.numpy, torch.Tensor.detach, torch.Tensor.cpu):
                    return _Eq()
                return super().__torch_function__(func, types, args, kwargs or {})

        def conv1d(f, h, mode="full"):
            return torch.tensor(_wrong(f, h, mode)).as_subclass(_Liar)
        """),
        phrase=r"raised",
    ),
}


@table(FORGED)
def test_forged_return_values_earn_nothing(tight_grader, row: Attack):
    row.run(tight_grader)


# ---- 6: monkeypatching the comparison functions -----------------------------------------------------------------

ZERO_CONV1D = """
def conv1d(f, h, mode="full"):
    return _wrong(f, h, mode)
"""

PATCHES = {
    "numpy_and_torch_comparisons": Attack(
        D("""
        import numpy as np, torch, torch.testing
        np.allclose = lambda *a, **k: True
        np.isclose = lambda a, b, *x, **k: np.ones(np.shape(a), dtype=bool)
        np.array_equal = lambda *a, **k: True
        np.testing.assert_allclose = lambda *a, **k: None
        np.testing.assert_array_almost_equal = lambda *a, **k: None
        torch.allclose = lambda *a, **k: True
        torch.equal = lambda *a, **k: True
        torch.isclose = lambda a, b, *x, **k: torch.ones_like(a, dtype=torch.bool)
        torch.testing.assert_close = lambda *a, **k: None
        """) + ZERO_CONV1D,
        phrase=r"are off",
    ),
    "numpy_all_and_ndarray_methods": Attack(
        D("""
        import numpy as np
        np.all = lambda *a, **k: True
        np.any = lambda *a, **k: False
        """) + ZERO_CONV1D,
        phrase=r"are off",
    ),
    "the_graders_own_modules_inside_the_worker": Attack(
        D("""
        try:  # strict workers cannot see an editable install's source folder; elsewhere the import works
            import autograder.compare, autograder.checks, autograder.grading
            autograder.compare.assert_close = lambda *a, **k: None
            autograder.checks.assert_close = lambda *a, **k: None
            autograder.checks.Trial.close = lambda *a, **k: None
            autograder.checks.Trial.fail = lambda *a, **k: None
        except ImportError:
            pass
        """) + ZERO_CONV1D,
        phrase=r"are off",
    ),
    # Builtins are shared by everything in the worker: the submission breaks its own functions too (its problem);
    # what matters is that the grader's comparisons, made in the grading process, are untouched.
    "builtins_abs_sum_all": Attack(
        D("""
        import builtins
        builtins.abs = lambda x: 0
        builtins.sum = lambda *a, **k: 0
        builtins.all = lambda *a, **k: True
        """) + ZERO_CONV1D,
        phrase=r"are off",
        intact=(),
    ),
    "builtins_len": Attack(
        D("""
        import builtins
        builtins.len = lambda x: 0
        """) + ZERO_CONV1D,
        phrase=r"the worker (sent malformed data|exited|was killed)",
        attacked=EVERYTHING,
        intact=(),
        where="error",
    ),
    "builtins_isinstance": Attack(
        D("""
        import builtins
        builtins.isinstance = lambda *a: True
        """) + ZERO_CONV1D,
        phrase=r"the worker (sent malformed data|exited|was killed)",
        attacked=EVERYTHING,
        intact=(),
        where="error",
    ),
}


@table(PATCHES)
def test_monkeypatching_comparisons_earns_nothing(tight_grader, row: Attack):
    row.run(tight_grader)


# ---- 7: introspection -------------------------------------------------------------------------------------------

INTROSPECTION = """
import gc, inspect, sys
import numpy as np


def conv1d(f, h, mode="full"):
    want = _wrong(f, h, mode).shape
    seen = []
    for depth in range(1, 64):  # every caller's locals and globals
        try:
            frame = sys._getframe(depth)
        except ValueError:
            break
        seen += list(frame.f_locals.values()) + list(frame.f_globals.values())
    for info in inspect.stack():
        seen += list(info.frame.f_locals.values())
    seen += [o for o in gc.get_objects() if isinstance(o, (np.ndarray, list, tuple, dict))]
    for module in list(sys.modules.values()):  # a reference solution or expected values loaded anywhere
        for name in ("conv1d", "expected", "want", "reference", "ref"):
            if name != "conv1d" or getattr(module, "__name__", "") not in ("convolution", __name__):
                obj = getattr(module, name, None)
                if obj is not None and obj is not conv1d:
                    seen.append(obj)
    for value in seen:
        if inspect.isfunction(value) and value.__name__ == "conv1d" and value is not conv1d and not value.__module__.startswith("torch"):
            print("found another conv1d in", getattr(value, "__module__", "?"), flush=True)
            return value(f, h, mode)
        if isinstance(value, np.ndarray) and value.shape == want and value is not f and value.dtype.kind == "f" and value.any():
            print("found an array of the expected shape", flush=True)
            return value
    return _wrong(f, h, mode)
"""


def test_reading_the_callers_frames_and_the_heap_finds_no_answer(tight_grader):
    result = Attack(INTROSPECTION, phrase=r"are off|shape").run(tight_grader)
    assert "found another conv1d" not in result.output


# ---- 8, 9: the reference solution, hidden checks and the course secret ------------------------------------------

IMPORTS = {
    "import_solutions_convolution": Attack(
        """
        def conv1d(f, h, mode="full"):
            import solutions.convolution as ref
            return ref.conv1d(f, h, mode)
        """,
        phrase=r"No module named 'solutions",
        recover=True,
    ),
    "from_solutions_import_convolution": Attack(
        """
        def conv1d(f, h, mode="full"):
            from solutions import convolution as ref
            return ref.conv1d(f, h, mode)
        """,
        phrase=r"No module named 'solutions",
    ),
    "import_checks_hidden": Attack(
        """
        def conv1d(f, h, mode="full"):
            import checks.hidden.convolution as hidden
            return hidden.judge_conv1d
        """,
        phrase=r"No module named 'checks",
    ),
}


@table(IMPORTS)
def test_importing_the_reference_by_name_fails(tight_grader, row: Attack):
    row.run(tight_grader)


# The course root's absolute path, known to a student who saw it in a traceback or a course handout.
STOLEN_IMPORTS = {
    "importlib_with_the_absolute_path": Attack(
        """
        import importlib.util

        def conv1d(f, h, mode="full"):
            spec = importlib.util.spec_from_file_location("stolen", {{ROOT}} + "/solutions/convolution.py")
            ref = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(ref)
            return ref.conv1d(f, h, mode)
        """,
        phrase=r"PermissionError|FileNotFoundError|No such file",
        values={"ROOT": str(ROOT)},
    ),
    "course_root_on_sys_path": Attack(
        """
        import sys
        sys.path.insert(0, {{ROOT}})

        def conv1d(f, h, mode="full"):
            import solutions.convolution as ref
            return ref.conv1d(f, h, mode)
        """,
        phrase=r"No module named 'solutions",
        values={"ROOT": str(ROOT)},
    ),
    "exec_of_the_file_read_from_disk": Attack(
        """
        def conv1d(f, h, mode="full"):
            scope = {"__name__": "stolen"}
            with open({{ROOT}} + "/solutions/convolution.py") as fh:
                exec(fh.read(), scope)
            return scope["conv1d"](f, h, mode)
        """,
        phrase=r"PermissionError|FileNotFoundError|No such file",
        values={"ROOT": str(ROOT)},
    ),
    "compiled_reference_in_pycache": Attack(
        """
        import glob, importlib.util

        def conv1d(f, h, mode="full"):
            for path in glob.glob({{ROOT}} + "/solutions/__pycache__/convolution*.pyc"):
                spec = importlib.util.spec_from_file_location("stolen", path)
                ref = importlib.util.module_from_spec(spec)
                spec.loader.exec_module(ref)
                return ref.conv1d(f, h, mode)
            raise FileNotFoundError("no compiled reference in sight")
        """,
        phrase=r"FileNotFoundError|PermissionError",
        values={"ROOT": str(ROOT)},
    ),
}


@table(STOLEN_IMPORTS)
def test_loading_the_reference_from_disk_fails_in_strict_mode(tight_grader, row: Attack):
    strict_only(tight_grader)
    row.run(tight_grader)


# tests/submissions/convolution/*.py are the reference with one deliberate mistake each: kernel_flip.py has a
# conv1d that does not flip the kernel and a correct xcorr1d, and conv1d(f, h) == xcorr1d(f, h[::-1]).
NEAR_COPY = """
def conv1d(f, h, mode="full"):
    scope = {"__name__": "stolen"}
    with open({{PATH}}) as fh:
        exec(fh.read(), scope)
    return scope["xcorr1d"](f, _np.asarray(h)[::-1], mode)
"""


def test_near_copies_of_the_reference_are_out_of_sight_in_strict_mode(tight_grader):
    strict_only(tight_grader)
    path = ROOT / "tests" / "submissions" / "convolution" / "kernel_flip.py"
    assert path.is_file()
    result = grade_source(tight_grader, attack(NEAR_COPY, PATH=str(path)))
    assert_defeated(result, phrase=r"PermissionError|FileNotFoundError|No such file")


SECRET_HUNT = """
import glob, os, sys

STOLEN = []


def _read(path):
    try:
        with open(path, "rb") as fh:
            return fh.read(1 << 20).decode(errors="replace")
    except OSError as exc:
        return f"<{type(exc).__name__}>"


def _hunt():
    STOLEN.append("ENVIRON " + repr(dict(os.environ)))
    for path in ({{ROOT}} + "/solutions/convolution.py", {{ROOT}} + "/checks/hidden/convolution.py", {{ROOT}} + "/.git/HEAD"):
        STOLEN.append(f"FILE {path}: " + _read(path))
    for path in glob.glob({{ROOT}} + "/checks/hidden/**", recursive=True) + glob.glob({{ROOT}} + "/solutions/**", recursive=True):
        if os.path.isfile(path) and os.access(path, os.R_OK):
            STOLEN.append(f"FOUND {path}")
    STOLEN.append(f"PPID {os.getppid()} " + _read(f"/proc/{os.getppid()}/environ").replace("\\0", " "))
    pids = glob.glob("/proc/[0-9]*")
    STOLEN.append(f"VISIBLE-PIDS {len(pids)}")
    for pid in pids:
        STOLEN.append(f"CMDLINE {pid} " + _read(pid + "/cmdline").replace("\\0", " "))
        STOLEN.append(f"ENV {pid} " + _read(pid + "/environ").replace("\\0", " "))
    print("SECRET-HUNT-RAN", flush=True)
    print("\\n".join(STOLEN), flush=True)


_hunt()


def conv1d(f, h, mode="full"):
    _hunt()
    raise RuntimeError("\\n".join(STOLEN)[-3500:])  # tracebacks are shown to the student: another way out
"""


def test_no_secret_hidden_check_or_reference_reaches_the_student(tight_grader):
    strict_only(tight_grader)
    result = grade_source(tight_grader, attack(SECRET_HUNT, ROOT=str(ROOT)))
    assert_defeated(result, phrase=r"raised RuntimeError")
    assert "SECRET-HUNT-RAN" in result.output  # the attack did run
    visible = re.search(r"VISIBLE-PIDS (\d+)", result.output)
    assert visible and int(visible.group(1)) <= 4, "a strict worker sees processes outside its pid namespace"
    shown = [result.output, result.error or ""] + [c.message for c in result.checks]
    for leak in (SECRET, HIDDEN_LINE, REFERENCE_LINE, "FOUND "):
        assert not any(leak in text for text in shown), f"{leak!r} reached the student"


# ---- credit for doing nothing --------------------------------------------------------------------------------------


def test_raising_valueerror_for_everything_earns_nothing(tight_grader):
    result = grade_source(tight_grader, attack("""
        def conv1d(f, h, mode="full"):
            raise ValueError("not done yet")
        """))
    assert_defeated(result, phrase=r"raised ValueError")


# ---- 10: mutating the inputs ------------------------------------------------------------------------------------


def test_mutating_the_inputs_in_place_earns_nothing(tight_grader):
    Attack(
        """
        def conv1d(f, h, mode="full"):
            out = _wrong(f, h, mode)
            f[:] = 0
            h[:] = 0
            return out
        """,
        phrase=r"are off",
    ).run(tight_grader)


# ---- 11, 12: hanging --------------------------------------------------------------------------------------------

HANGS = {
    "infinite_loop": Attack(
        """
        def conv1d(f, h, mode="full"):
            while _first_call(f):
                pass
            return _wrong(f, h, mode)
        """,
        phrase=TIMEOUT,
        recover=True,
    ),
    "sleeps_forever": Attack(
        """
        import time

        def conv1d(f, h, mode="full"):
            if _first_call(f):
                time.sleep(10**6)
            return _wrong(f, h, mode)
        """,
        phrase=TIMEOUT,
    ),
    "ignores_sigterm_and_friends": Attack(
        """
        import signal

        for _sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGALRM, signal.SIGXCPU, signal.SIGUSR1):
            signal.signal(_sig, signal.SIG_IGN)

        def conv1d(f, h, mode="full"):
            while _first_call(f):
                try:
                    pass
                except BaseException:
                    pass
            return _wrong(f, h, mode)
        """,
        phrase=TIMEOUT,
    ),
}


@table(HANGS)
def test_hanging_is_stopped_at_the_time_limit(tight_grader, row: Attack):
    start = time.monotonic()
    row.run(tight_grader)
    assert time.monotonic() - start < 2 * 2.0 + 1.5 + (2.0 if row.recover else 0.0)  # one 2 s limit, not four


# ---- 13: memory -------------------------------------------------------------------------------------------------

MEMORY = {
    "python_list_growth": Attack(
        """
        def conv1d(f, h, mode="full"):
            if _first_call(f):
                hog = []
                while True:
                    hog.append(bytearray(1 << 20))
            return _wrong(f, h, mode)
        """,
        phrase=r"exceeded the memory limit|MemoryError",
        recover=True,
    ),
    "numpy_ones_1e11": Attack(
        """
        import numpy as np

        def conv1d(f, h, mode="full"):
            if _first_call(f):
                return np.ones(10**11)
            return _wrong(f, h, mode)
        """,
        phrase=r"MemoryError|exceeded the memory limit",
    ),
    "torch_empty_1e11": Attack(
        """
        import torch

        def conv1d(f, h, mode="full"):
            if _first_call(f):
                return torch.empty(10**11)
            return _wrong(f, h, mode)
        """,
        phrase=r"can't allocate memory|MemoryError|exceeded the memory limit",
    ),
}


@table(MEMORY)
def test_memory_bombs_are_contained(tight_grader, row: Attack):
    row.run(tight_grader)


CHILDREN_HOG = """
import os, time


def conv1d(f, h, mode="full"):
    if _first_call(f):
        children = []
        for _ in range(6):  # 6 x 200 MiB: more than twice the limit, spread so that no one process is large
            pid = os.fork()
            if pid == 0:
                try:
                    hog = [bytearray(8 << 20) for _ in range(25)]
                    time.sleep(30)
                finally:
                    os._exit(0)
            children.append(pid)
        time.sleep(1.0)
        alive = 0
        for pid in children:
            try:
                with open(f"/proc/{pid}/stat") as fh:
                    alive += fh.read().rsplit(")", 1)[1].split()[0] != "Z"
            except OSError:
                pass
        print(f"HOGS ALIVE {alive}", flush=True)
    return _wrong(f, h, mode)
"""


def test_memory_spread_over_child_processes_is_bounded(tight_grader):
    """RLIMIT_AS bounds each process; only the memory cgroup bounds the sum over the worker's children."""
    from autograder.sandbox import MemoryCgroup

    if os.geteuid() != 0 or MemoryCgroup.available() is None:
        pytest.skip("no writable memory cgroup here: children's memory is bounded per process only")
    result = Attack(CHILDREN_HOG, phrase=r"are off").run(tight_grader)
    alive = re.search(r"HOGS ALIVE (\d+)", result.output)
    assert alive, result.output
    assert int(alive.group(1)) * 200 <= 512, "the children held more memory than the worker's limit"


# ---- 14, 16: processes that outlive their welcome ---------------------------------------------------------------


def _processes_with_argv(argv: list[str]) -> list[int]:
    wanted = ("\0".join(argv) + "\0").encode()
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as fh:
                    if fh.read() == wanted:
                        found.append(int(entry))
            except OSError:
                pass
    return found


def assert_no_process_left(argv: list[str], wait_s: float = 3.0) -> None:
    """Poll /proc for a while; whatever is left is reported, then killed (only those: they carry our marker)."""
    deadline = time.monotonic() + wait_s
    while (left := _processes_with_argv(argv)) and time.monotonic() < deadline:
        time.sleep(0.05)
    for pid in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    assert left == [], f"{len(left)} processes {argv} outlived the grading"


FORK_BOMB = """
import os, time


def conv1d(f, h, mode="full"):
    if _first_call(f):
        count, problem, start = 0, None, time.monotonic()
        while count < 2000 and time.monotonic() - start < 1.0:
            try:
                pid = os.fork()
            except OSError as exc:
                problem = exc
                break
            if pid == 0:
                try:
                    os.execv("/bin/sleep", ["/bin/sleep", {{MARK}}])
                finally:
                    os._exit(0)
            count += 1
        print(f"FORKED {count} ({problem})", flush=True)
    return _wrong(f, h, mode)
"""


def test_a_fork_bomb_is_bounded_and_cleaned_up(tight_grader):
    mark = str(10**9 + uuid.uuid4().int % 10**9)
    result = Attack(FORK_BOMB, phrase=r"are off|" + TIMEOUT, values={"MARK": mark}, recover=True).run(tight_grader)
    assert_no_process_left(["/bin/sleep", mark])
    forked = re.search(r"FORKED (\d+)", result.output)
    if tight_grader.mode == "strict":  # RLIMIT_NPROC counts per slot uid
        assert forked and int(forked.group(1)) < 64, result.output


SURVIVOR = """
import os


def conv1d(f, h, mode="full"):
    if _first_call(f):
        child = os.fork()
        if child == 0:
            try:
                os.setsid()
                if os.fork() == 0:  # the grandchild: its own session, parent gone, then a findable argv
                    os.execv("/bin/sleep", ["/bin/sleep", {{MARK}}])
            finally:
                os._exit(0)
        os.waitpid(child, 0)
        print("SURVIVOR STARTED", flush=True)
    return _wrong(f, h, mode)
"""


def test_a_setsid_double_fork_survivor_is_killed(tight_grader):
    mark = str(10**9 + uuid.uuid4().int % 10**9)
    result = Attack(SURVIVOR, phrase=r"are off", values={"MARK": mark}).run(tight_grader)
    assert "SURVIVOR STARTED" in result.output
    assert_no_process_left(["/bin/sleep", mark])


# ---- 15: the network --------------------------------------------------------------------------------------------

NETWORK = """
import socket


def conv1d(f, h, mode="full"):
    for family, address in ((socket.AF_INET, ("127.0.0.1", {{PORT}})), (socket.AF_UNIX, {{ABSTRACT}})):
        try:
            with socket.socket(family, socket.SOCK_STREAM) as s:
                s.settimeout(0.5)
                s.connect(address)
                s.sendall(b"STOLEN " + repr(f.tolist()).encode())
                print("NET CONNECTED", address, flush=True)
        except OSError as exc:
            print("NET REFUSED", address, type(exc).__name__, flush=True)
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.sendto(b"STOLEN", ("127.0.0.1", {{PORT}}))
    except OSError as exc:
        print("NET REFUSED udp", type(exc).__name__, flush=True)
    return _wrong(f, h, mode)
"""


def test_no_network_not_even_loopback(tight_grader):
    strict_only(tight_grader)
    mark = uuid.uuid4().hex
    with socket.create_server(("127.0.0.1", 0)) as tcp, socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as unix, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        port = tcp.getsockname()[1]
        abstract = "\0autograder-adversarial-" + mark
        unix.bind(abstract)
        unix.listen()
        udp.bind(("127.0.0.1", port))
        result = Attack(NETWORK, phrase=r"are off", values={"PORT": port, "ABSTRACT": abstract}, recover=True).run(tight_grader)
        assert "NET REFUSED" in result.output and "NET CONNECTED" not in result.output
        ready, _, _ = select.select([tcp, unix, udp], [], [], 0.2)
        assert ready == [], "a worker reached a listener on the grading machine"


# ---- forged frames on the protocol socket -------------------------------------------------------------------------
# The worker is untrusted down to its bytes: a submission can write frames of its own onto the socket the grader
# reads. Whatever they hold, the grader must call them malformed, stop that worker, give no credit, blame the
# submission (not itself: "error" means a grader bug) and go on with a fresh worker for the next checks.

FORGE = """
import json as _json, os as _os, struct as _struct


def _forge(body):
    \"\"\"Write one frame of our own straight onto the protocol socket (the only socket the worker has).\"\"\"
    if not isinstance(body, bytes):
        body = _json.dumps(body).encode()
    for fd in map(int, _os.listdir("/proc/self/fd")):
        try:
            if _os.readlink(f"/proc/self/fd/{fd}").startswith("socket:"):
                _os.write(fd, b"AGX1" + _struct.pack("<I", len(body)) + body)
        except OSError:
            pass
"""


def forged(body: str) -> str:
    """conv1d forges a reply frame (``body``: a Python expression), then answers for real (wrongly)."""
    return FORGE + f"""

def conv1d(f, h, mode="full"):
    _forge({body})
    return _wrong(f, h, mode)
"""


FORGED_FRAMES = {
    "array_of_32_TiB_declared": Attack(
        forged('{"ok": True, "values": [{"a": 0}], "arrays": [{"dtype": "<f8", "shape": [2**42], "nbytes": 2**45}]}'),
        phrase=r"malformed",
    ),
    "dtype_is_a_list": Attack(
        forged('{"ok": True, "values": [{"a": 0}], "arrays": [{"dtype": ["<f8"], "shape": [3], "nbytes": 24}]}'),
        phrase=r"malformed",
    ),
    "json_nested_100000_deep": Attack(
        forged('b\'{"ok": true, "arrays": [], "values": \' + b"[" * 100000 + b"]" * 100000 + b"}"'),
        phrase=r"malformed",
    ),
    "error_is_not_a_dict": Attack(
        forged('{"ok": False, "arrays": [], "error": ["not", "a", "dict"]}'),
        phrase=r"malformed",
    ),
    "load_reply_error_is_not_a_dict": Attack(
        FORGE + """
_forge({"ok": False, "arrays": [], "error": "not a dict"})
_os._exit(0)
""",
        phrase=r"malformed",
        attacked=EVERYTHING,
        where="error",
    ),
}


@table(FORGED_FRAMES)
def test_forged_frames_are_refused_as_malformed(tight_grader, row: Attack):
    row.run(tight_grader)


def test_the_grader_still_works_after_forged_frames(tight_grader):
    assert_grader_still_works(tight_grader)


# ---- reports that flood -----------------------------------------------------------------------------------------

HUGE_EXCEPTION_NAME = """
_Huge = type("E" * 3_000_000, (Exception,), {})


def conv1d(f, h, mode="full"):
    raise _Huge("x" * 3_000_000)
"""


def test_messages_from_the_worker_are_capped(tight_grader):
    result = grade_source(tight_grader, attack(HUGE_EXCEPTION_NAME))
    assert_defeated(result, phrase=r"raised E+")
    assert max(len(c.message) for c in result.checks) < 20_000


FLOOD = """
import sys


def conv1d(f, h, mode="full"):
    if _first_call(f):
        line = "Total: 34/34 " * 1000 + "\\n"
        for _ in range(2000):  # 26 MB
            sys.stdout.write(line)
        sys.stdout.flush()
    return _wrong(f, h, mode)
"""


def test_an_output_flood_is_capped(tight_grader):
    result = Attack(FLOOD, phrase=r"are off").run(tight_grader)
    assert len(result.output) < 20_000
    assert re.search(r"\(\d+ more bytes not shown\)", result.output)


def test_the_stub_is_not_attempted_and_scores_zero(tight_grader):
    result = grade_source(tight_grader, STUB)
    assert result.error is None
    assert set(statuses(result).values()) == {NOT_ATTEMPTED}
    assert result.points == 0
    assert all("not attempted" in c.message for c in result.checks)
