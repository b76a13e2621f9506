"""Notebooks as submissions: the code cells of a ``.ipynb``, in order, are the topic's module.

Read with the json module, not nbformat: the grading path stays free of the Jupyter stack, and an unreadable notebook
gets one clear line. Cells that nbgrader marks as autograded tests (``grade`` without ``solution``) belong to the
instructor, not to the submission, and are left out. IPython magics and shell escapes (lines starting with % or !)
are commented out: the worker runs plain Python. Each cell starts with a ``# cell N (id X)`` line, and a line map
(autograder.sandbox.locations) goes with the text, so that a message names the cell and its line, not a line of the
module or of the JSON.
"""

from __future__ import annotations

import difflib
import json
import re
from pathlib import PurePath
from typing import Any, Iterable, Sequence

from ..sandbox.locations import CELL_ID, Cell
from .config import Topic

__all__ = ["NotebookError", "notebook_code", "notebook_module", "code_of_cells", "module_of_cells", "is_test_cell", "topic_of_notebook", "NOTEBOOK_METADATA"]


class NotebookError(ValueError):
    """The bytes are not a notebook this grader can read; the message says why."""


def is_test_cell(cell: dict[str, Any]) -> bool:
    """An nbgrader autograded test cell: the instructor's, never part of the submission."""
    meta = cell.get("metadata", {}).get("nbgrader", {}) if isinstance(cell.get("metadata"), dict) else {}
    return isinstance(meta, dict) and bool(meta.get("grade")) and not meta.get("solution")


def _source(cell: dict[str, Any], number: int) -> str:
    source = cell.get("source", "")
    if isinstance(source, list) and all(isinstance(s, str) for s in source):
        return "".join(source)
    if isinstance(source, str):
        return source
    raise NotebookError(f"cell {number}: 'source' must be a string or a list of strings, got {type(source).__name__}")


def _cell_id(cell: dict[str, Any]) -> str:
    """nbgrader's ``grade_id`` (what its tools show), else the nbformat ``id``; "" when neither is a plain id."""
    meta = cell.get("metadata", {}).get("nbgrader", {}) if isinstance(cell.get("metadata"), dict) else {}
    for ident in (meta.get("grade_id") if isinstance(meta, dict) else None, cell.get("id")):
        if isinstance(ident, str) and CELL_ID.fullmatch(ident):
            return ident
    return ""


def module_of_cells(cells: Iterable[dict[str, Any]]) -> tuple[str, tuple[Cell, ...]]:
    """The module text of a notebook's cells (nbformat v4 dicts or NotebookNodes) and its line map: for each code
    cell with code, (module line of its first line, its number of lines, its number among all the notebook's cells
    from 1, its id). A cell keeps its own lines, so a module line's text is the cell line's."""
    parts, spans, line = [], [], 1
    for number, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict):
            raise NotebookError(f"cell {number}: expected an object, got {type(cell).__name__}")
        if cell.get("cell_type") != "code" or is_test_cell(cell):
            continue
        ident = _cell_id(cell)
        lines = _source(cell, number).splitlines()
        lines = [f"# {text}  (IPython only)" if text.lstrip().startswith(("%", "!")) else text for text in lines]
        parts.append("\n".join([f"# cell {number}" + (f" (id {ident})" if ident else ""), *lines]))
        if lines:
            spans.append((line + 1, len(lines), number, ident))
        line += len(lines) + 2  # its header line, its lines, the blank line before the next one
    return "\n\n".join(parts) + "\n", tuple(spans)


def code_of_cells(cells: Iterable[dict[str, Any]]) -> str:
    """The module text of a notebook's cells (nbformat v4 dicts or NotebookNodes)."""
    return module_of_cells(cells)[0]


def notebook_code(data: bytes, *, name: str) -> str:
    """The module text of the notebook ``data`` (named ``name`` in messages); NotebookError if it is not one."""
    return notebook_module(data, name=name)[0]


def notebook_module(data: bytes, *, name: str) -> tuple[str, tuple[Cell, ...]]:
    """The module text of the notebook ``data`` (named ``name`` in messages) and its line map (module_of_cells);
    NotebookError if it is not one."""
    try:
        notebook = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise NotebookError(f"{name} is not UTF-8 text (byte {exc.start}), so not a notebook") from None
    except json.JSONDecodeError as exc:
        raise NotebookError(f"{name} is not a notebook: not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})") from None
    except RecursionError:  # a notebook is a few levels deep; thousands of nested brackets are not one
        raise NotebookError(f"{name} is not a notebook: its JSON is nested too deeply to read") from None
    if not isinstance(notebook, dict) or not isinstance(notebook.get("cells"), list):
        raise NotebookError(f"{name} is not a notebook: expected a JSON object with a 'cells' list (nbformat 4)")
    if notebook.get("nbformat") != 4:
        raise NotebookError(f"{name}: nbformat {notebook.get('nbformat')!r} is not supported; save it as nbformat 4 (Jupyter does)")
    return module_of_cells(notebook["cells"])


