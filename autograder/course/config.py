"""course.yaml: the course declared as data, validated in one place.

Every key has a type, a default (or is required) and a meaning; loading checks all of them and reports the first
problem as ``course.yaml:LINE: topics[0].checks.conv1d: expected a positive number, got 'two'``.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError, UsageError

__all__ = ["Course", "Topic", "Limits", "SelfTest", "Tolerance", "Hidden", "load_course", "find_course_file", "locate_course", "DEVICES", "SOLUTIONS", "RECORDED"]

DEVICES = ("cpu", "cuda")
# What a failing hidden check tells the student: everything, the message with its numbers blanked, or only whether it
# passed (no message, no mistake, no figure, and no excerpt of what the code printed, which could echo its inputs).
HIDDEN_FEEDBACK = ("full", "no-values", "pass-fail")
SOLUTIONS, RECORDED = "solutions", "recorded"  # where t.ref comes from: solutions/<id>.py, or answers/<id>.npz (a student bundle)
_ID = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Tolerance:
    rtol: float
    atol: float


@dataclass(frozen=True)
class Limits:
    cpu_s: float  # CPU seconds one check may use on one device (its worker and every process that starts): the verdict
    wall_s: float  # wall-clock seconds one check may spend neither computing nor waiting for a CPU (sleeping, blocked)
    memory_mb: int  # memory of one worker
    output_kb: int  # how much of a worker's stdout/stderr is kept for the student
    after_timeout_s: float = 1.0  # both budgets of each later check of a topic once one of its checks ran out of time


@dataclass(frozen=True)
class SelfTest:
    """How ``grade selftest`` judges a topic's checks."""

    threshold: float  # share of the non-equivalent mutants that must lose points
    cpu_s: float  # both time budgets of one check of one mutant (mutants that hang are stopped sooner than students)
    secrets: int = 8  # course secrets a mutant is graded under: it counts as killed only if every one kills it
    equivalent: dict[str, str] = field(default_factory=dict)  # mutant id -> why no input tells it from the reference
    fixed_inputs: dict[str, str] = field(default_factory=dict)  # check id -> why its inputs cannot vary with the seed


@dataclass(frozen=True)
class Hidden:
    """A student bundle's stand-in for the hidden checks it does not contain: how many, and their points."""

    checks: int
    points: float


@dataclass(frozen=True)
class Topic:
    id: str
    title: str
    points: float
    checks: dict[str, float]  # check id -> points, in the order they are graded
    limits: Limits
    devices: tuple[str, ...]
    root: Path
    selftest: SelfTest = SelfTest(threshold=0.9, cpu_s=2.0)
    hidden: Hidden | None = None  # reference: recorded only; the checks themselves run at submission

    @property
    def stub(self) -> Path:
        return self.root / "exercises" / f"{self.id}.py"

    @property
    def solution(self) -> Path:
        return self.root / "solutions" / f"{self.id}.py"

    @property
    def public_checks(self) -> Path:
        return self.root / "checks" / "public" / f"{self.id}.py"

    @property
    def hidden_checks(self) -> Path:
        return self.root / "checks" / "hidden" / f"{self.id}.py"

    @property
    def answers(self) -> Path:
        """The recorded reference (reference: recorded)."""
        return self.root / "answers" / f"{self.id}.npz"


