"""Notebooks as submissions: the code cells of a ``.ipynb``, in order, are the topic's module.

Read with the json module, not nbformat: the grading path stays free of the Jupyter stack, and an unreadable notebook
gets one clear line. Cells that nbgrader marks as autograded tests (``grade`` without ``solution``) belong to the
instructor, not to the submission, and are left out. IPython magics and shell escapes (lines starting with % or !)
are commented out: the worker runs plain Python. Each cell starts with a ``# In[k]`` line so a line number in a
message leads back to its cell.
"""

from __future__ import annotations

import json
from typing import Any, Iterable

__all__ = ["NotebookError", "notebook_code", "code_of_cells", "is_test_cell"]


class NotebookError(ValueError):
    """The bytes are not a notebook this grader can read; the message says why."""


def is_test_cell(cell: dict[str, Any]) -> bool:
    """An nbgrader autograded test cell: the instructor's, never part of the submission."""
    meta = cell.get("metadata", {}).get("nbgrader", {}) if isinstance(cell.get("metadata"), dict) else {}
    return isinstance(meta, dict) and bool(meta.get("grade")) and not meta.get("solution")


def _source(cell: dict[str, Any], index: int) -> str:
    source = cell.get("source", "")
    if isinstance(source, list) and all(isinstance(s, str) for s in source):
        return "".join(source)
    if isinstance(source, str):
        return source
    raise NotebookError(f"cell {index}: 'source' must be a string or a list of strings, got {type(source).__name__}")


def code_of_cells(cells: Iterable[dict[str, Any]]) -> str:
    """The module text of a notebook's cells (nbformat v4 dicts or NotebookNodes)."""
    parts = []
    for index, cell in enumerate(cells):
        if not isinstance(cell, dict):
            raise NotebookError(f"cell {index}: expected an object, got {type(cell).__name__}")
        if cell.get("cell_type") != "code" or is_test_cell(cell):
            continue
        lines = _source(cell, index).splitlines()
        lines = [f"# {line}  (IPython only)" if line.lstrip().startswith(("%", "!")) else line for line in lines]
        parts.append("\n".join([f"# In[{index}]", *lines]))
    return "\n\n".join(parts) + "\n"


def notebook_code(data: bytes, *, name: str) -> str:
    """The module text of the notebook ``data`` (named ``name`` in messages); NotebookError if it is not one."""
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
    return code_of_cells(notebook["cells"])
