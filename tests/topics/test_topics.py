"""What every topic of course.yaml must satisfy: the reference scores full marks, the untouched stub scores zero
("not attempted") and carries the reference's contract, the docstring examples hold, and every known mistake the
checks name has a submission (tests/mistakes/<topic>.yaml) that is detected by name. A new topic is covered by its
course.yaml entry; its own test file keeps only what is particular to it."""

from __future__ import annotations

import doctest
import importlib
import inspect

import pytest

from autograder.course.config import load_course
from autograder.engine.checks import MODIFIES_INPUT, USES_AUTOGRAD, USES_LIBRARY, checks_in
from autograder.engine.compare import Mistake
from autograder.engine.results import FAILED, NOT_ATTEMPTED, PASSED
from autograder.selftest.units import remove

from conftest import ROOT, grade_source, statuses
from mistakes import known_mistakes

TOPICS = [t.id for t in load_course(ROOT / "course.yaml").topics]
KNOWN = {topic: known_mistakes(topic) for topic in TOPICS}


@pytest.mark.parametrize("topic", TOPICS)
def test_reference_scores_full_marks(grader, topic: str):
    result = grade_source(grader, (ROOT / "solutions" / f"{topic}.py").read_text(), topic)
    assert {c.id: c.status for c in result.checks if c.status != PASSED} == {}
    assert result.points == result.max_points == grader.course.topic(topic).points


@pytest.mark.parametrize("topic", TOPICS)
def test_stub_scores_zero_not_attempted(grader, topic: str):
    result = grade_source(grader, (ROOT / "exercises" / f"{topic}.py").read_text(), topic)
    assert set(statuses(result).values()) == {NOT_ATTEMPTED}
    assert result.points == 0
    assert all("not attempted (raises NotImplementedError)" in c.message for c in result.checks)


def _contract(obj: object) -> dict[str, tuple[inspect.Signature, str | None]]:
    """Signature and docstring of a function, or of a class and each of its public (and dunder) methods."""
    if not inspect.isclass(obj):
        return {"": (inspect.signature(obj), obj.__doc__)}
    methods = {n: v for n, v in vars(obj).items() if inspect.isfunction(v) and (not n.startswith("_") or n.startswith("__"))}
    return {"": (None, obj.__doc__), **{n: (inspect.signature(v), v.__doc__) for n, v in methods.items()}}


@pytest.mark.parametrize("topic", TOPICS)
def test_stub_has_the_reference_contract_and_no_private_helpers(topic: str):
    stub, ref = importlib.import_module(f"exercises.{topic}"), importlib.import_module(f"solutions.{topic}")
    assert stub.__all__ == ref.__all__
    for name in ref.__all__:
        assert _contract(getattr(stub, name)) == _contract(getattr(ref, name)), name
    assert [n for n, v in vars(stub).items() if inspect.isfunction(v) or inspect.isclass(v) and v.__module__ == stub.__name__] == ref.__all__


@pytest.mark.parametrize("topic", TOPICS)
def test_reference_docstring_examples_hold(topic: str):
    assert doctest.testmod(importlib.import_module(f"solutions.{topic}"), raise_on_error=False).failed == 0


def _all_checks(topic: str) -> list:
    modules = [importlib.import_module(f"checks.public.{topic}")]
    if (ROOT / "checks" / "hidden" / f"{topic}.py").is_file():
        modules.append(importlib.import_module(f"checks.hidden.{topic}"))
    return [c for m in modules for c in checks_in(m)]


@pytest.mark.parametrize("topic", TOPICS)
def test_every_mistake_the_checks_name_has_a_submission(topic: str):
    checks = importlib.import_module(f"checks.public.{topic}")
    declared = {m.id for m in vars(checks).values() if isinstance(m, Mistake)}
    if not all(c.autograd for c in _all_checks(topic)):  # a check that refuses autograd names its use
        declared.add(USES_AUTOGRAD.id)
    if any(c.forbid for c in _all_checks(topic)):  # a check that forbids library code names its use
        declared.add(USES_LIBRARY.id)
    known = {k.mistake for k in KNOWN[topic].values()}
    # The worker names an input changed in place in every topic; a topic's table shows it where students make it.
    assert declared <= known and known - declared <= {MODIFIES_INPUT.id}


@pytest.mark.parametrize("topic", TOPICS)
def test_the_stub_lists_the_library_code_each_check_forbids(topic: str):
    stub = importlib.import_module(f"exercises.{topic}")
    docstrings = " ".join(inspect.getdoc(o) or "" for o in [stub, *vars(stub).values()] if inspect.ismodule(o) or inspect.isfunction(o) or inspect.isclass(o))
    unlisted = {name for c in _all_checks(topic) for name in c.forbid if name not in docstrings}
    assert not unlisted, f"exercises/{topic}.py does not tell students they may not use {', '.join(sorted(unlisted))}"


