"""grade selftest on a course whose mutants are known in advance (tests/selftest_course/course.yaml says which)."""

from __future__ import annotations

import dataclasses
import json
import shutil

import pytest
import yaml
from click.testing import CliRunner

from autograder.cli import main as cli
from autograder.course.config import load_course
from autograder.engine.grading import Grader
from autograder.errors import UsageError
from autograder.selftest import runner as selftest
from autograder.selftest.render import render
from autograder.selftest.report import EQUIVALENT, KILLED, SURVIVED, TopicSelfTest

from conftest import ROOT

COURSE = ROOT / "tests" / "selftest_course" / "course.yaml"


@pytest.fixture(scope="module")
def report():
    return selftest.run(course=load_course(COURSE), topics=[], devices=["cpu"], sandbox="auto", jobs=2)


@pytest.fixture(scope="module")
def topic(report) -> TopicSelfTest:
    return report.topics[0]


def by_id(topic: TopicSelfTest) -> dict:
    return {m.mutant.id: m for m in topic.mutants}


def test_reference_stub_repeatability_and_seeding_pass(topic):
    assert (topic.reference_failures, topic.stub_failures, topic.deterministic, topic.fixed_inputs, topic.problems) == ({}, {}, True, [], [])


def test_counts_and_score(topic):
    assert (len(topic.mutants), topic.count(KILLED), topic.count(SURVIVED), topic.count(EQUIVALENT)) == (32, 17, 12, 3)
    assert topic.score == pytest.approx(17 / 29)
    assert topic.passed  # the course's threshold is 0.5


def test_a_mutant_counts_as_killed_only_if_every_secret_kills_it(topic):
    assert topic.secrets == 8
    assert all(m.secrets == m.killed_under == 8 for m in topic.mutants if m.status == KILLED)
    # The search stops at the first secret a mutant survives: `v * 2` for `v ** 2` was caught twice, then v = 0 was drawn.
    seed_dependent = by_id(topic)["bump:arithmetic:4390ab"]
    assert (seed_dependent.status, seed_dependent.killed_under, seed_dependent.secrets, seed_dependent.killed_by) == (SURVIVED, 2, 3, "bump")
    assert seed_dependent in topic.seed_dependent
    graded, killed = zip(*topic.per_secret())
    assert graded[0] == 29 and killed[0] == 22  # the first secret alone would have counted 22 of 29 killed
    assert killed[-1] == topic.count(KILLED)


def test_each_unit_removed_alone_costs_only_its_own_check(topic):
    assert topic.removed == {"axpy": ["axpy"], "total": ["total"], "bump": ["bump"]}


@pytest.mark.parametrize("mutant, status, detail", [
    pytest.param("axpy:arithmetic:f5eccb", KILLED, "axpy", id="killed-names-the-failing-check"),
    pytest.param("total:constant:ebedb1", KILLED, "total", id="killed-constant"),
    pytest.param("total:axis:c411a4", SURVIVED, ["total"], id="survivor-reached-by-a-check"),
    pytest.param("_offset:constant:8b29ac", SURVIVED, [], id="survivor-no-check-reaches"),
    pytest.param("bump:constant:c26aca", SURVIVED, ["bump"], id="survivor-under-the-last-secret"),
    pytest.param("total:drop-term:a3e032", EQUIVALENT, "compiles to the same bytecode as the reference", id="same-bytecode"),
    pytest.param("total:arithmetic:4e3300", EQUIVALENT, "compiles to the same bytecode as the reference", id="same-bytecode-folded"),
    pytest.param("total:arithmetic:da44f4", EQUIVALENT, "dividing by the folded 1 is multiplying by it", id="declared"),
])
def test_each_mutant_is_classified(topic, mutant, status, detail):
    result = by_id(topic)[mutant]
    assert result.status == status
    got = {KILLED: result.killed_by, SURVIVED: result.exercised_by, EQUIVALENT: result.why}[status]
    assert got == detail


def test_a_topic_under_its_threshold_fails(topic):
    assert not dataclasses.replace(topic, threshold=0.7).passed


def test_text_report_shows_table_survivors_and_equivalents(report):
    text = render(report, "text")
    assert "  vectors       3         ok    ok          ok      ok      3       32      17        12           3  58.6%        50%    pass" in text
    assert "  vectors  75.9% of 29  95.5% of 22" in text
    assert "  _offset:constant:8b29ac  (line 22; constant: 1 -> 2)\n    no check reaches _offset, directly or through the functions that call it" in text
    assert "  bump:arithmetic:4390ab  (line 17; arithmetic: ** -> *)\n    killed by bump under 2 secret(s), then passed every check under secret #3" in text
    assert "    passed every check that reaches total: total" in text
    assert "    -    return v + 1\n    +    return v + 2" in text
    assert "  total:arithmetic:da44f4  (line 11; arithmetic: * -> /): dividing by the folded 1 is multiplying by it" in text
    assert text.rstrip().endswith("Self-test passed.")