@dataclass(frozen=True)
class Course:
    path: Path
    title: str
    public_seed: int
    secret_env: str
    secret_file: Path | None
    tolerances: dict[str, Tolerance]
    cuda_tolerances: dict[str, Tolerance]
    uid_base: int
    hide: tuple[Path, ...]
    topics: tuple[Topic, ...] = field(default=())
    reference: str = SOLUTIONS
    hidden_feedback: str = "full"
    given_secret: bytes | None = None  # set by the caller, not course.yaml: grade selftest grades with a secret of its own

    @property
    def root(self) -> Path:
        return self.path.parent

    def topic(self, topic_id: str) -> Topic:
        for topic in self.topics:
            if topic.id == topic_id:
                return topic
        known = ", ".join(t.id for t in self.topics)
        raise ConfigError(f"{self.path.name}: no topic {topic_id!r}; the topics are: {known}")

    def tolerance(self, dtype: str, device: str) -> Tolerance:
        table = {**self.tolerances, **(self.cuda_tolerances if device == "cuda" else {})}
        return table.get(dtype, Tolerance(0.0, 0.0))  # integer and boolean results compare exactly

    def secret(self) -> bytes | None:
        """The course secret that makes hidden inputs unpredictable, or None when none is configured."""
        if self.given_secret is not None:
            return self.given_secret
        if self.secret_file is not None and self.secret_file.is_file():
            return self.secret_file.read_bytes().strip()
        value = os.environ.get(self.secret_env)
        return value.encode() if value else None


# ---- the schema -------------------------------------------------------------------------------------------------

_DEFAULT_LIMITS = {"cpu_s": 10.0, "wall_s": 10.0, "memory_mb": 2048, "output_kb": 16, "after_timeout_s": 1.0}
_DEFAULT_TOLERANCES = {
    "float64": {"rtol": 1e-9, "atol": 1e-11},
    "float32": {"rtol": 1e-5, "atol": 1e-6},
    "float16": {"rtol": 1e-3, "atol": 1e-5},
}


class _Where:
    """Key paths and their line numbers in the YAML source, for messages."""

    def __init__(self, file: Path, lines: dict[str, int]):
        self.file, self.lines = file, lines

    def error(self, path: str, message: str) -> ConfigError:
        line = self.lines.get(path)
        while line is None and path:
            path_parent = re.sub(r"(\.[^.\[\]]+|\[\d+\])$", "", path)
            if path_parent == path:
                break
            path = path_parent
            line = self.lines.get(path)
        at = f"{self.file}:{line}" if line else str(self.file)
        return ConfigError(f"{at}: {message}")


def _lines(node: Any, path: str = "", out: dict[str, int] | None = None, twice: list[tuple[str, int, int]] | None = None) -> dict[str, int]:
    """Key path -> line; the root is line 1. A key declared twice in one mapping goes to ``twice`` (YAML itself
    would keep the last silently): (path, first line, second line)."""
    import yaml

    out = {"": 1} if out is None else out
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key, value in node.value:
            sub = f"{path}.{key.value}" if path else str(key.value)
            if sub in seen and twice is not None:
                twice.append((sub, seen[sub], key.start_mark.line + 1))
            seen[sub] = out[sub] = key.start_mark.line + 1
            _lines(value, sub, out, twice)
    elif isinstance(node, yaml.SequenceNode):
        for i, value in enumerate(node.value):
            sub = f"{path}[{i}]"
            out[sub] = value.start_mark.line + 1
            _lines(value, sub, out, twice)
    return out


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    return {dict: "a mapping", list: "a list", type(None): "nothing"}.get(type(value), repr(value))


def _mapping(where: _Where, value: Any, path: str, keys: dict[str, str]) -> dict[str, Any]:
    """Check that ``value`` is a mapping whose keys are among ``keys`` (key -> meaning)."""
    if not isinstance(value, dict):
        raise where.error(path, f"{path or 'the file'}: expected a mapping, got {_kind(value)}")
    for key in value:
        if key not in keys:
            allowed = ", ".join(keys)
            raise where.error(f"{path}.{key}" if path else str(key), f"{path + '.' if path else ''}{key}: unknown key; expected one of: {allowed}")
    return value


def _number(where: _Where, value: Any, path: str, *, positive: bool = False, integer: bool = False) -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    ok = ok and (not integer or float(value).is_integer()) and (value > 0 if positive else value >= 0)
    if not ok:
        what = ("a positive " if positive else "a non-negative ") + ("integer" if integer else "number")
        raise where.error(path, f"{path}: expected {what}, got {_kind(value)}")
    return int(value) if integer else float(value)


