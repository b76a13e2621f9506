"""``grade release nbgrader``: an nbgrader course folder built from the course's own files, nothing written twice.

Each topic becomes ``source/<topic>/<topic>.ipynb``:

- a markdown cell with the topic's maths (the reference module's docstring, which the stub shares);
- the stub's imports, locked;
- one solution cell per public function or class: the reference's code, its body between ``### BEGIN SOLUTION`` and
  ``### END SOLUTION`` so that ``nbgrader generate_assignment`` leaves the stub's signature, docstring and
  ``raise NotImplementedError()``. The reference's private helpers sit in a solution region inside
  ``try: ... except NotImplementedError: pass``, so the released cell still runs;
- one autograded test cell per public check and one for all hidden checks, with points from course.yaml. The cells
  only name checks: the hidden ones, their inputs and their expected values stay in the grader.

The notebook's metadata names its topic (``metadata["autograder"]["topic"]``: ``grade batch`` reads it). Beside it go
what its test cells grade with in a student's Jupyter (autograder.release.notebook): a course.yaml of that topic alone,
its public checks and the reference's answers to them, recorded (autograder.release.bundle), and no solution, hidden
check or secret. ``nbgrader generate_assignment`` copies them into ``release/<topic>/``, so a fetched notebook checks
itself (``nbgrader validate``) wherever it is.

``nbgrader_config.py`` swaps nbgrader's Execute preprocessor for :class:`autograder.release.nbgrader_plugin.GradeInSandbox`:
at ``nbgrader autograde`` a notebook's code is graded by this grader, in its sandbox, and never runs in a Jupyter
kernel with the course folder and the gradebook in reach. It names the course relative to its own folder, so the two
can move (or be shared) together.
"""

from __future__ import annotations

import ast
import importlib
import os
import re
import sys
import textwrap
from pathlib import Path
from typing import Any, Sequence

from ..course.config import RECORDED, Course, Topic, load_course, locate_course
from ..course.notebooks import NOTEBOOK_METADATA
from ..engine.checks import checks_in
from ..errors import UsageError
from .bundle import record_public, write_public_course

__all__ = ["main", "build_notebook", "HIDDEN_CELL"]

HIDDEN_CELL = "hidden-checks"  # grade_id of the test cell for all hidden checks
# Test cells are named by their check id (an identifier); every other cell's grade_id has a hyphen, so none collide.
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"

# nbgrader 0.9's Autograde.autograde_preprocessors, with Execute replaced by the sandboxed grader.
AUTOGRADE_PREPROCESSORS = [
    "autograder.release.nbgrader_plugin.GradeInSandbox",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]


def _nbformat() -> Any:
    try:
        import nbformat
    except ImportError:
        raise UsageError("grade release nbgrader needs nbformat: pip install 'autograder[nbgrader]'") from None
    return nbformat


def _meta(grade_id: str, *, solution: bool = False, grade: bool = False, locked: bool = False, points: float | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"schema_version": 3, "grade_id": grade_id, "solution": solution, "grade": grade, "locked": locked}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def _markdown_text(doc: str) -> str:
    """A docstring as markdown: indented blocks (the formulas) stay code blocks; elsewhere * and _ are literal."""
    out = []
    for line in textwrap.dedent(doc).strip("\n").splitlines():
        out.append(line if line.startswith("    ") else re.sub(r"([*_])", r"\\\1", line))
    return "\n".join(out)


