"""``grade release student OUT``: the folder (and zip) a student clones to work on the exercises and grade them.

It holds the stubs, the public checks, the grader, the public checks' answers recorded from the reference
(autograder.course.recorded) and a course.yaml with ``reference: recorded``: no reference solution, hidden check, course
secret or hidden expected value. Hidden checks appear only as a count and points per topic; they run at submission.
"""

from __future__ import annotations

import importlib
import os
import shutil
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import yaml

from ..course.config import RECORDED, Course, Topic, load_course, locate_course
from ..engine.checks import checks_in
from ..engine.results import PASSED
from ..errors import ConfigError, InternalError, UsageError
from ..reports.output import write_zip

__all__ = ["main", "Recorded", "record_public", "write_public_course"]

_PINNED = ("torch", "numpy", "click", "pyyaml", "pytest")  # what `grade run` needs; nbgrader and the dev tools stay out


def main(*, out: Path, course: Path | None, force: bool) -> int:
    """Write the bundle to ``out`` and ``out``.zip; refuse to replace either without ``force``."""
    course_obj = load_course(locate_course(course, Path.cwd()))
    if course_obj.reference == RECORDED:
        raise ConfigError(f"{course_obj.path}: reference: {RECORDED} is already a student bundle; release from the course itself (reference: solutions)")
    out = Path(out).resolve()
    archive = out.with_name(out.name + ".zip")
    existing = [p for p in (out, archive) if p.exists()]
    if existing and not force:
        raise UsageError(f"{existing[0]}: already exists; pass --force to replace it (and {archive.name})")
    if course_obj.root == out or course_obj.root in out.parents:
        raise UsageError(f"{out}: inside the course folder {course_obj.root}; write the bundle somewhere else")
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=f".{out.name}.") as tmp:
        staging = Path(tmp) / out.name
        _write(course_obj, staging)
        _zip(staging, Path(tmp) / archive.name)
        if out.exists():
            shutil.rmtree(out)
        staging.rename(out)
        os.replace(Path(tmp) / archive.name, archive)
    print(f"wrote {out}/ and {archive.name}: {len(course_obj.topics)} topics, public checks only")
    return 0


_HEADER = (
    "# The student bundle's course: public checks only, answered by the reference recorded in answers/.\n"
    "# Hidden checks are counted under each topic's `hidden`; they run when you submit.\n"
)


def _write(course: Course, dest: Path) -> None:
    write_public_course(course=course, topics=course.topics, recorded=record_public(course=course, topics=course.topics), dest=dest, header=_HEADER)
    for topic in course.topics:
        _copy(topic.stub, dest / "exercises" / topic.stub.name)
    package = Path(__file__).resolve().parents[1]  # the autograder package
    for file in sorted(package.rglob("*")):
        if file.is_file() and "__pycache__" not in file.parts and file.suffix != ".pyc":
            _copy(file, dest / "autograder" / file.relative_to(package))
    (dest / "pyproject.toml").write_text(_pyproject(course.root / "pyproject.toml", dest), encoding="utf-8")
    (dest / "constraints.txt").write_text(_constraints(course.root / "constraints.txt"), encoding="utf-8")
    (dest / "README.md").write_text(_readme(course), encoding="utf-8")
    (dest / ".gitignore").write_text(".venv/\n__pycache__/\n*.egg-info/\n", encoding="utf-8")


def _copy(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dst)


@dataclass(frozen=True)
class Recorded:
    """The reference's answers to the public checks of some topics."""

    records: dict[str, Any]  # topic id -> its autograder.course.recorded record
    public: dict[str, list[str]]  # topic id -> its public checks' ids


def write_public_course(*, course: Course, topics: Sequence[Topic], recorded: Recorded, dest: Path, header: str) -> None:
    """A course of ``topics`` at ``dest`` that grades with their public checks alone, and no reference solution,
    hidden check or secret: course.yaml (``reference: recorded``, starting with the comment ``header``),
    checks/public/ and answers/."""
    for topic in topics:
        _copy(topic.public_checks, dest / "checks" / "public" / topic.public_checks.name)
        recorded.records[topic.id].save(dest / "answers" / f"{topic.id}.npz")
    for folder in ("checks", "checks/public"):  # the course's package markers, if it uses them (else namespace packages)
        if (course.root / folder / "__init__.py").is_file():
            _copy(course.root / folder / "__init__.py", dest / folder / "__init__.py")
    (dest / "course.yaml").write_text(header + _course_yaml(course, topics, recorded.public), encoding="utf-8")


