"""course.yaml validation: every kind of error names the file, the line, the key path and what was expected."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from autograder.course.config import Limits, find_course_file, load_course
from autograder.errors import ConfigError

from conftest import ROOT


@pytest.fixture
def course_dir(tmp_path: Path) -> Path:
    """A copy of the course's files, so tests can break course.yaml and the topic files."""
    for folder in ("exercises", "solutions", "checks"):
        shutil.copytree(ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "course.yaml", tmp_path / "course.yaml")
    return tmp_path


def edit(course_dir: Path, change) -> Path:
    path = course_dir / "course.yaml"
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_the_shipped_course_loads():
    course = load_course(ROOT / "course.yaml")
    topic = course.topic("convolution")
    assert topic.points == sum(topic.checks.values())
    assert course.tolerance("float64", "cpu").rtol == 1e-9
    assert course.tolerance("int64", "cpu").rtol == 0.0
    assert topic.limits == Limits(cpu_s=10.0, wall_s=10.0, memory_mb=2048, output_kb=16, after_timeout_s=1.0)


BAD = [
    ("unknown-top-key", lambda d: d.update(colour="red"), r"colour: unknown key; expected one of: course, seed"),
    ("unknown-topic-key", lambda d: d["topics"][0].update(weight=3), r"topics\[0\]\.weight: unknown key"),
    ("points-do-not-add-up", lambda d: d["topics"][0].update(points=99), r"topics\[0\]\.points: the checks of 'convolution' add up to 45, but points is 99"),
    ("points-not-a-number", lambda d: d["topics"][0]["checks"].update(conv1d_full="two"), r"topics\[0\]\.checks\.conv1d_full: expected a positive number, got 'two'"),
    ("negative-points", lambda d: d["topics"][0]["checks"].update(conv1d_full=-2), r"topics\[0\]\.checks\.conv1d_full: expected a positive number, got -2"),
    ("missing-title", lambda d: d["topics"][0].pop("title"), r"topics\[0\]\.title: missing \(required\)"),
    ("missing-course", lambda d: d.pop("course"), r"course: missing \(required\)"),
    ("bad-id", lambda d: d["topics"][0].update(id="Conv-2D"), r"topics\[0\]\.id: expected a string matching"),
    ("duplicate-topic", lambda d: d["topics"].insert(1, dict(d["topics"][0])), r"topics\[1\]\.id: topic 'convolution' is declared twice"),
    ("missing-files", lambda d: d["topics"][0].update(id="ghost"), r"topics\[0\]: topic 'ghost' has no stub: .*exercises/ghost\.py does not exist"),
    ("bad-device", lambda d: d.update(devices=["tpu"]), r"devices: expected a non-empty list of cpu / cuda, got \['tpu'\]"),
    ("bad-limit", lambda d: d["limits"].update(wall_s=0), r"limits\.wall_s: expected a positive number, got 0"),
    ("bad-cpu-limit", lambda d: d["topics"][0].update(limits={"cpu_s": -1}), r"topics\[0\]\.limits\.cpu_s: expected a positive number, got -1"),
    ("bad-limit-type", lambda d: d["topics"][0].update(limits={"memory_mb": 1.5}), r"topics\[0\]\.limits\.memory_mb: expected a positive integer, got 1\.5"),
    ("unknown-limit", lambda d: d["limits"].update(gpu_s=3), r"limits\.gpu_s: unknown key; expected one of: cpu_s, wall_s, memory_mb, output_kb, after_timeout_s$"),
    ("bad-tolerance-dtype", lambda d: d["tolerances"].update(float8={"rtol": 1, "atol": 1}), r"tolerances\.float8: unknown dtype"),
    ("tolerance-missing-atol", lambda d: d["tolerances"].update(float64={"rtol": 1e-9}), r"tolerances\.float64\.atol: missing \(required\)"),
    ("bad-seed", lambda d: d["seed"].update(public="abc"), r"seed\.public: expected a non-negative integer, got 'abc'"),
    ("selftest-threshold-percent", lambda d: d.update(selftest={"threshold": 90}), r"selftest\.threshold: expected a share between 0 and 1 \(0\.9 = 90%\), got 90"),
    ("selftest-unknown-key", lambda d: d.update(selftest={"equivalent": {}}), r"selftest\.equivalent: unknown key; expected one of: threshold, cpu_s, secrets$"),
    ("selftest-bad-cpu", lambda d: d["topics"][0].update(selftest={"cpu_s": "fast"}), r"topics\[0\]\.selftest\.cpu_s: expected a positive number, got 'fast'"),
    # The key from before budgets were CPU time: refused, naming the keys there are now.
    ("selftest-secrets-not-a-count", lambda d: d.update(selftest={"secrets": 0}), r"selftest\.secrets: expected a whole number of course secrets, at least 1, got 0"),
    ("selftest-old-wall-key", lambda d: d.update(selftest={"wall_s": 2}), r"selftest\.wall_s: unknown key; expected one of: threshold, cpu_s, secrets$"),
    ("equivalent-not-a-mapping", lambda d: d["topics"][0].update(selftest={"equivalent": ["conv1d:constant:abcdef"]}), r"topics\[0\]\.selftest\.equivalent: expected a mapping of mutant id -> why it is equivalent, got a list"),
    ("equivalent-bad-id", lambda d: d["topics"][0].update(selftest={"equivalent": {"conv1d line 3": "same"}}), r"topics\[0\]\.selftest\.equivalent: 'conv1d line 3' is not a mutant id \(expected <function>:<kind>:<6 hex digits>"),
    ("equivalent-no-reason", lambda d: d["topics"][0].update(selftest={"equivalent": {"conv1d:constant:abcdef": None}}), r"topics\[0\]\.selftest\.equivalent\.conv1d:constant:abcdef: expected a non-empty string, got nothing"),
    ("fixed-inputs-not-a-mapping", lambda d: d["topics"][0].update(selftest={"fixed_inputs": ["output_size"]}), r"topics\[0\]\.selftest\.fixed_inputs: expected a mapping of check id -> why its inputs cannot vary with the seed, got a list"),
    ("fixed-inputs-unknown-check", lambda d: d["topics"][0].update(selftest={"fixed_inputs": {"conv9d": "a lookup table"}}), r"topics\[0\]\.selftest\.fixed_inputs\.conv9d: no check 'conv9d' in this topic; expected one of: conv1d_full, conv1d_modes, "),
    ("fixed-inputs-empty-reason", lambda d: d["topics"][0].update(selftest={"fixed_inputs": {"output_size": " "}}), r"topics\[0\]\.selftest\.fixed_inputs\.output_size: expected the reason its inputs cannot vary with the seed \(a lookup table of answers passes it\), got ' '"),
    ("fixed-inputs-no-reason", lambda d: d["topics"][0].update(selftest={"fixed_inputs": {"output_size": None}}), r"topics\[0\]\.selftest\.fixed_inputs\.output_size: expected the reason .*, got nothing"),
    ("fixed-inputs-course-wide", lambda d: d.update(selftest={"fixed_inputs": {}}), r"selftest\.fixed_inputs: unknown key; expected one of: threshold, cpu_s, secrets$"),
    ("no-topics", lambda d: d.update(topics=[]), r"topics: expected a non-empty list of topics"),
    ("bad-hide", lambda d: d["sandbox"].update(hide="solutions"), r"sandbox\.hide: expected a list of paths"),
    ("bad-hidden-feedback", lambda d: d.update(feedback={"hidden": "numbers"}), r"feedback\.hidden: expected one of full, no-values, pass-fail, got 'numbers'"),
    ("bad-reference", lambda d: d.update(reference="answers"), r"reference: expected solutions or recorded, got 'answers'"),
    ("hidden-summary-without-recording", lambda d: d["topics"][0].update(hidden={"checks": 2, "points": 4}), r"topics\[0\]\.hidden: only with reference: recorded"),
    ("topic-not-a-mapping", lambda d: d["topics"].append("ghost"), r"topics\[\d+\]: expected a mapping"),
]