class _Source:
    """The reference module's text, sliced by its syntax tree (comments just above a statement go with it)."""

    def __init__(self, text: str):
        self.lines = text.splitlines()
        self.tree = ast.parse(text)

    def span(self, node: ast.stmt) -> tuple[int, int]:
        start = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))]) - 1
        while start > 0 and self.lines[start - 1].lstrip().startswith("#"):
            start -= 1
        return start, node.end_lineno or node.lineno

    def text(self, node: ast.stmt) -> list[str]:
        start, end = self.span(node)
        return self.lines[start:end]

    def definition(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
        """Header and docstring as they are, the body between the solution markers."""
        start, end = self.span(node)
        body = node.body[1:] if ast.get_docstring(node) is not None else node.body
        if not body:
            return self.lines[start:end]
        first = body[0].lineno - 1
        while first > 0 and self.lines[first - 1].lstrip().startswith("#") and first - 1 >= (node.body[0].end_lineno or 0):
            first -= 1
        indent = " " * body[0].col_offset
        return [*self.lines[start:first], indent + BEGIN, *self.lines[first:end], indent + END]

    def class_definition(self, node: ast.ClassDef) -> list[str]:
        start, _ = self.span(node)
        doc_end = node.body[0].end_lineno if ast.get_docstring(node) is not None else node.lineno
        out = list(self.lines[start:doc_end])
        private: list[ast.stmt] = []
        for item in node.body[1:] if ast.get_docstring(node) is not None else node.body:
            if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and _public(item.name):
                out += _helpers([s for p in private for s in self.text(p)], indent=" " * item.col_offset) if private else []
                private = []
                out += ["", *self.definition(item)]
            else:
                private.append(item)
        if private:
            out += _helpers([s for p in private for s in self.text(p)], indent=" " * private[0].col_offset)
        return out


def _public(name: str) -> bool:
    return not name.startswith("_") or name.startswith("__") and name.endswith("__")


def _helpers(lines: list[str], *, indent: str) -> list[str]:
    """Private code in a solution region that the released (stub) version still runs: try/except around it."""
    body = textwrap.indent(textwrap.dedent("\n".join(lines)), indent + "    ").splitlines()
    return [
        "",
        f"{indent}# Helpers of your own may go here; the block may also stay as it is.",
        f"{indent}try:",
        f"{indent}    {BEGIN}",
        *body,
        f"{indent}    {END}",
        f"{indent}except NotImplementedError:",
        f"{indent}    pass",
    ]


def build_notebook(*, topic: Topic, course: Course) -> Any:
    """The instructor's (source) notebook of ``topic``."""
    nbformat = _nbformat()
    v4 = nbformat.v4
    source = _Source(topic.solution.read_text(encoding="utf-8"))
    tree = source.tree
    names = _exported(tree, topic)
    public_ids = [c.id for c in checks_in(_public_checks(topic, course))]
    hidden = {c: p for c, p in topic.checks.items() if c not in public_ids}

    doc = ast.get_docstring(tree) or ""
    cells = [
        v4.new_markdown_cell(
            f"# {topic.title}\n\n{_markdown_text(doc)}\n\n"
            "**How this notebook is graded.** Fill in the cells marked `YOUR CODE HERE`. The test cells name the checks "
            f"of course.yaml ({len(public_ids)} public, {len(hidden)} hidden). Save the notebook, then run a public check's "
            "cell: it grades your saved code cells with that check, using the course grader (the `autograder` package "
            "in this notebook's Python) and the files released beside this notebook (course.yaml, checks/, answers/; "
            "keep them there). When you submit, the course grader runs your code cells in its sandbox and grades them; "
            "hidden checks draw their inputs then.",
            metadata=_meta("cell-intro", locked=True),
        )
    ]
    header: list[str] = []
    private: list[ast.stmt] = []
    code: list[Any] = []
    for node in tree.body:
        if isinstance(node, ast.Expr) and node is tree.body[0]:
            continue  # the module docstring: the markdown cell above
        if isinstance(node, (ast.Import, ast.ImportFrom)) or _assigns(node, "__all__"):
            header += source.text(node)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name in names:
            lines = source.class_definition(node) if isinstance(node, ast.ClassDef) else source.definition(node)
            summary = (ast.get_docstring(node) or "").split("\n\n")[0]
            code += [
                v4.new_markdown_cell(f"## `{node.name}`\n\n{_markdown_text(summary)}", metadata=_meta(f"about-{node.name}", locked=True)),
                v4.new_code_cell("\n".join(lines), metadata=_meta(f"solution-{node.name}", solution=True)),
            ]
        else:
            private.append(node)
    cells.append(v4.new_code_cell("\n".join(header), metadata=_meta("cell-imports", locked=True)))
    if private:
        helpers = _helpers([line for node in private for line in source.text(node)], indent="")
        cells.append(v4.new_code_cell("\n".join(helpers[1:]), metadata=_meta("cell-helpers", solution=True)))
    cells += code
    titles = {c.id: c.title for c in checks_in(_public_checks(topic, course))}
    for check_id in public_ids:
        points = topic.checks[check_id]
        cells.append(
            v4.new_code_cell(
                f"# {check_id} ({points:g} point{'s' if points != 1 else ''}): {titles[check_id]}\n"
                "from autograder.release.notebook import check\n"
                f"check({topic.id!r}, {check_id!r})",
                metadata=_meta(check_id, grade=True, locked=True, points=points),
            )
        )
    if hidden:
        total = sum(hidden.values())
        cells.append(
            v4.new_code_cell(
                f"# {len(hidden)} hidden checks ({total:g} points): their inputs are drawn when you submit, and they run in\n"
                "# the course grader, not in this notebook.\n"
                "from autograder.release.notebook import check_hidden\n"
                f"check_hidden({topic.id!r})",
                metadata=_meta(HIDDEN_CELL, grade=True, locked=True, points=total),
            )
        )
    notebook = v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook.metadata["language_info"] = {"name": "python"}
    notebook.metadata[NOTEBOOK_METADATA] = {"topic": topic.id}
    nbformat.validate(notebook)
    return notebook


def _assigns(node: ast.stmt, name: str) -> bool:
    return isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets)


