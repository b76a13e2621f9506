"""An nbgrader preprocessor that grades a notebook with this grader instead of executing it.

``grade release nbgrader`` writes an nbgrader_config.py that puts :class:`GradeInSandbox` where nbgrader's Execute
preprocessor was. The notebook's code cells become the topic's module (autograder.course.notebooks), the course grader grades
it in its sandbox, and each autograded test cell gets the verdict of the check it names as its output: a stdout line
when the check passed, an error (which nbgrader scores 0) when it did not, and for the hidden-checks cell the points
earned as its value (nbgrader's partial credit) with no name, input or expected value of a hidden check. A test cell
that gets no verdict fails: nbgrader would give full points to a cell without output.
"""

from __future__ import annotations

import atexit
from pathlib import Path
from typing import Any, ClassVar

from nbformat.v4 import new_output
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode

from ..course.config import load_course
from ..course.notebooks import is_test_cell, module_of_cells
from ..course.submission import Submission
from ..engine.grading import Grader, resolve_devices
from ..engine.results import PASSED, TopicResult
from .nbgrader_release import HIDDEN_CELL

__all__ = ["GradeInSandbox"]


class GradeInSandbox(NbGraderPreprocessor):
    course = Unicode("", help="course.yaml of the course whose grader grades the notebooks").tag(config=True)
    device = Unicode("auto", help="auto, cpu, cuda or all, as for grade run --device").tag(config=True)

    _graders: ClassVar[dict[str, Grader]] = {}  # one grader (and fork server) per course for the whole nbgrader run

    def _grader(self) -> Grader:
        if not self.course:
            raise ValueError("c.GradeInSandbox.course is not set in nbgrader_config.py")
        # The nbgrader folder (source/ notebooks with every solution, gradebook.db) is not in a strict worker's root,
        # which holds only the interpreter's folders, like the course folder.
        key = str(Path(self.course).resolve())
        if key not in self._graders:
            grader = Grader(course=load_course(Path(key)), sandbox="auto", devices=resolve_devices(self.device))
            atexit.register(grader.close)
            self._graders[key] = grader
        return self._graders[key]

    def preprocess(self, nb: Any, resources: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        topic = str(resources.get("nbgrader", {}).get("assignment", ""))
        try:
            grader = self._grader()
            grader.course.topic(topic)
            code, cells = module_of_cells(nb.cells)
            label = f"{resources['nbgrader'].get('student', 'student')}/{topic}"
            report = grader.grade(Submission.from_texts(label, {topic: code}, cells={topic: cells}), topics=[topic])
            for note in report.notes:
                self.log.warning("%s", note)
            verdicts = _verdicts(report.topics[0])
        except Exception as exc:  # noqa: BLE001 - any failure grades every test cell 0, with the reason shown
            self.log.error("grading %s failed: %s", topic, exc)
            verdicts = {}
            failure = f"the course grader could not grade this notebook ({type(exc).__name__}: {exc})"
        else:
            failure = f"no check of topic {topic!r} has this test cell's id"
        for cell in nb.cells:
            if cell.cell_type == "code" and is_test_cell(cell):
                grade_id = cell.metadata["nbgrader"].get("grade_id", "")
                cell.outputs = verdicts.get(grade_id) or [_error(failure)]
                cell.execution_count = None
        return nb, resources


def _error(message: str) -> Any:
    return new_output("error", ename="CheckFailed", evalue=message.splitlines()[0] if message else "", traceback=message.splitlines())


def _verdicts(result: TopicResult) -> dict[str, list[Any]]:
    """grade_id -> the cell's outputs: a public check's own verdict, and the hidden checks' total as partial credit."""
    verdicts: dict[str, list[Any]] = {}
    if result.error:
        return {c.id: [_error(f"{result.error}")] for c in result.checks if not c.hidden} | {HIDDEN_CELL: [_error(result.error)]}
    hidden = [c for c in result.checks if c.hidden]
    for c in result.checks:
        if not c.hidden:
            verdicts[c.id] = [new_output("stream", name="stdout", text=f"passed: {c.title}\n")] if c.status == PASSED else [_error(f"{c.status}: {c.message}")]
    if hidden:
        earned = sum(c.points for c in hidden)
        passed = sum(c.status == PASSED for c in hidden)
        verdicts[HIDDEN_CELL] = [
            new_output("stream", name="stdout", text=f"hidden checks: {passed} of {len(hidden)} passed\n"),
            new_output("execute_result", data={"text/plain": repr(float(earned))}, execution_count=None),
        ]
    return verdicts
