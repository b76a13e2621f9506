"""The engine on a toy course: every way a check reaches student code, and every way a submission can be broken."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from autograder import cli
from autograder.course.config import load_course
from autograder.course.submission import Submission
from autograder.engine.grading import STARVED_RETRIES, Grader
from autograder.engine.results import ERROR, FAILED, NOT_ATTEMPTED, PASSED
from autograder.errors import ConfigError, UsageError
from autograder.sandbox import workers

from conftest import ROOT, grade_source, statuses

TOY = ROOT / "tests" / "toy_course"


@pytest.fixture(scope="module")
def toy_grader():
    with Grader(course=load_course(TOY / "course.yaml"), devices=["cpu"]) as grader:
        yield grader


def test_reference_passes_functions_classes_and_components(toy_grader):
    result = grade_source(toy_grader, (TOY / "solutions" / "toy.py").read_text(), topic="toy")
    assert statuses(result) == {"scale": PASSED, "counter": PASSED, "component": PASSED, "broken": ERROR}


def test_a_broken_check_fails_closed_and_says_whose_fault(toy_grader):
    result = grade_source(toy_grader, (TOY / "solutions" / "toy.py").read_text(), topic="toy")
    broken = next(c for c in result.checks if c.id == "broken")
    assert broken.points == 0
    assert "internal error in check toy.broken (RuntimeError: a bug in the check itself)" in broken.message
    assert "the grader's fault, not yours" in broken.message


def test_stub_is_not_attempted(toy_grader):
    result = grade_source(toy_grader, (TOY / "exercises" / "toy.py").read_text(), topic="toy")
    assert statuses(result) == {"scale": NOT_ATTEMPTED, "counter": NOT_ATTEMPTED, "component": NOT_ATTEMPTED, "broken": ERROR}
    scale = result.checks[0]
    assert scale.message == "scale(<array (4,)>, 2.5): not attempted (raises NotImplementedError)"


@pytest.mark.parametrize(
    "source, in_error",
    [
        pytest.param("import numpy as np\n\ndef scale(x, a:\n    return x\n", ["line 3", "SyntaxError"], id="syntax-error"),
        pytest.param("import no_such_module_here\n", ["line 1", "ModuleNotFoundError", "no_such_module_here"], id="import-error"),
        pytest.param("x = 1\nraise ValueError('broken at import')\n", ["line 2", "ValueError: broken at import"], id="raises-at-import"),
    ],
)
def test_module_that_cannot_load_is_a_topic_error_with_file_and_line(toy_grader, source: str, in_error: list[str]):
    result = grade_source(toy_grader, source, topic="toy")
    assert result.error and result.error.startswith("importing submission/toy.py failed")
    for text in in_error:
        assert text in result.error
    assert all(c.status in (FAILED, ERROR) and c.points == 0 for c in result.checks)


def test_missing_function_names_the_file(toy_grader):
    result = grade_source(toy_grader, "import numpy as np\n", topic="toy")
    scale = result.checks[0]
    assert scale.status == FAILED
    assert "submission/toy.py does not define 'scale'" in scale.message


def test_wrong_kind_of_object_is_a_clear_failure(toy_grader):
    result = grade_source(toy_grader, "scale = 3\nclass Counter:\n    pass\n", topic="toy")
    assert "toy.py defines 'scale' as int 3, not as a function or class" in result.checks[0].message
    assert result.checks[1].status == FAILED


def test_files_that_cannot_be_read(toy_grader, tmp_path: Path):
    (tmp_path / "toy.py").write_bytes(b"x = '\xff\xfe'\n")
    result = toy_grader.grade(Submission.from_path(tmp_path, toy_grader.course)).topics[0]
    assert result.error == f"{tmp_path / 'toy.py'} is not UTF-8 text (byte 5)"
    assert {c.status for c in result.checks} == {FAILED}


def test_missing_file_is_not_attempted(toy_grader, tmp_path: Path):
    result = toy_grader.grade(Submission.from_path(tmp_path, toy_grader.course)).topics[0]
    assert {c.status for c in result.checks} == {NOT_ATTEMPTED}
    assert "not found" in result.error


def test_a_file_must_be_named_after_its_topic(toy_grader, tmp_path: Path):
    (tmp_path / "other.py").write_text("")
    with pytest.raises(UsageError, match=r"must be named after its topic \(toy\.py, or \.ipynb\)"):
        Submission.from_path(tmp_path / "other.py", toy_grader.course)


def test_printed_output_is_kept_but_capped(toy_grader):
    source = (TOY / "solutions" / "toy.py").read_text() + "\nprint('x' * 100_000)\n"
    result = grade_source(toy_grader, source, topic="toy")
    assert result.checks[0].status == PASSED
    assert result.output.startswith("x" * 100)
    assert "more bytes not shown" in result.output
    assert len(result.output) < 8 * 1024


def _copy_toy(tmp_path: Path, topic: str) -> Path:
    """The toy course under another topic id (imported modules are cached by name)."""
    root = tmp_path / "course"
    shutil.copytree(TOY, root, ignore=shutil.ignore_patterns("__pycache__"))
    for folder in ("exercises", "solutions", "checks/public"):
        (root / folder / "toy.py").rename(root / folder / f"{topic}.py")
    yaml_path = root / "course.yaml"
    yaml_path.write_text(yaml_path.read_text().replace("id: toy", f"id: {topic}"))
    return root


@pytest.mark.parametrize(
    "topic, old, new, message",
    [
        pytest.param("toy_unlisted", '@check("broken"', '@check("unlisted"', "defines check 'unlisted', which course.yaml does not list under topic 'toy_unlisted'", id="unlisted"),
        pytest.param("toy_twice", '@check("broken"', '@check("scale"', "check 'scale' is defined twice", id="twice"),
        pytest.param("toy_broken_import", "import torch", "import torch\nraise RuntimeError('oops')", "cannot import checks.public.toy_broken_import: RuntimeError: oops", id="import-fails"),
    ],
)
def test_check_modules_must_match_course_yaml(tmp_path: Path, topic: str, old: str, new: str, message: str):
    root = _copy_toy(tmp_path, topic)
    checks = root / "checks" / "public" / f"{topic}.py"
    checks.write_text(checks.read_text().replace(old, new.replace("\\n", "\n")))
    with Grader(course=load_course(root / "course.yaml"), devices=["cpu"]) as grader:
        with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
            grader.grade(Submission.from_texts("s", {topic: ""}))


def test_one_grader_serves_concurrent_submissions(toy_grader):
    """Batch grading shares one grader (one fork server) across threads; each worker gets its own slot."""
    from concurrent.futures import ThreadPoolExecutor

    sources = [(TOY / "solutions" / "toy.py").read_text(), (TOY / "exercises" / "toy.py").read_text()] * 3
    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(lambda s: grade_source(toy_grader, s, topic="toy"), sources))
    assert [r.points for r in results] == [3, 0] * 3


TOY_SCALE = "    return a * np.asarray(x, dtype=float)"


def toy_with(scale_body: str) -> str:
    """The toy reference with another body for scale (the first check; the others still pass)."""
    return (TOY / "solutions" / "toy.py").read_text().replace(TOY_SCALE, scale_body)


@pytest.mark.parametrize(
    "body, message, where, computed",
    [
        pytest.param("    while True: pass", "used this check's 1 s of CPU time (limits.cpu_s) without finishing and was stopped", "stopped while running toy.py, line 7, in scale: `while True: pass`", True, id="computing"),
        pytest.param("    import time\n    time.sleep(10**6)", "spent 1 s neither computing nor waiting for a CPU (asleep or blocked: limits.wall_s) and was stopped", "stopped while running toy.py, line 8, in scale: `time.sleep(10**6)`", False, id="asleep"),
    ],
)
def test_a_check_out_of_time_fails_with_the_budget_it_used_and_where_it_was(toy_grader, body: str, message: str, where: str, computed: bool):
    """grade(cpu_s=1) lowers both budgets (the self-test's way): the message names the budget, not a measured time,
    and, beside it, the line the worker was running when it was stopped (its own stack dump, and a sample of the run:
    a TIMINGS key, never in a hidden check's summary)."""
    result = grade_source(toy_grader, toy_with(body), topic="toy", cpu_s=1)
    scale = next(c for c in result.checks if c.id == "scale")
    assert (scale.status, scale.message, scale.summary, scale.stopped_at) == (FAILED, f"scale(<array (4,)>, 2.5): {message}", f"scale(<array (4,)>, 2.5): {message}", where)
    assert scale.cpu_s >= 1 if computed else scale.cpu_s < 0.5  # a sleep costs no CPU time
    assert statuses(result)["counter"] == PASSED  # the worker was replaced; later checks still ran


def test_an_import_that_never_finishes_says_where_it_was(toy_grader):
    source = (TOY / "solutions" / "toy.py").read_text() + "\nwhile True: pass\n"
    result = grade_source(toy_grader, source, topic="toy", cpu_s=0.5)
    loop = source.count("\n")
    assert result.error == "importing submission/toy.py: used the import's 0.5 s of CPU time (limits.cpu_s) without finishing and was stopped"
    assert result.stopped_at == f"stopped while running toy.py, line {loop}, in <module>: `while True: pass`"


def test_a_notebook_stopped_in_a_loop_says_its_cell_and_line(toy_grader, tmp_path: Path):
    cells = [{"cell_type": "markdown", "source": "# Toy", "metadata": {}}, {"cell_type": "code", "id": "ref", "source": (TOY / "solutions" / "toy.py").read_text(), "metadata": {}}]
    cells.append({"cell_type": "code", "id": "cell-loop", "source": "def scale(x, a):\n    y = 1\n    while True: pass\n", "metadata": {}})
    (tmp_path / "toy.ipynb").write_text(json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells}))
    (scale,) = toy_grader.grade(Submission.from_path(tmp_path / "toy.ipynb", toy_grader.course), checks=["scale"], cpu_s=0.5).topics[0].checks
    assert scale.message.endswith(" and was stopped") and scale.stopped_at == "stopped while running toy.ipynb, cell 3 (id cell-loop), line 3, in scale: `while True: pass`"