def _string(where: _Where, value: Any, path: str, pattern: re.Pattern[str] | None = None) -> str:
    if not isinstance(value, str) or not value or (pattern is not None and not pattern.match(value)):
        expected = f"a string matching {pattern.pattern}" if pattern else "a non-empty string"
        raise where.error(path, f"{path}: expected {expected}, got {_kind(value)}")
    return value


def _required(where: _Where, mapping: dict[str, Any], key: str, path: str) -> Any:
    if key not in mapping:
        raise where.error(path, f"{path + '.' if path else ''}{key}: missing (required)")
    return mapping[key]


def _limits(where: _Where, value: Any, path: str, base: dict[str, Any]) -> dict[str, Any]:
    meanings = {
        "cpu_s": "CPU seconds one check may use on one device (the time verdict)",
        "wall_s": "wall-clock seconds one check may spend neither computing nor waiting for a CPU (sleeping or blocked)",
        "memory_mb": "memory of one worker, in MiB",
        "output_kb": "KiB of a worker's stdout/stderr kept for the student",
        "after_timeout_s": "cpu_s and wall_s of each later check of a topic once one ran out of time (an infinite loop costs cpu_s once, not per check)",
    }
    value = _mapping(where, value, path, meanings)
    merged = dict(base)
    for key, raw in value.items():
        integer = key in ("memory_mb", "output_kb")
        merged[key] = _number(where, raw, f"{path}.{key}", positive=True, integer=integer)
    return merged


def _selftest(where: _Where, value: Any, path: str, base: SelfTest, keys: dict[str, str], checks: dict[str, float] | None = None) -> SelfTest:
    """``checks``: the topic's checks, which its ``fixed_inputs`` may name (a topic's selftest only)."""
    value = _mapping(where, value, path, keys)
    threshold = base.threshold
    if "threshold" in value:
        threshold = _number(where, value["threshold"], f"{path}.threshold")
        if threshold > 1:
            raise where.error(f"{path}.threshold", f"{path}.threshold: expected a share between 0 and 1 (0.9 = 90%), got {threshold:g}")
    cpu_s = _number(where, value["cpu_s"], f"{path}.cpu_s", positive=True) if "cpu_s" in value else base.cpu_s
    secrets = base.secrets
    if "secrets" in value:
        secrets = value["secrets"]
        if isinstance(secrets, bool) or not isinstance(secrets, int) or secrets < 1:
            raise where.error(f"{path}.secrets", f"{path}.secrets: expected a whole number of course secrets, at least 1, got {secrets!r}")
    equivalent = value.get("equivalent", {}) or {}
    if not isinstance(equivalent, dict):
        raise where.error(f"{path}.equivalent", f"{path}.equivalent: expected a mapping of mutant id -> why it is equivalent, got {_kind(equivalent)}")
    for mutant, why in equivalent.items():
        if not isinstance(mutant, str) or not _MUTANT_ID.match(mutant):
            raise where.error(f"{path}.equivalent", f"{path}.equivalent: {mutant!r} is not a mutant id (expected <function>:<kind>:<6 hex digits>, as `grade selftest` prints it)")
        _string(where, why, f"{path}.equivalent.{mutant}")
    fixed = value.get("fixed_inputs", {}) or {}
    if not isinstance(fixed, dict):
        raise where.error(f"{path}.fixed_inputs", f"{path}.fixed_inputs: expected a mapping of check id -> why its inputs cannot vary with the seed, got {_kind(fixed)}")
    for check_id, why in fixed.items():
        at = f"{path}.fixed_inputs.{check_id}"
        if check_id not in (checks or {}):
            raise where.error(at, f"{at}: no check {check_id!r} in this topic; expected one of: {', '.join(checks or {})}")
        if not isinstance(why, str) or not why.strip():
            raise where.error(at, f"{at}: expected the reason its inputs cannot vary with the seed (a lookup table of answers passes it), got {_kind(why)}")
    return SelfTest(threshold=threshold, cpu_s=cpu_s, secrets=secrets, equivalent=dict(equivalent), fixed_inputs=dict(fixed))