def _exported(tree: ast.Module, topic: Topic) -> list[str]:
    for node in tree.body:
        if _assigns(node, "__all__"):
            return list(ast.literal_eval(node.value))  # type: ignore[attr-defined]
    raise UsageError(f"{topic.solution}: no __all__; the notebook's solution cells are the names it exports")


def _public_checks(topic: Topic, course: Course) -> Any:
    root = str(course.root)
    if root not in sys.path:
        sys.path.insert(0, root)
    return importlib.import_module(f"checks.public.{topic.id}")


CONFIG = '''\
# Written by `grade release nbgrader`. nbgrader autograde grades each notebook with the course grader, in its
# sandbox, instead of executing it in a Jupyter kernel: student code never runs next to this folder's
# source/ notebooks or gradebook.db, and cannot patch what grades it.
import os

c = get_config()  # noqa: F821 - provided by nbgrader when it reads this file
c.CourseDirectory.course_id = {course_id!r}
# Relative to this file's folder: this folder and the course move, or are shared, together.
c.GradeInSandbox.course = os.path.join(os.path.dirname(os.path.abspath(__file__)), {course_file!r})
c.Autograde.autograde_preprocessors = {preprocessors!r}
'''


_HEADER = (
    "# What the test cells of {topic}.ipynb grade with in your own Jupyter: the public checks of {topic} (checks/public/),\n"
    "# answered by the reference recorded in answers/. Keep these files beside the notebook. The hidden checks are\n"
    "# counted under `hidden`; they run when you submit.\n"
)


def main(*, course_dir: Path, topics: Sequence[str], course: Path | None, force: bool) -> int:
    nbformat = _nbformat()
    course_obj = load_course(locate_course(course, Path.cwd()))
    if course_obj.reference == RECORDED:
        raise UsageError(f"{course_obj.path}: a student bundle (reference: {RECORDED}) has no reference solutions to build notebooks from; run this in the course itself")
    chosen = [course_obj.topic(t) for t in topics] if topics else list(course_obj.topics)
    targets = {topic.id: course_dir / "source" / topic.id / f"{topic.id}.ipynb" for topic in chosen}
    for target in targets.values():
        if target.exists() and not force:
            raise UsageError(f"{target} exists; pass --force to overwrite it")
    recorded = record_public(course=course_obj, topics=chosen)
    course_dir.mkdir(parents=True, exist_ok=True)
    for topic in chosen:
        target = targets[topic.id]
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(build_notebook(topic=topic, course=course_obj), str(target))
        write_public_course(course=course_obj, topics=[topic], recorded=recorded, dest=target.parent, header=_HEADER.format(topic=topic.id))
        print(f"wrote {target} and beside it what its test cells grade with (course.yaml, checks/, answers/)")
    config = course_dir / "nbgrader_config.py"
    course_id = re.sub(r"[^A-Za-z0-9_-]+", "-", course_obj.title).strip("-").lower() or "course"
    course_file = os.path.relpath(course_obj.path, course_dir.resolve())
    config.write_text(CONFIG.format(course_id=course_id, course_file=course_file, preprocessors=AUTOGRADE_PREPROCESSORS), encoding="utf-8")
    print(f"wrote {config}")
    one = chosen[0].id if len(chosen) == 1 else "<topic>"
    secret = "" if course_obj.secret_file else f"{course_obj.secret_env}=<the course secret> "
    where = f" (read from {course_obj.secret_file})" if course_obj.secret_file else ""
    print(
        f"next: cd {course_dir}, with this grader's bin folder on PATH (nbgrader runs alembic from it), then\n"
        f"  nbgrader generate_assignment {one}   # release/{one}/: the notebook and what its test cells grade with\n"
        f"  # collect submissions into submitted/<student>/{one}/{one}.ipynb (nbgrader collect, or by hand)\n"
        f"  {secret}nbgrader autograde {one}   # the course secret{where} keys the hidden checks' inputs\n"
        f"  nbgrader generate_feedback {one} && nbgrader export   # feedback/<student>/ and grades.csv"
    )
    return 0