# ---- which topic a notebook answers -----------------------------------------------------------------------------

NOTEBOOK_METADATA = "autograder"  # notebook.metadata["autograder"]["topic"]: the topic, written by grade release nbgrader
# A top-level def or class, found line by line: a notebook that does not parse still says what it defines.
_DEFINED = re.compile(r"^(?:async[ \t]+def|def|class)[ \t]+([A-Za-z_]\w*)", re.M)


def topic_of_notebook(data: bytes, *, topics: Sequence[Topic], name: str) -> str:
    """The id of the topic among ``topics`` that the notebook ``data`` (file name ``name``) answers.

    The evidence, strongest first: the topic ``grade release nbgrader`` wrote in the notebook's metadata; the check
    ids its nbgrader test cells carry as ``grade_id``; its file name (``convolution (1).ipynb``,
    ``jdoe-convolution.ipynb``, ``Convolutions.ipynb``); the functions and classes it defines against each topic's
    stub's. Each narrows the candidates to those it favours most; the first that leaves one decides. NotebookError
    naming the file and the candidates when none does, or why it is not a notebook when nothing else tells.
    """
    if len(topics) == 1:
        return topics[0].id
    try:
        code = notebook_code(data, name=name)
    except NotebookError as exc:
        unreadable: NotebookError | None = exc
        notebook: dict[str, Any] = {}
        code = ""
    else:
        unreadable, notebook = None, json.loads(data.decode("utf-8"))
    evidence = {
        "its metadata": _by_metadata(notebook),
        "its nbgrader test cells": _by_test_cells(notebook, topics),
        "its file name": _by_name(name, topics),
        "the functions it defines": _by_functions(code, topics),
    }
    ids = [t.id for t in topics]
    candidates, used = ids, []
    for what, scores in evidence.items():
        best = max((scores.get(t, 0) for t in candidates), default=0)
        if best > 0:
            candidates, used = [t for t in candidates if scores.get(t, 0) == best], [*used, what]
            if len(candidates) == 1:
                return candidates[0]
    if unreadable is not None and not used:
        raise unreadable
    if used:
        raise NotebookError(
            f"cannot tell which topic {name} answers: it could be {' or '.join(candidates)} (by {' and '.join(used)});"
            f" name it after its topic ({candidates[0]}.ipynb, ...) or pass --topic"
        )
    raise NotebookError(
        f"no topic matches {name}: neither its metadata, its nbgrader test cells, its file name nor the functions it"
        f" defines name one of {', '.join(ids)}; name it after its topic (<topic>.ipynb) or pass --topic"
    )


def _by_metadata(notebook: dict[str, Any]) -> dict[str, int]:
    meta = notebook.get("metadata")
    ours = meta.get(NOTEBOOK_METADATA) if isinstance(meta, dict) else None
    topic = ours.get("topic") if isinstance(ours, dict) else None
    return {topic: 1} if isinstance(topic, str) else {}


def _by_test_cells(notebook: dict[str, Any], topics: Sequence[Topic]) -> dict[str, int]:
    """How many of the notebook's test cells are named after each topic's checks."""
    cells = notebook.get("cells") or []
    named = {cell["metadata"]["nbgrader"].get("grade_id") for cell in cells if isinstance(cell, dict) and is_test_cell(cell)}
    return {t.id: len(named & set(t.checks)) for t in topics}


def _by_name(name: str, topics: Sequence[Topic]) -> dict[str, int]:
    """2 for a topic whose id is a word of the file name, 1 for one close to a word (another case, a letter off)."""
    stem = PurePath(name).stem.lower()
    words = {stem, *re.split(r"[^a-z0-9]+", stem), *re.split(r"[^a-z0-9_]+", stem)} - {""}
    scores = {}
    for topic in topics:
        if re.search(rf"(?<![a-z0-9]){re.escape(topic.id)}(?![a-z0-9])", stem):
            scores[topic.id] = 2
        elif any(difflib.SequenceMatcher(None, word, topic.id).ratio() >= 0.8 for word in words):
            scores[topic.id] = 1
    return scores


def _by_functions(code: str, topics: Sequence[Topic]) -> dict[str, int]:
    """How many of each topic's stub's public functions and classes the notebook defines."""
    defined = set(_DEFINED.findall(code))
    scores = {}
    for topic in topics if defined else ():
        try:
            stub = topic.stub.read_text(encoding="utf-8")
        except OSError:  # a student bundle's exercises/ is the student's: a stub may be gone
            continue
        scores[topic.id] = len(defined & {n for n in _DEFINED.findall(stub) if not n.startswith("_")})
    return scores