FORGED = 'Current thread 0x1 (most recent call first):\\n  File "/course/solutions/toy.py", line 3 in secret\\n  File "submission/toy.py", line 1 in leak\\n'


@pytest.mark.parametrize(
    "handler, where",
    [
        pytest.param("import signal\nsignal.signal(signal.SIGUSR1, lambda *_: print('  File \"submission/toy.py\", line 7 in scale'))\n", "", id="its-own-handler"),
        pytest.param("import faulthandler, signal, sys\nfaulthandler.register(signal.SIGUSR1, file=sys.stderr)\n", "", id="its-own-faulthandler"),
        pytest.param(
            f"import os, signal\ndef forge(*_):\n    for fd in range(3, 256):\n        try:\n            os.write(fd, b'{FORGED}')\n        except OSError:\n            pass\nsignal.signal(signal.SIGUSR1, forge)\n",
            'stopped while running toy.py, line 1, in leak: `"""Reference of the engine-test topic."""`',
            id="a-forged-dump-quotes-only-its-own-lines",
        ),
    ],
)
def test_a_submission_that_answers_the_stack_request_itself_still_fails_and_misleads_no_one(toy_grader, handler: str, where: str):
    """The stack is a hint in the student's own message: a replaced handler says nothing, a forged dump at most
    points at a line of the submission (the grader quotes its own copy); the check fails as out of time either way."""
    result = grade_source(toy_grader, toy_with("    while True: pass") + "\n" + handler, topic="toy", checks=["scale"], cpu_s=0.5)
    (scale,) = result.checks
    assert (scale.status, scale.points) == (FAILED, 0)
    assert scale.message == "scale(<array (4,)>, 2.5): used this check's 0.5 s of CPU time (limits.cpu_s) without finishing and was stopped"
    assert scale.stopped_at == where


