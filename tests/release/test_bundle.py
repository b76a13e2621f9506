"""``grade release student``: what the bundle leaves out (scanned), and that grading inside it matches the course."""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

from autograder import cli
from autograder.course.config import load_course
from autograder.course.recorded import Recorder, load
from autograder.course.submission import Submission
from autograder.engine.grading import Grader
from autograder.engine.results import NOT_ATTEMPTED, PASSED
from autograder.errors import ConfigError
from autograder.release import bundle as bundle_module

from conftest import ROOT
from mistakes import known_mistakes

BUILD_SECRET = "bundle-secret-7f3c9e1d2b"  # distinctive: the scan looks for it byte for byte
TOPICS = [t["id"] for t in yaml.safe_load((ROOT / "course.yaml").read_text())["topics"]]
PUBLIC_IDS = {t: set(re.findall(r'@check\(\s*"([a-z0-9_]+)"', (ROOT / "checks" / "public" / f"{t}.py").read_text())) for t in TOPICS}
HIDDEN_IDS = {t["id"]: [c for c in t["checks"] if c not in PUBLIC_IDS[t["id"]]] for t in yaml.safe_load((ROOT / "course.yaml").read_text())["topics"]}
# One known mistake per topic, graded inside the bundle and with the course; they must agree.
MISTAKES = {"convolution": "kernel_flip", "probability": "bayes_no_prior", "information": "entropy_zero_log_zero", "optimizers": "adam_no_bias_correction", "convexity": "cond_singular_values", "backprop": "value_fork_overwrite", "vae": "kl_no_half", "flows": "log_prob_logdet_sign", "gan": "d_star_swapped", "diffusion": "p_mean_sqrt_one_minus_alpha"}