@pytest.mark.parametrize("change, message", [pytest.param(c, m, id=i) for i, c, m in BAD])
def test_invalid_course_is_a_config_error_with_location(course_dir: Path, change, message: str):
    path = edit(course_dir, change)
    with pytest.raises(ConfigError) as info:
        load_course(path)
    text = str(info.value)
    assert re.search(message, text), text
    assert re.match(rf"{re.escape(str(path))}:\d+: ", text), f"no file:line prefix in {text!r}"
    assert "\n" not in text
    assert info.value.exit_code == 2


# Broken text: the line is known exactly.
RAW = [
    ("tab-indentation", b"course: x\nseed:\n\tpublic: 1\n", r":3: not valid YAML: .*found character '\\t' that cannot start any token"),
    ("unclosed-bracket", b"course: [unclosed", r":1: not valid YAML: .*expected ',' or '\]'"),
    ("key-declared-twice", b"course: a\nseed: {public: 1}\ncourse: b\n", r":3: course: declared twice \(lines 1 and 3\); keep one"),
    ("nested-key-declared-twice", b"course: x\ntopics:\n  - id: a\n    title: A\n    id: b\n", r":5: topics\[0\]\.id: declared twice \(lines 3 and 5\)"),
    ("not-utf-8", b"course: x\n# caf\xe9\n", r":2: not UTF-8 text \(byte 0xe9 at offset 15\)"),
    ("missing-required-key", b"seed: {public: 1}\n", r":1: course: missing \(required\)"),
]