def starve_after(monkeypatch, seconds: float, *, cpu_s: float, wall_s: float) -> None:
    """A check whose worker took ``seconds`` (not computing: a loop gets less than cpu_s by then) is starved."""
    monkeypatch.setattr(workers, "STARVED_AFTER", seconds / (cpu_s + wall_s))


BUSY = "no points are given or taken for it: grade again when the machine is less busy"
TRIED = f"tried {STARVED_RETRIES + 1} times"


def test_a_starved_check_is_tried_again_then_is_the_grader_s_error(toy_grader, monkeypatch):
    starve_after(monkeypatch, 1.0, cpu_s=2, wall_s=2)  # the loop is judged starved long before it used its 2 s
    report = toy_grader.grade(Submission.from_texts("s", {"toy": toy_with("    while True:\n        pass")}), topics=["toy"], cpu_s=2)
    result = report.topics[0]
    scale = next(c for c in result.checks if c.id == "scale")
    assert scale.status == ERROR and scale.points == 0
    assert scale.message.startswith("scale(<array (4,)>, 2.5): not graded: the machine was too busy to run this check (")
    assert TRIED in scale.message and scale.message.endswith(BUSY)
    assert statuses(result) == {"scale": ERROR, "counter": PASSED, "component": PASSED, "broken": ERROR}  # never a FAIL
    assert "scale" in {c.id for c in report.internal_errors}