@pytest.mark.parametrize("topic, name", [(topic, name) for topic in TOPICS for name in sorted(KNOWN[topic])])
def test_known_mistake_is_detected_by_name(grader, topic: str, name: str):
    known = KNOWN[topic][name]
    result = grade_source(grader, known.source, topic)
    assert {c.id for c in result.checks if c.status == FAILED} == known.fails
    for c in result.checks:
        if c.id in known.fails:
            assert c.mistake is not None and c.mistake["id"] == known.mistake, (c.id, c.message)
            assert "your answer matches a known mistake" in c.message


@pytest.mark.parametrize("secret", ["alpha", "beta", "gamma"])
@pytest.mark.parametrize("topic", TOPICS)
def test_hidden_checks_pass_the_reference_and_name_every_mistake_whatever_inputs_they_draw(grader, monkeypatch, topic: str, secret: str):
    """Hidden inputs change with the secret and the submission: the reference passes every draw, and every draw still
    reveals each known mistake by name."""
    monkeypatch.setenv("AUTOGRADER_SECRET", secret)
    reference = grade_source(grader, (ROOT / "solutions" / f"{topic}.py").read_text(), topic)
    assert {c.id: c.message for c in reference.checks if c.status != PASSED} == {}
    hidden_ids = [c.id for c in reference.checks if c.hidden]
    for known in KNOWN[topic].values():
        failing = [c for c in hidden_ids if c in known.fails]
        if not failing:
            continue  # the mistake shows in public checks only: nothing here depends on this secret's hidden draws
        result = grade_source(grader, known.source, topic, checks=failing)
        for check in result.checks:
            assert check.mistake and check.mistake["id"] == known.mistake, (known.name, check.id, check.message)


# A real submission missing one function or operation (the probe's: an engine without log, optimizers without
# nesterov, a layer set without xcorr1d) loses that unit's checks and nothing else. `grade selftest` removes every
# unit of every topic this way under its own secret; this table pins one per topic, with the checks that must lose.
MISSING_ONE = [
    pytest.param("convolution", "xcorr1d", {"xcorr1d_modes", "hidden_xcorr1d"}, id="convolution-xcorr1d"),
    pytest.param("backprop", "Value.log", {"value_log"}, id="backprop-Value.log"),
    pytest.param("backprop", "Value.__radd__", {"value_radd"}, id="backprop-Value.__radd__"),
    pytest.param("optimizers", "nesterov", {"nesterov", "nesterov_contract", "hidden_nesterov"}, id="optimizers-nesterov"),
    pytest.param("information", "softmax_cross_entropy", {"softmax_cross_entropy", "softmax_cross_entropy_stable", "softmax_cross_entropy_contract", "hidden_softmax_cross_entropy"}, id="information-softmax_cross_entropy"),
    pytest.param("probability", "chebyshev_bound", {"chebyshev_bound", "chebyshev_bound_contract", "hidden_chebyshev_bound"}, id="probability-chebyshev_bound"),
    pytest.param("convexity", "frobenius_norm", {"frobenius_norm", "frobenius_norm_contract", "hidden_frobenius_norm"}, id="convexity-frobenius_norm"),
    pytest.param("flows", "planar_flow", {"planar_flow", "planar_flow_invertible", "planar_flow_contract", "hidden_planar_flow"}, id="flows-planar_flow"),
    pytest.param("vae", "VAE.decode", {"vae_module", "hidden_vae_module", "vae_training"}, id="vae-VAE.decode"),
    pytest.param("gan", "gradient_penalty", {"gradient_penalty", "gradient_penalty_gradient", "gradient_penalty_contract", "hidden_gradient_penalty"}, id="gan-gradient_penalty"),
    pytest.param("diffusion", "ddim_step", {"ddim_step", "ddim_step_contract", "hidden_ddim_step", "ddim_sample_mixture"}, id="diffusion-ddim_step"),
]


@pytest.mark.parametrize("topic, unit, loses", MISSING_ONE)
def test_a_missing_unit_costs_only_its_own_checks(grader, topic: str, unit: str, loses: set[str]):
    result = grade_source(grader, remove((ROOT / "solutions" / f"{topic}.py").read_text(), unit).source, topic)
    assert {c.id for c in result.checks if c.status != PASSED} == loses
    assert all(c.status == NOT_ATTEMPTED for c in result.checks if c.id in loses)