@pytest.mark.parametrize("raw, message", [pytest.param(r, m, id=i) for i, r, m in RAW])
def test_broken_course_text_names_the_line(tmp_path: Path, raw: bytes, message: str):
    path = tmp_path / "course.yaml"
    path.write_bytes(raw)
    with pytest.raises(ConfigError) as info:
        load_course(path)
    assert re.match(re.escape(str(path)) + message, str(info.value)), str(info.value)
    assert "\n" not in str(info.value)


def test_line_number_points_at_the_offending_key(course_dir: Path):
    path = course_dir / "course.yaml"
    lines = path.read_text().splitlines()
    index = next(i for i, line in enumerate(lines) if "conv1d_full:" in line)
    lines[index] = lines[index].replace("2", "two")
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ConfigError, match=rf":{index + 1}: topics\[0\]\.checks\.conv1d_full"):
        load_course(path)


@pytest.mark.parametrize(
    "text, message",
    [
        pytest.param("", "empty file", id="empty"),
        pytest.param("course: [unclosed", "not valid YAML", id="syntax"),
        pytest.param("- a\n- b\n", "expected a mapping, got a list", id="not-a-mapping"),
    ],
)
def test_unreadable_course_files(tmp_path: Path, text: str, message: str):
    path = tmp_path / "course.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_course(path)


def test_missing_course_file(tmp_path: Path):
    with pytest.raises(ConfigError, match="cannot read the course file"):
        load_course(tmp_path / "course.yaml")


def test_find_course_file_searches_upwards(tmp_path: Path):
    (tmp_path / "course.yaml").write_text("course: x\n")
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    assert find_course_file(nested) == tmp_path / "course.yaml"


def test_selftest_policy_defaults_and_overrides(course_dir):
    path = edit(course_dir, lambda d: (d.update(selftest={"threshold": 0.8, "cpu_s": 3}), d["topics"][0].update(selftest={"threshold": 0.95, "equivalent": {"conv2d:axis:abcdef": "x is 4-D"}})))
    policy = load_course(path).topic("convolution").selftest
    assert (policy.threshold, policy.cpu_s, policy.equivalent, policy.fixed_inputs) == (0.95, 3.0, {"conv2d:axis:abcdef": "x is 4-D"}, {})
    assert load_course(ROOT / "tests" / "selftest_course" / "course.yaml").topic("vectors").selftest.threshold == 0.5


def test_checks_declared_with_fixed_inputs_keep_their_reasons(course_dir):
    path = edit(course_dir, lambda d: d["topics"][0].update(selftest={"fixed_inputs": {"output_size": "the sizes a student must know"}}))
    assert load_course(path).topic("convolution").selftest.fixed_inputs == {"output_size": "the sizes a student must know"}
    assert load_course(path).topic("probability").selftest.fixed_inputs == {}