def _hidden(where: _Where, value: Any, path: str, reference: str) -> Hidden:
    if reference != RECORDED:
        raise where.error(path, f"{path}: only with reference: {RECORDED} (a student bundle); with {reference}, list the hidden checks under checks")
    value = _mapping(where, value, path, _HIDDEN)
    checks = _number(where, _required(where, value, "checks", path), f"{path}.checks", positive=True, integer=True)
    return Hidden(checks=int(checks), points=_number(where, _required(where, value, "points", path), f"{path}.points", positive=True))


def _devices(where: _Where, value: Any, path: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or any(d not in DEVICES for d in value):
        raise where.error(path, f"{path}: expected a non-empty list of {' / '.join(DEVICES)}, got {value!r}")
    return tuple(value)


def _tolerances(where: _Where, value: Any, path: str) -> dict[str, Tolerance]:
    if not isinstance(value, dict):
        raise where.error(path, f"{path}: expected a mapping of dtype -> {{rtol, atol}}, got {_kind(value)}")
    table = {}
    for dtype, tol in value.items():
        if dtype not in ("float64", "float32", "float16", "bfloat16"):
            raise where.error(f"{path}.{dtype}", f"{path}.{dtype}: unknown dtype; expected float64, float32, float16 or bfloat16")
        tol = _mapping(where, tol, f"{path}.{dtype}", {"rtol": "relative tolerance", "atol": "absolute tolerance"})
        table[dtype] = Tolerance(
            rtol=_number(where, _required(where, tol, "rtol", f"{path}.{dtype}"), f"{path}.{dtype}.rtol"),
            atol=_number(where, _required(where, tol, "atol", f"{path}.{dtype}"), f"{path}.{dtype}.atol"),
        )
    return table


_TOP = {
    "course": "the course's title",
    "seed": "how check inputs are drawn: public seed, where the course secret lives",
    "tolerances": "rtol/atol per dtype, and a 'cuda' mapping that overrides them on the GPU",
    "limits": "default per-topic limits (cpu_s, wall_s, memory_mb, output_kb, after_timeout_s)",
    "devices": "devices checks run on by default",
    "sandbox": "worker isolation: uid_base, extra paths to hide",
    "selftest": "how `grade selftest` judges the checks: threshold, cpu_s, secrets",
    "topics": "the topics in the order they are graded",
    "reference": "where checks get the reference: 'solutions' (solutions/<id>.py) or 'recorded' (answers/<id>.npz, a student bundle)",
    "feedback": "what students see: hidden (full, no-values or pass-fail) for failing hidden checks",
}
_SEED = {
    "public": "the fixed seed of the public checks' inputs",
    "secret_env": "environment variable that holds the course secret",
    "secret_file": "file (relative to course.yaml) that holds the course secret",
}
_TOPIC = {
    "id": "identifier: names exercises/<id>.py, solutions/<id>.py, checks/*/<id>.py",
    "title": "title shown to students",
    "points": "the topic's total; must equal the sum of its checks' points",
    "checks": "check id -> points, in grading order",
    "limits": "overrides of the default limits",
    "devices": "overrides of the default devices",
    "selftest": "overrides of the self-test threshold, the mutants declared equivalent (id: why) and the checks declared with fixed inputs (id: why)",
    "hidden": "reference: recorded only: {checks: how many hidden checks, points: their total}, graded at submission",
}
_HIDDEN = {"checks": "how many hidden checks the topic has", "points": "the hidden checks' points in total"}
_SELFTEST = {
    "threshold": "share of the non-equivalent mutants the checks must catch (0.9 = 90%)",
    "cpu_s": "CPU seconds (and wall-clock seconds asleep) for one check of one mutant",
    "secrets": "how many course secrets each mutant is graded under; it counts as killed only if every one kills it (default 8)",
}
_TOPIC_SELFTEST = {
    "equivalent": "mutant id -> why no input tells it from the reference",
    "fixed_inputs": "check id -> why its inputs cannot vary with the seed (grade selftest fails a check whose inputs do not vary, unless declared here)",
}
_MUTANT_ID = re.compile(r"^[A-Za-z_][\w.<>]*:[a-z-]+:[0-9a-f]{6}$")


def find_course_file(start: Path) -> Path | None:
    """The nearest course.yaml in ``start`` or a folder above it."""
    for folder in [start, *start.parents]:
        candidate = folder / "course.yaml"
        if candidate.is_file():
            return candidate
    return None


def locate_course(course: Path | None, near: Path) -> Path:
    """``--course``, else $AUTOGRADER_COURSE, else the nearest course.yaml above the current folder or ``near``."""
    if course is None and os.environ.get("AUTOGRADER_COURSE"):
        course = Path(os.environ["AUTOGRADER_COURSE"])
    if course is not None:
        return course
    found = find_course_file(Path.cwd()) or find_course_file(near.resolve())
    if found is None:
        raise UsageError("no course.yaml in this folder or above it; pass --course PATH")
    return found


def load_course(path: Path) -> Course:
    """Read and validate course.yaml; raise ConfigError naming the file, line, key path and what was expected."""
    import yaml

    path = Path(path).resolve()
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the course file ({exc.strerror or exc})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(f"{path}:{line}: not UTF-8 text (byte {raw[exc.start]:#04x} at offset {exc.start})") from None
    twice: list[tuple[str, int, int]] = []
    try:
        data = yaml.safe_load(text)
        where = _Where(path, _lines(yaml.compose(text), twice=twice))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        problem = " ".join(str(p) for p in (getattr(exc, "context", None), getattr(exc, "problem", None)) if p) or str(exc)
        raise ConfigError(f"{path}:{mark.line + 1}: not valid YAML: {problem}" if mark else f"{path}: not valid YAML: {exc}") from None
    if data is None:
        raise ConfigError(f"{path}: empty file; expected a mapping with the keys: {', '.join(_TOP)}")
    for key, first, second in twice:
        raise where.error(key, f"{key}: declared twice (lines {first} and {second}); keep one")

    data = _mapping(where, data, "", _TOP)
    title = _string(where, _required(where, data, "course", ""), "course")
    feedback = _mapping(where, data.get("feedback", {}), "feedback", {"hidden": f"what a failing hidden check tells the student: {', '.join(HIDDEN_FEEDBACK)}"})
    hidden_feedback = feedback.get("hidden", "full")
    if hidden_feedback not in HIDDEN_FEEDBACK:
        raise where.error("feedback.hidden", f"feedback.hidden: expected one of {', '.join(HIDDEN_FEEDBACK)}, got {hidden_feedback!r}")
    reference = data.get("reference", SOLUTIONS)
    if reference not in (SOLUTIONS, RECORDED):
        raise where.error("reference", f"reference: expected {SOLUTIONS} or {RECORDED}, got {_kind(reference)}")

    seed = _mapping(where, data.get("seed", {}), "seed", _SEED)
    public_seed = int(_number(where, seed.get("public", 0), "seed.public", integer=True))
    secret_env = _string(where, seed.get("secret_env", "AUTOGRADER_SECRET"), "seed.secret_env")
    secret_file = seed.get("secret_file")
    if secret_file is not None:
        secret_file = path.parent / _string(where, secret_file, "seed.secret_file")

    tol_raw = dict(data.get("tolerances", {}) or {})
    cuda_raw = tol_raw.pop("cuda", {})
    tolerances = _tolerances(where, {**_DEFAULT_TOLERANCES, **tol_raw}, "tolerances")
    cuda_tolerances = _tolerances(where, cuda_raw, "tolerances.cuda")

    default_limits = _limits(where, data.get("limits", {}), "limits", _DEFAULT_LIMITS)
    default_devices = _devices(where, data.get("devices", list(DEVICES)), "devices")
    default_selftest = _selftest(where, data.get("selftest", {}), "selftest", SelfTest(threshold=0.9, cpu_s=2.0), _SELFTEST)

    sandbox = _mapping(where, data.get("sandbox", {}), "sandbox", {"uid_base": "first uid of the worker slots", "hide": "paths (relative to course.yaml) hidden from workers"})
    uid_base = int(_number(where, sandbox.get("uid_base", 64000), "sandbox.uid_base", positive=True, integer=True))
    hide_raw = sandbox.get("hide", [".git"])
    if not isinstance(hide_raw, list) or not all(isinstance(h, str) and h for h in hide_raw):
        raise where.error("sandbox.hide", f"sandbox.hide: expected a list of paths, got {hide_raw!r}")
    hide = tuple(path.parent / h for h in hide_raw)

    topics_raw = _required(where, data, "topics", "")
    if not isinstance(topics_raw, list) or not topics_raw:
        raise where.error("topics", f"topics: expected a non-empty list of topics, got {_kind(topics_raw)}")
    topics: list[Topic] = []
    for i, raw in enumerate(topics_raw):
        at = f"topics[{i}]"
        raw = _mapping(where, raw, at, _TOPIC)
        topic_id = _string(where, _required(where, raw, "id", at), f"{at}.id", _ID)
        if any(t.id == topic_id for t in topics):
            raise where.error(f"{at}.id", f"{at}.id: topic {topic_id!r} is declared twice")
        checks_raw = _required(where, raw, "checks", at)
        if not isinstance(checks_raw, dict) or not checks_raw:
            raise where.error(f"{at}.checks", f"{at}.checks: expected a mapping of check id -> points, got {_kind(checks_raw)}")
        checks = {}
        for check_id, pts in checks_raw.items():
            _string(where, check_id, f"{at}.checks", _ID)
            checks[check_id] = _number(where, pts, f"{at}.checks.{check_id}", positive=True)
        points = _number(where, _required(where, raw, "points", at), f"{at}.points", positive=True)
        if not math.isclose(sum(checks.values()), points, rel_tol=1e-9):
            raise where.error(
                f"{at}.points",
                f"{at}.points: the checks of {topic_id!r} add up to {sum(checks.values()):g}, but points is {points:g}",
            )
        topic = Topic(
            id=topic_id,
            title=_string(where, _required(where, raw, "title", at), f"{at}.title"),
            points=points,
            checks=checks,
            limits=Limits(**_limits(where, raw.get("limits", {}), f"{at}.limits", default_limits)),
            devices=_devices(where, raw["devices"], f"{at}.devices") if "devices" in raw else default_devices,
            root=path.parent,
            selftest=_selftest(where, raw.get("selftest", {}), f"{at}.selftest", default_selftest, {**_SELFTEST, **_TOPIC_SELFTEST}, checks),
            hidden=_hidden(where, raw["hidden"], f"{at}.hidden", reference) if "hidden" in raw else None,
        )
        # A student bundle's exercises/ is the student's own work, not the course's stubs: a file renamed there is the
        # submission's problem (reported as such when graded), not a broken course.
        required = [("recorded reference", topic.answers)] if reference == RECORDED else [("stub", topic.stub), ("reference solution", topic.solution)]
        for label, required_file in (*required, ("public checks", topic.public_checks)):
            if not required_file.is_file():
                raise where.error(f"{at}.id", f"{at}: topic {topic_id!r} has no {label}: {required_file} does not exist")
        topics.append(topic)

    return Course(
        path=path,
        title=title,
        public_seed=public_seed,
        secret_env=secret_env,
        secret_file=secret_file,
        tolerances=tolerances,
        cuda_tolerances=cuda_tolerances,
        uid_base=uid_base,
        hide=hide,
        topics=tuple(topics),
        reference=reference,
        hidden_feedback=hidden_feedback,
    )

