"""Where a line of a submission is, in the words its author knows.

A notebook is graded as one module: its code cells in order, each after a comment line of its own
(autograder.course.notebooks). A line of that module is reported as the notebook shows it, ``cell 3 (id cell-3f2a),
line 2``: cells numbered from 1 down the notebook, markdown cells counted (the student counts what they scroll past;
Jupyter numbers no cell), with the cell's id (nbgrader's ``grade_id``, else the nbformat ``id``), which stays when
cells are added above it. The worker formats its tracebacks with this map; the grader, where a stopped worker was.
"""

from __future__ import annotations

import ast
import os
import re
from typing import Any, Mapping, Sequence

__all__ = ["Cell", "CELL_ID", "MAX_CELLS", "cell_map", "cell_of", "in_cells", "line_in", "stacks_in", "stopped_at"]

Cell = tuple[int, int, int, str]  # (module line of the cell's first line, its number of lines, its number, its id or "")
MAX_CELLS = 10_000
CELL_ID = re.compile(r"[A-Za-z0-9_.-]{1,64}")  # what a cell id shown in a message may be (nbformat's own are this and shorter)
_MAX_LINE_TEXT = 120  # characters of a line quoted in a message
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f]")


def cell_map(value: Any) -> tuple[Cell, ...]:
    """``value`` (a line map as it came in a request) checked: ValueError says what is wrong with it."""
    if not isinstance(value, (list, tuple)) or len(value) > MAX_CELLS:
        raise ValueError(f"cells: expected a list of at most {MAX_CELLS} [first line, lines, cell number, id], got {type(value).__name__} of {len(value) if isinstance(value, (list, tuple)) else 1}")
    cells: list[Cell] = []
    for index, item in enumerate(value):
        if not (isinstance(item, (list, tuple)) and len(item) == 4 and all(type(v) is int and v > 0 for v in item[:3]) and isinstance(item[3], str) and (item[3] == "" or CELL_ID.fullmatch(item[3]))):
            raise ValueError(f"cells[{index}]: expected [first line, lines, cell number, id] (positive numbers, an id of letters, digits, _ . -), got {str(item)[:100]}")
        if cells and item[0] < cells[-1][0] + cells[-1][1]:
            raise ValueError(f"cells[{index}]: starts at module line {item[0]}, inside the cell before it")
        cells.append((item[0], item[1], item[2], item[3]))
    return tuple(cells)


def cell_of(cells: Sequence[Cell], line: int) -> tuple[int, str, int] | None:
    """(cell number, its id, line in the cell) of a notebook's module line; None before the first cell or for a
    module. A line between cells (where the parser found the end of one) is the last line of the cell before it."""
    found = None
    for first, count, number, ident in cells:
        if first > line:
            break
        found = (number, ident, min(line - first + 1, count))
    return found


def line_in(cells: Sequence[Cell], line: int) -> str:
    """``line N`` of a module; ``cell K (id X), line M`` of a notebook's."""
    found = cell_of(cells, line)
    if found is None:
        return f"line {line}"
    number, ident, within = found
    return f"cell {number}{f' (id {ident})' if ident else ''}, line {within}"


def in_cells(text: str, cells: Mapping[str, Sequence[Cell]]) -> str:
    """A formatted traceback with each ``File "nb.ipynb", line 40`` of a notebook as its cell and line of it."""
    for filename, spans in cells.items():
        head = f'  File "{filename}", '
        text = re.sub(rf"(?m)^{re.escape(head)}line (\d+)", lambda m: head + line_in(spans, int(m.group(1))), text)
    return text


Frame = tuple[str, int, str]  # (file, line, function) of a stack dump, as the dump said it
# At the end of a line: the dump may follow part of a reply frame the worker was writing when it was signalled.
_THREAD = re.compile(r"(?:(Current thread|Thread) 0x[0-9a-f]+|Stack) \(most recent call first\):$")
_DUMPED_FRAME = re.compile(r'  File "(.{1,500})", line (\d{1,9}) in (<?[A-Za-z_]\w{0,99}>?)')