def test_json_report_is_plain_data(report):
    data = json.loads(render(report, "json"))
    assert data["passed"] is True
    (topic,) = data["topics"]
    assert topic["mutants"] == {
        "total": 32, "killed": 17, "survived": 12, "equivalent": 3, "score": pytest.approx(17 / 29), "threshold": 0.5, "secrets": 8,
        "per_secret": [{"graded": g, "killed": k} for g, k in report.topics[0].per_secret()],
    }
    assert topic["partial_credit"] == {"units": {"axpy": ["axpy"], "total": ["total"], "bump": ["bump"]}}
    assert topic["inputs"] == {"passed": True, "fixed": [], "declared_fixed": {}}
    assert {s["id"] for s in topic["survivors"]} == {m.mutant.id for m in report.topics[0].mutants if m.status == SURVIVED}
    assert all(s["diff"].startswith("--- solutions/vectors.py") for s in topic["survivors"])


BUNDLED = """

@check("together", "axpy and bump", combines=("total",))
def together(t: Trial) -> None:
    x, y, v = t.rng.standard_normal(3), t.rng.standard_normal(3), t.rng.uniform(1, 2)
    t.close(t.call("axpy", 2.0, x, y), t.ref.axpy(2.0, x, y), what="axpy(2, x, y)")
    t.close(t.call("bump", v), t.ref.bump(v), what="bump(v)")
"""


@pytest.fixture(scope="module")
def broken(tmp_path_factory) -> TopicSelfTest:
    """A copy of the course where an instructor broke everything the self-test guards (its topic renamed: this
    process has imported the original's modules already)."""
    root = tmp_path_factory.mktemp("broken") / "course"
    shutil.copytree(COURSE.parent, root)
    for folder in ("exercises", "solutions", "checks/public"):
        (root / folder / "vectors.py").rename(root / folder / "broken.py")
    checks = root / "checks" / "public" / "broken.py"
    checks.write_text(checks.read_text().replace(
        "    x = t.rng.standard_normal(6)\n    t.close(t.call(\"total\", x), t.ref.total(x), what=\"total(x)\")",
        "    import numpy as np\n\n    x = np.random.default_rng().standard_normal(6)  # not the trial's rng\n"
        "    t.close(t.call(\"total\", x), t.ref.total(x) + 1, what=\"total(x)\")",
    ) + BUNDLED)
    stub = root / "exercises" / "broken.py"
    stub.write_text(stub.read_text().replace('raise NotImplementedError("total")', "return 0.0"))
    course_file = root / "course.yaml"
    course_file.write_text(course_file.read_text().replace("id: vectors", "id: broken").replace(
        '"total:arithmetic:da44f4": dividing by the folded 1 is multiplying by it',
        '"bump:constant:000000": a mutant that no longer exists\n        "axpy:arithmetic:f5eccb": wrongly declared',
    ).replace("      bump: 1\n", "      bump: 1\n      together: 1\n").replace("points: 3", "points: 4").replace("cpu_s: 2}", "cpu_s: 2, secrets: 1}"))
    return selftest.run(course=load_course(course_file), topics=["broken"], devices=["cpu"], sandbox="auto", jobs=2).topics[0]


def test_a_reference_that_fails_its_checks_is_reported(broken):
    assert list(broken.reference_failures) == ["total"]
    assert broken.reference_failures["total"].startswith("failed: total(x)")


def test_a_stub_that_answers_is_reported(broken):
    assert list(broken.stub_failures) == ["total"]
    assert broken.stub_failures["total"].startswith("failed:")


def test_results_that_differ_between_gradings_are_reported(broken):
    assert broken.deterministic is False


def test_stale_and_wrong_equivalence_declarations_are_problems(broken):
    assert "no mutant bump:constant:000000 in solutions/broken.py any more (the reference changed?); remove it" in broken.problems[0]
    assert "declares mutant axpy:arithmetic:f5eccb equivalent ('wrongly declared'), but check axpy tells it apart: remove the declaration" in broken.problems[1]
    assert not broken.passed


def test_a_check_that_bundles_units_or_declares_one_it_does_not_need_is_a_problem(broken):
    assert broken.removed == {"axpy": ["axpy", "together"], "bump": ["bump", "together"]}  # the stub answers total
    assert broken.problems[2:] == [
        "check together declares combines='total', which is not a unit of the stub (one of: axpy, bump)",
        "check together loses its points when any of axpy, bump is missing: a student who skipped one loses the others' credit;"
        " grade each in a check of its own, or declare combines=(...) on the check and say so in its title",
    ]


def test_cli_exit_code_and_json_output(tmp_path):
    out = tmp_path / "selftest.json"
    result = CliRunner().invoke(cli, ["selftest", "--course", str(COURSE), "--format", "json", "--output", str(out), "--jobs", "2"])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["topics"][0]["mutants"]["killed"] == 17
    assert "Self-test passed." in result.output