def record_public(*, course: Course, topics: Sequence[Topic]) -> Recorded:
    """Grade the reference with the public checks of ``topics``, on the CPU, recording what each check asked it."""
    from ..course.recorded import Recorder
    from ..course.submission import Submission
    from ..engine.grading import Grader

    recorders: dict[str, Recorder] = {}

    def wrap(topic: Topic, reference: Any) -> Recorder:
        return recorders.setdefault(topic.id, Recorder(module=reference))

    submission = Submission.from_texts("reference", {t.id: t.solution.read_text(encoding="utf-8") for t in topics})
    with Grader(course=course, sandbox="process", devices=["cpu"], wrap_reference=wrap) as grader:
        report = grader.grade(submission, topics=[t.id for t in topics], public_only=True)
    for topic in report.topics:
        failed = [c for c in topic.checks if c.status != PASSED]
        if topic.error or failed:
            what = topic.error or "; ".join(f"{c.id}: {c.status}: {c.message.splitlines()[0] if c.message else ''}" for c in failed)
            raise InternalError(f"{course.path}: topic {topic.id!r}: the reference must pass every public check to record its answers, but: {what}")
    public = {t.id: [c.id for c in checks_in(importlib.import_module(f"checks.public.{t.id}"))] for t in topics}
    return Recorded(records={t: r.record for t, r in recorders.items()}, public=public)


def _course_yaml(course: Course, chosen: Sequence[Topic], public: dict[str, list[str]]) -> str:
    topics = []
    for topic in chosen:
        checks = {c: _number(topic.checks[c]) for c in topic.checks if c in public[topic.id]}
        hidden = {c: p for c, p in topic.checks.items() if c not in checks}
        entry: dict[str, Any] = {"id": topic.id, "title": topic.title, "points": _number(sum(checks.values())), "checks": checks}
        entry["limits"] = {"wall_s": topic.limits.wall_s, "cpu_s": topic.limits.cpu_s, "memory_mb": topic.limits.memory_mb, "output_kb": topic.limits.output_kb}
        entry["devices"] = list(topic.devices)
        if hidden:
            entry["hidden"] = {"checks": len(hidden), "points": _number(sum(hidden.values()))}
        topics.append(entry)
    tolerances: dict[str, Any] = {d: {"rtol": t.rtol, "atol": t.atol} for d, t in course.tolerances.items()}
    if course.cuda_tolerances:
        tolerances["cuda"] = {d: {"rtol": t.rtol, "atol": t.atol} for d, t in course.cuda_tolerances.items()}
    data = {
        "course": course.title,
        "reference": RECORDED,
        "seed": {"public": course.public_seed, "secret_env": course.secret_env},
        "tolerances": tolerances,
        "sandbox": {"uid_base": course.uid_base, "hide": [".git"]},
        "topics": topics,
    }
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=120)


def _number(value: float) -> float | int:
    """2 rather than 2.0 in the YAML a student reads."""
    return int(value) if float(value).is_integer() else value


def _pyproject(source: Path, dest: Path) -> str:
    """The course's project metadata without the optional extras (nbgrader, dev tools) and the test settings."""
    project = tomllib.loads(source.read_text(encoding="utf-8"))["project"]
    packages = sorted(".".join(p.parent.relative_to(dest).parts) for p in (dest / "autograder").rglob("__init__.py"))
    deps = "".join(f'    "{d}",\n' for d in project["dependencies"])
    scripts = "".join(f'{name} = "{target}"\n' for name, target in project.get("scripts", {}).items())
    return (
        '[build-system]\nrequires = ["setuptools>=68"]\nbuild-backend = "setuptools.build_meta"\n\n'
        f'[project]\nname = "{project["name"]}"\nversion = "{project["version"]}"\n'
        f'description = "{project.get("description", "")}"\nreadme = "README.md"\n'
        f'requires-python = "{project["requires-python"]}"\ndependencies = [\n{deps}]\n\n'
        f"[project.scripts]\n{scripts}\n"
        f"[tool.setuptools]\npackages = [{', '.join(repr(p).replace(chr(39), chr(34)) for p in packages)}]\n"
    )


def _constraints(source: Path) -> str:
    lines = [line for line in source.read_text(encoding="utf-8").splitlines() if line.split("==")[0].strip().lower() in _PINNED]
    return "# The versions the course's CI grades with (torch is the CPU build).\n" + "\n".join(lines) + "\n"


def _readme(course: Course) -> str:
    topics = "\n".join(f"- `exercises/{t.id}.py`: {t.title}" for t in course.topics)
    return f"""# {course.title}

Your exercises are in `exercises/`, one file per topic:

{topics}

Each file has the signatures, the maths and a worked example; replace each `raise NotImplementedError` with your code.

## Set up (once, Linux or macOS, Python 3.11+)

```bash
python3 -m venv .venv && .venv/bin/pip install -c constraints.txt -e .
```

## Grade your work

From this folder:

```bash
.venv/bin/grade run
```

grades `exercises/` with the public checks (`checks/public/`; add `--topic ID` for one topic). It says which check
failed, by how much, and, where your answer matches a known mistake, which one.

The public checks are only part of the grade: **hidden checks run when you submit**, on inputs you have not seen, so
passing every public check does not guarantee full marks. Write code that is right, not code that fits the public
inputs.
"""


def _zip(folder: Path, archive: Path) -> None:
    """``folder`` as a zip whose entries start with the folder's name."""
    files = (p for p in folder.rglob("*") if p.is_file())
    write_zip(archive, ((f"{folder.name}/{f.relative_to(folder).as_posix()}", f.read_bytes(), 0o644) for f in files))