def test_a_starved_import_leaves_every_check_ungraded(toy_grader, monkeypatch):
    starve_after(monkeypatch, 1.0, cpu_s=2, wall_s=2)
    source = (TOY / "solutions" / "toy.py").read_text() + "\nwhile True:\n    pass\n"
    result = grade_source(toy_grader, source, topic="toy", cpu_s=2)
    assert result.error is None and result.points == 0
    for chk in result.checks:
        assert chk.status == ERROR
        assert chk.message.startswith("not graded: the machine was too busy to import submission/toy.py (")
        assert TRIED in chk.message and chk.message.endswith(BUSY)


def test_grade_run_exits_3_when_the_machine_was_too_busy(course, monkeypatch, tmp_path: Path):
    """Run in this process, where the starving is patched in; the fork server and workers are real."""
    limits = course.topic("information").limits
    starve_after(monkeypatch, 1.0, cpu_s=limits.cpu_s, wall_s=limits.wall_s)
    (tmp_path / "information.py").write_text("while True:\n    pass\n")
    done = CliRunner().invoke(cli.main, ["run", str(tmp_path), "--topic", "information", "--device", "cpu", "--public-only", "--course", str(ROOT / "course.yaml")])
    assert done.exit_code == 3, done.output
    said = " ".join(done.output.split())  # as read, whatever the terminal's width
    assert "the machine was too busy to import" in said and TRIED in said


def test_checks_record_what_they_call(toy_grader):
    grade_source(toy_grader, (TOY / "solutions" / "toy.py").read_text(), topic="toy")
    assert toy_grader.calls("toy") == {"scale": {"scale"}, "counter": {"Counter"}, "component": {"apply"}, "broken": set()}


def test_devices_outside_the_session_are_a_usage_error(toy_grader):
    with pytest.raises(UsageError, match=r"devices \['cuda'\]: this grader runs on cpu"):
        toy_grader.grade(Submission.from_texts("s", {"toy": ""}), devices=["cuda"])


@pytest.mark.parametrize("solution, ran", [
    pytest.param("solutions", ["counter", "scale"], id="all-pass-all-run-in-order"),
    pytest.param("exercises", ["counter"], id="stops-at-the-first-lost-point"),
])
def test_chosen_checks_until_the_first_failure(toy_grader, solution, ran):
    result = grade_source(toy_grader, (TOY / solution / "toy.py").read_text(), topic="toy", checks=["counter", "scale"], until_failure=True)
    assert [c.id for c in result.checks] == ran


def test_choosing_an_unknown_check_is_a_usage_error(toy_grader):
    with pytest.raises(UsageError, match="topic 'toy' has no check 'nope'"):
        grade_source(toy_grader, "", topic="toy", checks=["nope"])


def test_an_infinite_loop_costs_the_cpu_budget_once_then_the_shorter_after_timeout_limit(grader):
    """Checks after the first timeout of a topic get limits.after_timeout_s: a loop in a function that many checks
    call does not cost cpu_s each time, and the checks that do not call it still pass."""
    hang = (ROOT / "solutions" / "information.py").read_text().replace("def entropy(p: np.ndarray) -> np.ndarray:\n", "def entropy(p: np.ndarray) -> np.ndarray:\n    while True: pass\n", 1)
    after = grader.course.topic("information").limits.after_timeout_s
    loop = hang.splitlines().index("    while True: pass") + 1
    result = grade_source(grader, hang, "information", cpu_s=2, public_only=True)
    timed_out = [c for c in result.checks if "without finishing and was stopped" in c.message]
    assert "used this check's 2 s of CPU time (limits.cpu_s)" in timed_out[0].message and timed_out[0].cpu_s >= 2
    assert len(timed_out) >= 3
    for chk in timed_out[1:]:
        assert chk.message.endswith(f"used this check's {after:g} s of CPU time (limits.cpu_s) without finishing and was stopped (an earlier check of this topic ran out of time, so each later one has {after:g} s)")
        assert chk.stopped_at == f"stopped while running information.py, line {loop}, in entropy: `while True: pass`"
        assert chk.cpu_s >= after
    assert statuses(result)["cross_entropy"] == PASSED