@pytest.mark.parametrize("args, message", [
    pytest.param(["--topic", "nope"], "no topic 'nope'; the topics are: vectors", id="unknown-topic"),
    pytest.param(["--jobs", "0"], "--jobs 0: expected at least 1", id="no-jobs"),
])
def test_cli_usage_errors(args, message):
    result = CliRunner().invoke(cli, ["selftest", "--course", str(COURSE), *args])
    assert result.exit_code == 2
    assert message in result.output


# ---- every check's inputs vary with the seed, or course.yaml says why they cannot ----------------------------------

SEEDED = "    x, y = t.rng.standard_normal(5), t.rng.standard_normal(5)\n"
CONSTANT = "    x, y = np.arange(5.0), np.linspace(-1.0, 1.0, 5)  # the same whatever the seed\n"
REASON = "the one pair of vectors the exercise's text works through"
# topic -> axpy's inputs, and what course.yaml declares under its selftest.fixed_inputs
SEEDING = {
    "seed_constant": (CONSTANT, None),
    "seed_declared": (CONSTANT, {"axpy": REASON}),
    "seed_stale": (SEEDED, {"axpy": REASON}),
}
FIXED_MESSAGE = (
    "  axpy: inputs do not vary with the seed: a lookup table of answers passes it; draw its inputs from t.rng or"
    " declare it under selftest.fixed_inputs in course.yaml with a reason"
)


@pytest.fixture(scope="module")
def seeding(tmp_path_factory) -> tuple[dict[str, TopicSelfTest], str]:
    """The toy topic three times, under new names (this process has imported the original's modules already), with
    axpy's inputs constant or drawn from t.rng, declared fixed or not; their reports by topic, and the text."""
    root = tmp_path_factory.mktemp("seeding") / "course"
    shutil.copytree(COURSE.parent, root)
    data = yaml.safe_load((root / "course.yaml").read_text())
    vectors = data["topics"][0]
    data["topics"] = []
    for name, (inputs, declared) in SEEDING.items():
        for folder in ("exercises", "solutions", "checks/public"):
            shutil.copy(root / folder / "vectors.py", root / folder / f"{name}.py")
        checks = root / "checks" / "public" / f"{name}.py"
        checks.write_text("import numpy as np\n" + checks.read_text().replace(SEEDED, inputs))
        data["topics"].append({**vectors, "id": name, "selftest": {**vectors["selftest"], **({"fixed_inputs": declared} if declared else {})}})
    data["selftest"]["secrets"] = 1  # seeding is this fixture's question, not mutants
    (root / "course.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    report = selftest.run(course=load_course(root / "course.yaml"), topics=[], devices=["cpu"], sandbox="auto", jobs=2)
    return {t.id: t for t in report.topics}, render(report, "text")


@pytest.mark.parametrize("topic_id, fixed, declared, problems", [
    pytest.param("seed_constant", ["axpy"], {}, [], id="constant-inputs-are-reported"),
    pytest.param("seed_declared", [], {"axpy": REASON}, [], id="declared-fixed-is-not"),
    pytest.param("seed_stale", [], {"axpy": REASON}, ["course.yaml: topics[2].selftest.fixed_inputs.axpy: the inputs of check axpy vary with the seed: remove the declaration"], id="stale-declaration-is-a-problem"),
])
def test_checks_whose_inputs_do_not_vary_with_the_seed(seeding, topic_id, fixed, declared, problems):
    topic = seeding[0][topic_id]
    assert (topic.fixed_inputs, topic.declared_fixed, topic.problems) == (fixed, declared, problems)
    assert topic.passed == (not fixed and not problems)
    assert (topic.reference_failures, topic.stub_failures, topic.deterministic) == ({}, {}, True)


def test_text_report_names_each_check_with_fixed_inputs_and_the_declared_ones(seeding):
    text = seeding[1]
    assert "  seed_constant       3         ok    ok          ok  1 FIXED" in text
    assert f"seed_constant: the reference graded under two seeds got the same inputs from these checks:\n{FIXED_MESSAGE}\n" in text
    assert f"seed_declared: 1 check(s) declared with fixed inputs:\n  axpy: {REASON}\n" in text
    assert "seed_constant (the inputs of 1 check(s) do not vary with the seed)" in text


def test_selftest_needs_a_grader_with_a_secret():
    course = dataclasses.replace(load_course(COURSE), secret_env="AUTOGRADER_SECRET_NOT_SET_HERE")
    with Grader(course=course, sandbox="process", devices=["cpu"], use_forkserver=False) as grader, pytest.raises(UsageError, match="the self-test needs a grader with a course secret"):
        selftest.selftest_topic(grader=grader, topic=course.topic("vectors"), jobs=1)