def stacks_in(data: bytes) -> tuple[tuple[Frame, ...], ...]:
    """The stacks of a faulthandler dump, each most recent call first, the thread that took the signal first.
    ``data`` is what came: forged or cut short, it reads as what it holds; lines of anything else are skipped."""
    threads: list[tuple[bool, list[Frame]]] = []
    for line in data.decode("ascii", "replace").splitlines():
        if match := _THREAD.search(line):
            threads.append((match[1] == "Current thread", []))
        elif (match := _DUMPED_FRAME.fullmatch(line)) and threads:
            threads[-1][1].append((match[1], int(match[2]), match[3]))
    threads.sort(key=lambda thread: not thread[0])
    return tuple(tuple(frames) for _, frames in threads if frames)


def stopped_at(stacks: Sequence[Sequence[Frame]], *, files: Mapping[str, str], cells: Mapping[str, Sequence[Cell]]) -> str:
    """``stopped while running toy.py, line 3, in scale: `while True:` ``: in the stacks a stopped worker dumped (each
    most recent call first), the first thread with a frame in the submission's own ``files`` (filename -> text); of
    its frames there, innermost first, the first that is inside a loop, shown as that loop's first line (the
    outermost loop of its function: where in a loop's body the signal came is chance), else the innermost one's own
    line; "" when no thread has one. The dump is the submission's to forge: only line numbers and function names are
    taken from it, and the line quoted is the grader's own copy of it."""
    for frames in stacks:
        own = [(match, line, name) for filename, line, name in frames if (match := _own(files, filename, line))]
        if not own:
            continue
        loops = [(match, loop, name) for match, line, name in own if (loop := _loop_at(files[match], line))]
        match, line, name = (loops or own)[0]
        code = _CONTROL.sub("\ufffd", files[match].splitlines()[line - 1].strip())  # a terminal escape in a source line is not for the report
        code = code if len(code) <= _MAX_LINE_TEXT else code[: _MAX_LINE_TEXT - 3] + "..."
        return f"stopped while running {os.path.basename(match)}, {line_in(cells.get(match, ()), line)}, in {name}: `{code}`"
    return ""


def _own(files: Mapping[str, str], dumped: str, line: int) -> str | None:
    """The submission's file a dumped frame names, if the line is one of it."""
    match = next((f for f in files if _as_dumped(f) == dumped), None)
    return match if match is not None and 1 <= line <= len(files[match].splitlines()) else None


def _loop_at(text: str, line: int) -> int | None:
    """The first line of the outermost loop around ``line`` within its innermost function (or the module), or None."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):  # a notebook's module may not parse as a whole
        return None
    functions = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)) and _holds(n, line)]
    scope: ast.AST = max(functions, key=lambda n: (n.lineno, n.col_offset), default=tree)  # a nested one starts later
    outer = [n for n in _own_nodes(scope) if isinstance(n, (ast.For, ast.AsyncFor, ast.While)) and _holds(n, line)]
    return min((n.lineno for n in outer), default=None)


def _holds(node: ast.AST, line: int) -> bool:
    return isinstance(node, ast.Module) or node.lineno <= line <= (node.end_lineno or node.lineno)


def _own_nodes(scope: ast.AST) -> list[ast.AST]:
    """The nodes of ``scope`` that are not inside a function nested in it."""
    found, stack = [], list(ast.iter_child_nodes(scope))
    while stack:
        node = stack.pop()
        found.append(node)
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            stack.extend(ast.iter_child_nodes(node))
    return found


def _as_dumped(filename: str) -> str:
    """``filename`` as faulthandler writes it: ASCII, anything else as a backslash escape."""
    return filename.encode("ascii", "backslashreplace").decode("ascii")