@pytest.fixture(scope="session")
def bundle(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("release") / "student"
    before = os.environ.get("AUTOGRADER_SECRET")
    os.environ["AUTOGRADER_SECRET"] = BUILD_SECRET
    try:
        assert bundle_module.main(out=out, course=ROOT / "course.yaml", force=False) == 0
    finally:
        os.environ["AUTOGRADER_SECRET"] = before or ""
    return out


def _contents(bundle: Path) -> list[tuple[str, bytes]]:
    """Every file of the bundle, every member of its zip (and the zip's raw bytes), every member of each npz."""
    found = [(str(p.relative_to(bundle)), p.read_bytes()) for p in sorted(bundle.rglob("*")) if p.is_file()]
    archive = bundle.with_name(bundle.name + ".zip")
    found.append((archive.name, archive.read_bytes()))
    with zipfile.ZipFile(archive) as z:
        found += [(f"{archive.name}:{name}", z.read(name)) for name in z.namelist()]
        found += [(f"{archive.name}:names", "\n".join(z.namelist()).encode())]
    for npz in sorted(bundle.glob("answers/*.npz")):
        with zipfile.ZipFile(npz) as z:
            found += [(f"{npz.name}:{name}", z.read(name)) for name in z.namelist()]
    return found


def _lines(text: str) -> set[str]:
    """Stripped lines of code long enough to say something (imports say nothing of a solution)."""
    return {s for s in (line.strip() for line in text.splitlines()) if len(s) >= 25 and not s.startswith(("import ", "from "))}


def _solution_lines(topic: str) -> set[str]:
    """Non-trivial lines of the reference that neither the stub nor the public checks contain."""
    return _lines((ROOT / "solutions" / f"{topic}.py").read_text()) - _lines((ROOT / "exercises" / f"{topic}.py").read_text()) - _lines((ROOT / "checks" / "public" / f"{topic}.py").read_text())


def _no_solutions_folder(bundle: Path) -> list[str]:
    return [name for name, _ in _contents(bundle) if re.search(r"(^|[/:])solutions/", name)]


def _no_hidden_checks(bundle: Path) -> list[str]:
    return [name for name, _ in _contents(bundle) if "checks/hidden" in name]


def _no_hidden_check_id(bundle: Path) -> list[str]:
    return [f"{name}: {c}" for name, data in _contents(bundle) for ids in HIDDEN_IDS.values() for c in ids if c.encode() in data]


def _no_solution_line(bundle: Path) -> list[str]:
    solutions = set().union(*(_solution_lines(t) for t in TOPICS))
    return [f"{name}: {line}" for name, data in _contents(bundle) for line in sorted(_lines(data.decode("utf-8", "replace")) & solutions)]


def _no_course_secret(bundle: Path) -> list[str]:
    return [name for name, data in _contents(bundle) if BUILD_SECRET.encode() in data]


@pytest.mark.parametrize(
    "scan",
    [
        pytest.param(_no_solutions_folder, id="no-solutions-folder"),
        pytest.param(_no_hidden_checks, id="no-hidden-checks"),
        pytest.param(_no_hidden_check_id, id="no-hidden-check-id"),
        pytest.param(_no_solution_line, id="no-reference-solution-line"),
        pytest.param(_no_course_secret, id="no-course-secret"),
    ],
)
def test_bundle_leaves_out(bundle: Path, scan):
    assert scan(bundle) == []


def test_the_solution_lines_scanned_for_are_many():
    """The scan above is only as good as what it looks for: each reference has lines of its own."""
    assert all(len(_solution_lines(t)) >= 10 for t in TOPICS), {t: len(_solution_lines(t)) for t in TOPICS}


def _floats(values: list[np.ndarray]) -> set[float]:
    """Float64 values that identify a computation: finite, not tiny, not multiples of 1/16 (integers, and what a
    saturated softmax's gradient gives: +-0.5 for two examples)."""
    found: set[float] = set()
    for v in values:
        v = np.asarray(v)
        if v.dtype == np.float64:
            flat = v.ravel()
            flat = flat[np.isfinite(flat) & (np.abs(flat) > 1e-6)]
            found.update(float(x) for x in flat if 16 * x != math.floor(16 * x))
    return found


def test_no_hidden_expected_value_is_in_the_recorded_answers(bundle: Path):
    """Grade the reference with the hidden checks, recording every answer the reference gives them: no such answer
    may be among the bundle's recorded numbers. An answer is judged whole: hidden_convergence runs Adam from the public
    start (1, 1), whose first coordinate moves the same for every condition number, so single numbers of a hidden
    answer can equal public ones; the other coordinate differs."""
    recorders: dict[str, Recorder] = {}
    course = load_course(ROOT / "course.yaml")
    with Grader(course=course, sandbox="process", devices=["cpu"], wrap_reference=lambda t, ref: recorders.setdefault(t.id, Recorder(module=ref))) as grader:
        for topic in TOPICS:
            source = (ROOT / "solutions" / f"{topic}.py").read_text()
            result = grader.grade(Submission.from_texts("reference", {topic: source}), topics=[topic], checks=HIDDEN_IDS[topic]).topics[0]
            assert {c.status for c in result.checks} == {PASSED}, topic
    hidden = [values for r in recorders.values() for a in r.record.arrays if (values := _floats([a]))]
    assert len(hidden) > 1000  # the hidden checks did ask the reference
    public = _floats([a for t in TOPICS for a in load(path=bundle / "answers" / f"{t}.npz", topic=t)._record.arrays])
    assert len(public) > 1000
    assert [sorted(values)[:3] for values in hidden if values <= public] == []


# ---- grading inside the bundle ----------------------------------------------------------------------------------


def _grade_in(bundle: Path, path: Path, *extra: str) -> subprocess.CompletedProcess:
    """`python -m autograder run` from the bundle folder, so that the bundle's own grader runs."""
    env = {k: v for k, v in os.environ.items() if k not in ("AUTOGRADER_COURSE", "PYTHONPATH")}
    command = [sys.executable, "-m", "autograder", "run", str(path), "--device", "cpu", "--sandbox", "process", *extra]
    return subprocess.run(command, cwd=bundle, env=env, capture_output=True, text=True, timeout=120)


def _results(run: subprocess.CompletedProcess) -> dict[str, dict[str, tuple[str, str | None]]]:
    assert run.returncode in (0, 3), run.stderr
    report = json.loads(run.stdout)
    return {t["id"]: {c["id"]: (c["status"], (c["mistake"] or {}).get("id")) for c in t["checks"]} for t in report["topics"]}


def test_the_bundle_grades_with_its_own_grader(bundle: Path):
    found = subprocess.run([sys.executable, "-c", "import autograder; print(autograder.__file__)"], cwd=bundle, capture_output=True, text=True, check=True)
    assert Path(found.stdout.strip()) == bundle / "autograder" / "__init__.py"


def test_untouched_stubs_score_zero_and_say_hidden_checks_run_at_submission(bundle: Path):
    run = _grade_in(bundle, bundle / "exercises")
    assert run.returncode == 0, run.stderr
    course = load_course(bundle / "course.yaml")
    for topic in course.topics:
        assert f"{topic.id}: hidden checks ({topic.hidden.checks}, {topic.hidden.points:g} points) run when you submit; this grade counts public checks only" in " ".join(run.stdout.split())
    assert "Total: 0/" in run.stdout
    assert len(re.findall(r"\] 0/\d+ todo \(nothing implemented yet\)", " ".join(run.stdout.split()))) == len(course.topics)  # a line per untouched topic


def test_a_renamed_exercise_is_the_submissions_problem_not_a_broken_course(bundle: Path):
    """The bundle's exercises/ is the student's work: renaming a file there must not make its course.yaml invalid."""
    exercise = bundle / "exercises" / "convolution.py"
    renamed = exercise.with_name("convolutions.py")
    exercise.rename(renamed)
    try:
        course = load_course(bundle / "course.yaml")
        assert Submission.from_path(bundle / "exercises", course).notes == ("convolutions.py is not a topic file, so it was not graded; did you mean convolution.py?",)
    finally:
        renamed.rename(exercise)


@pytest.fixture(scope="session")
def reference_in_bundle(bundle: Path, tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("reference")
    for topic in TOPICS:
        shutil.copyfile(ROOT / "solutions" / f"{topic}.py", folder / f"{topic}.py")
    return _results(_grade_in(bundle, folder, "--format", "json"))


@pytest.mark.parametrize("topic", TOPICS)
def test_the_reference_scores_every_public_point_in_the_bundle(reference_in_bundle: dict, topic: str):
    assert reference_in_bundle[topic] == {c: (PASSED, None) for c in PUBLIC_IDS[topic]}


@pytest.fixture(scope="session")
def mistakes_in_bundle(bundle: Path, tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("mistakes")
    for topic, name in MISTAKES.items():
        (folder / f"{topic}.py").write_text(known_mistakes(topic)[name].source)
    return _results(_grade_in(bundle, folder, "--format", "json"))


@pytest.mark.parametrize("topic", TOPICS)
def test_a_known_mistake_gets_the_same_public_verdicts_as_with_the_course(grader: Grader, mistakes_in_bundle: dict, topic: str):
    source = known_mistakes(topic)[MISTAKES[topic]].source
    result = grader.grade(Submission.from_texts("submission", {topic: source}), topics=[topic], public_only=True).topics[0]
    expected = {c.id: (c.status, (c.mistake or {}).get("id")) for c in result.checks}
    assert mistakes_in_bundle[topic] == expected
    assert any(status != PASSED for status, _ in expected.values()) and not any(status == NOT_ATTEMPTED for status, _ in expected.values())


@pytest.mark.parametrize(
    "topic, line, other",
    [
        pytest.param("vae", "return 0.5 * torch.sum(mu**2 + torch.exp(logvar) - 1.0 - logvar, dim=-1)", "return 0.5 * (torch.sum(mu**2, dim=-1) + torch.sum(torch.exp(logvar) - logvar, dim=-1) - mu.shape[-1])", id="vae-kl"),
        pytest.param("flows", "y = x_keep + change * (x * torch.exp(s) + t)", "y = x_keep + change * (x / torch.exp(-s) + t)", id="flows-scale"),
    ],
)
def test_a_training_answer_that_rounds_differently_passes_in_the_bundle(bundle: Path, tmp_path, topic: str, line: str, other: str):
    """A behaviour check trains with the student's own gradients, so its weights differ from the reference's in the
    last bits (these lines round differently from the reference's on most inputs): the recorded reference cannot
    answer for them, and the public checks must not ask it to."""
    reference = (ROOT / "solutions" / f"{topic}.py").read_text()
    assert reference.count(line) == 1
    (tmp_path / f"{topic}.py").write_text(reference.replace(line, other))
    results = _results(_grade_in(bundle, tmp_path, "--topic", topic, "--format", "json"))
    assert {check: status for check, status in results[topic].items() if status[0] != PASSED} == {}


def test_an_optimizer_answer_that_rounds_differently_passes_in_the_bundle(bundle: Path, tmp_path):
    """The optimizer checks replay the student's gradients through the reference for the final state; the bundle's
    recorded reference knows only its own path, and its state is the answer there (within tolerance)."""
    reference = (ROOT / "solutions" / "optimizers.py").read_text()
    line = "return params - lr * m_hat / (np.sqrt(v_hat) + eps), (step, m, v)"
    assert reference.count(line) == 1
    (tmp_path / "optimizers.py").write_text(reference.replace(line, "return params - (lr / (np.sqrt(v_hat) + eps)) * m_hat, (step, m, v)"))
    results = _results(_grade_in(bundle, tmp_path, "--topic", "optimizers", "--format", "json"))
    assert {check: status for check, status in results["optimizers"].items() if status[0] != PASSED} == {}


# ---- the builder's input ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "existing, message",
    [
        pytest.param("folder", "already exists; pass --force to replace it (and student.zip)", id="out-exists"),
        pytest.param("zip", "student.zip: already exists; pass --force to replace it (and student.zip)", id="zip-exists"),
    ],
)
def test_an_existing_bundle_is_not_replaced_without_force(tmp_path: Path, existing: str, message: str):
    out = tmp_path / "student"
    (out if existing == "folder" else tmp_path).mkdir(exist_ok=True)
    if existing == "zip":
        (tmp_path / "student.zip").write_bytes(b"keep me")
    result = CliRunner().invoke(cli.main, ["release", "student", str(out), "--course", str(ROOT / "course.yaml")])
    assert result.exit_code == 2
    assert message in result.output
    assert not (tmp_path / "student.zip").exists() or (tmp_path / "student.zip").read_bytes() == b"keep me"


def test_a_bundle_is_not_released_again(bundle: Path, tmp_path: Path):
    with pytest.raises(ConfigError, match="reference: recorded is already a student bundle"):
        bundle_module.main(out=tmp_path / "again", course=bundle / "course.yaml", force=False)


@pytest.mark.parametrize(
    "change, message",
    [
        pytest.param({"reference": "compiled"}, "reference: expected solutions or recorded, got 'compiled'", id="unknown-reference"),
        pytest.param({"topics.0.hidden": {"checks": 0, "points": 3}}, "topics[0].hidden.checks: expected a positive integer, got 0", id="no-hidden-checks"),
        pytest.param({"topics.0.hidden": {"checks": 2}}, "topics[0].hidden.points: missing (required)", id="hidden-points-missing"),
        pytest.param({"topics.0.hidden": {"checks": 2, "points": 3, "ids": []}}, "topics[0].hidden.ids: unknown key; expected one of: checks, points", id="hidden-unknown-key"),
        pytest.param({"reference": "solutions"}, "topics[0].hidden: only with reference: recorded", id="hidden-with-solutions"),
    ],
)
def test_the_bundle_course_keys_are_validated(bundle: Path, change: dict, message: str):
    data = yaml.safe_load((bundle / "course.yaml").read_text())
    for path, value in change.items():
        if path.startswith("topics."):
            data["topics"][int(path.split(".")[1])][path.split(".")[2]] = value
        else:
            data[path] = value
    variant = bundle / "variant.yaml"
    variant.write_text(yaml.safe_dump(data, sort_keys=False))
    try:
        with pytest.raises(ConfigError, match=re.escape(message)) as raised:
            load_course(variant)
        assert str(raised.value).startswith(f"{variant}:")
    finally:
        variant.unlink()


@pytest.mark.parametrize(
    "command, message",
    [
        pytest.param(["selftest"], "has no reference solutions to mutate; run grade selftest in the course itself", id="selftest"),
        pytest.param(["release", "nbgrader", "{tmp}"], "has no reference solutions to build notebooks from", id="release-nbgrader"),
        pytest.param(["release", "student", "{tmp}/again"], "", id="release-student"),
    ],
)
def test_what_needs_the_reference_refuses_a_bundle_with_a_clear_message(bundle: Path, tmp_path: Path, command: list[str], message: str):
    result = CliRunner().invoke(cli.main, [*(c.format(tmp=tmp_path) for c in command), "--course", str(bundle / "course.yaml")])
    assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output
