"""``grade list``: the course at a glance: each topic's points, the functions its stub asks for, and which of them the
submission has attempted (a function whose body no longer raises NotImplementedError), read without running it."""

from __future__ import annotations

import ast
from pathlib import Path

from .course.config import load_course, locate_course
from .course.submission import Submission
from .reports.renderers.text import console, wrap
from .run import default_path
from .selftest.units import units

__all__ = ["main", "functions"]


def functions(stub: str) -> list[str]:
    """The functions and methods a stub asks for, in source order: its public top-level definitions and its classes'
    methods (a stub keeps every signature, implemented or not)."""
    found = []
    for node in ast.parse(stub).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and not node.name.startswith("_"):
            found.append(node.name)
        elif isinstance(node, ast.ClassDef):
            found += [f"{node.name}.{m.name}" for m in node.body if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef))]
    return found


def main(*, path: Path | None, course: Path | None, checks: bool) -> int:
    course_obj = load_course(locate_course(course, path or Path.cwd()))
    folder = path if path is not None else default_path(Path.cwd(), course_obj)
    submission = Submission.from_path(folder, course_obj) if folder.exists() else None
    out = console()
    out.print(wrap(f"{course_obj.title}: {len(course_obj.topics)} topics, {sum(t.points for t in course_obj.topics):g} points; attempted in {folder}", out.width, hang=2), markup=False, highlight=False)
    for topic in course_obj.topics:
        source = submission.sources.get(topic.id) if submission else None
        asked = functions(topic.stub.read_text(encoding="utf-8")) if topic.stub.is_file() else []
        if source is None or source.text is None:
            todo, where = set(asked), "no file"
        else:
            try:
                todo, where = set(units(source.text)) | (set(asked) - set(functions(source.text))), Path(source.filename).name
            except SyntaxError as exc:
                todo, where = set(asked), f"{Path(source.filename).name} does not parse (line {exc.lineno})"
        done = [f for f in asked if f not in todo]
        out.print("\n" + wrap(f"{topic.id}  {topic.title}  {topic.points:g} points  {len(done)}/{len(asked)} attempted ({where})", out.width, hang=2), style="bold", markup=False, highlight=False)
        for name in asked:
            out.print(f"  {'done' if name in done else 'todo'}  {name}", style="green" if name in done else "yellow", markup=False, highlight=False)
        if checks:
            out.print(wrap("checks: " + ", ".join(f"{c} ({p:g})" for c, p in topic.checks.items()), out.width, indent=2, hang=4), markup=False, highlight=False)
    if submission and submission.notes:
        out.print("", *(wrap(note, out.width, hang=2) for note in submission.notes), sep="\n", style="yellow", markup=False, highlight=False)
    return 0
