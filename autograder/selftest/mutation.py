"""Single-point mutants of a reference solution: the plausible wrong answers ``grade selftest`` grades.

A mutant replaces the text of one node of the module's syntax tree and leaves everything else (layout, comments)
as it was, so its diff is the one line an instructor reads. The kinds are those of classic mutation testing plus
the slips deep-learning code invites:

==============  ==========================================================================
arithmetic      ``+`` <-> ``-``, ``*`` <-> ``/``, ``//`` -> ``/``, ``**`` -> ``*`` (also in ``x += y``)
comparison      ``<`` <-> ``<=``, ``>`` <-> ``>=``, ``==`` <-> ``!=``, ``in`` <-> ``not in``, ``is`` <-> ``is not``;
                ``np.greater`` <-> ``np.greater_equal``, ``torch.gt`` <-> ``torch.ge`` (and less): relu'(0)
constant        a number changed: 0 <-> 1, +1, -1, x2, sign; ``True`` <-> ``False``
axis            ``axis=``/``dim=`` (or a reduction's positional dim) shifted by one
index           a subscript or slice bound shifted by one
transpose       ``.T``/``.mT``/``.transpose(...)``/``.permute(...)`` dropped; matmul operands swapped
drop-term       ``a + b`` -> ``a`` or ``b``, ``a - b`` -> ``a``; ``x += y`` (``-=``, ``*=``) dropped
sign            a unary minus dropped
rounding        ``a // b`` -> ``round(a / b)``; ``floor`` <-> ``round``/``ceil``; ``int(x)`` <-> ``round(x)``
slice           a slice's end ``n - a`` -> ``-a`` (empty when a = 0: ``x[p:-p]`` for ``x[p:n - p]``)
counter         ``range(n)`` -> ``range(1, n)``, ``enumerate(xs)`` -> ``enumerate(xs, 1)``: a count from 1
in-place        ``a - b`` -> ``a.__isub__(b)`` (and ``+``, ``*``, ``/``) for an array or tensor parameter ``a``
==============  ==========================================================================

Error messages (``raise`` statements, f-strings), docstrings, annotations and imports are never mutated: changing
them cannot change a result a check compares.
"""

from __future__ import annotations

import ast
import bisect
import difflib
import hashlib
import io
import tokenize
from dataclasses import dataclass
from typing import Any

__all__ = ["KINDS", "Mutant", "mutants", "same_bytecode"]

KINDS = ("arithmetic", "comparison", "constant", "axis", "index", "transpose", "drop-term", "sign", "rounding", "slice", "counter", "in-place")

_ARITHMETIC: dict[type, tuple[str, str]] = {
    ast.Add: ("+", "-"),
    ast.Sub: ("-", "+"),
    ast.Mult: ("*", "/"),
    ast.Div: ("/", "*"),
    ast.FloorDiv: ("//", "/"),
    ast.Pow: ("**", "*"),
}
_COMPARISON: dict[type, tuple[str, str]] = {
    ast.Lt: ("<", "<="),
    ast.LtE: ("<=", "<"),
    ast.Gt: (">", ">="),
    ast.GtE: (">=", ">"),
    ast.Eq: ("==", "!="),
    ast.NotEq: ("!=", "=="),
    ast.In: ("in", "not in"),
    ast.NotIn: ("not in", "in"),
    ast.Is: ("is", "is not"),
    ast.IsNot: ("is not", "is"),
}
_AXIS_KEYWORDS = {"axis", "axes", "dim", "dims"}
# Methods and functions whose first dimension argument may be passed positionally (x.sum(0), torch.cat(xs, 1)).
_REDUCTIONS = {
    "sum", "mean", "prod", "max", "min", "amax", "amin", "argmax", "argmin", "std", "var", "norm", "cumsum",
    "cumprod", "softmax", "log_softmax", "logsumexp", "flip", "squeeze", "unsqueeze", "cat", "stack",
    "concatenate", "unfold", "flatten",
}
_MODULES = {"np", "numpy", "torch", "F", "math"}
_TRANSPOSE_ATTRS = {"T", "mT", "H", "mH"}
_TRANSPOSE_CALLS = {"transpose", "t", "permute", "swapaxes", "swapdims", "movedim", "moveaxis"}
_MATMUL_CALLS = {"matmul", "mm", "bmm", "dot"}
# Comparison functions and methods with and without equality: a kink's side (relu'(0)) lives in the choice.
_COMPARE_CALLS = {
    "greater": "greater_equal", "greater_equal": "greater", "less": "less_equal", "less_equal": "less",
    "gt": "ge", "ge": "gt", "lt": "le", "le": "lt",
}
_ROUNDING = {"floor": ("round", "ceil"), "ceil": ("floor", "round"), "round": ("floor", "ceil"), "rint": ("floor", "ceil"), "trunc": ("round",)}
_IN_PLACE = {ast.Add: "__iadd__", ast.Sub: "__isub__", ast.Mult: "__imul__", ast.Div: "__itruediv__"}
_ARRAY_ANNOTATIONS = ("ndarray", "Tensor", "ArrayLike")
_ATOMS = (ast.Name, ast.Constant, ast.Attribute, ast.Call, ast.Subscript, ast.List, ast.Dict, ast.Set)


@dataclass(frozen=True)
class Mutant:
    id: str  # <function>:<kind>:<hash of the change>: stable while that function's change stays the same
    kind: str
    function: str  # qualified name of the enclosing function or class, "<module>" at the top level
    line: int
    before: str  # the source text replaced
    after: str  # what replaced it
    source: str  # the whole mutated module

    @property
    def description(self) -> str:
        return f"{self.kind}: {_one_line(self.before)} -> {_one_line(self.after)}"

    def diff(self, reference: str, filename: str) -> str:
        """A unified diff against the reference, without context: the changed lines and where they are."""
        lines = difflib.unified_diff(reference.splitlines(), self.source.splitlines(), filename, f"{filename} (mutant {self.id})", n=0, lineterm="")
        return "\n".join(lines)


@dataclass(frozen=True)
class _Edit:
    start: int  # character offsets into the source
    end: int
    text: str
    kind: str
    function: str
    line: int


def mutants(source: str) -> list[Mutant]:
    """Every single-point mutant of ``source`` that compiles, one per distinct mutated text, in source order."""
    tree = ast.parse(source)
    offsets = _Offsets(source)
    finder = _Finder(source, offsets)
    finder.visit(tree)
    seen = {source}
    found: list[tuple[int, Mutant]] = []
    occurrences: dict[tuple[str, str, str, str], int] = {}
    # Where two kinds produce the same text (a literal index shifted by one is also a changed constant), the more
    # specific kind names it.
    for edit in sorted(finder.edits, key=lambda e: (KINDS.index(e.kind) if e.kind != "constant" else len(KINDS), e.start)):
        text = source[: edit.start] + edit.text + source[edit.end :]
        if text in seen:
            continue
        seen.add(text)
        try:
            compile(text, "<mutant>", "exec", dont_inherit=True)
        except SyntaxError:
            continue
        before = source[edit.start : edit.end]
        key = (edit.function, edit.kind, before, edit.text)
        occurrences[key] = occurrences.get(key, 0) + 1
        digest = hashlib.blake2b(repr((*key, occurrences[key])).encode(), digest_size=3).hexdigest()
        found.append((edit.start, Mutant(f"{edit.function}:{edit.kind}:{digest}", edit.kind, edit.function, edit.line, before, edit.text, text)))
    return [m for _, m in sorted(found, key=lambda pair: (pair[0], pair[1].id))]


def same_bytecode(a: str, b: str) -> bool:
    """Whether two module texts compile to the same code (trivial compiler equivalence: e.g. ``2 + 0`` vs ``2``)."""
    return _fingerprint(compile(a, "<a>", "exec", dont_inherit=True)) == _fingerprint(compile(b, "<b>", "exec", dont_inherit=True))


def _fingerprint(code: Any) -> Any:
    if not hasattr(code, "co_code"):
        return (type(code).__name__, repr(code))
    return (code.co_code, code.co_names, code.co_varnames, tuple(_fingerprint(c) for c in code.co_consts))


class _Offsets:
    """Maps the (line, UTF-8 byte column) positions of ast nodes to character offsets into the source."""

    def __init__(self, source: str):
        self.lines = source.splitlines(keepends=True)
        self.starts = [0]
        for line in self.lines:
            self.starts.append(self.starts[-1] + len(line))

    def at(self, line: int, col: int) -> int:
        text = self.lines[line - 1] if line - 1 < len(self.lines) else ""
        return self.starts[line - 1] + len(text.encode("utf-8")[:col].decode("utf-8", errors="replace"))

    def line(self, offset: int) -> int:
        return bisect.bisect_right(self.starts, offset)

    def span(self, node: ast.AST) -> tuple[int, int]:
        return self.at(node.lineno, node.col_offset), self.at(node.end_lineno, node.end_col_offset)  # type: ignore[attr-defined]


class _Finder(ast.NodeVisitor):
    """Collects the edits; skips what cannot change a result (see the module docstring)."""

    def __init__(self, source: str, offsets: _Offsets):
        self.source = source
        self.offsets = offsets
        self.edits: list[_Edit] = []
        self.scope: list[str] = []
        self.arrays: list[set[str]] = [set()]  # per enclosing function: parameters annotated as arrays or tensors

    # ---- where to look --------------------------------------------------------------------------------------------

    def _scoped(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> None:
        self.scope.append(node.name)
        arrays: set[str] = set()
        if not isinstance(node, ast.ClassDef):
            for default in [*node.args.defaults, *(d for d in node.args.kw_defaults if d is not None)]:
                self.visit(default)
            params = [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]
            arrays = {a.arg for a in params if a.annotation is not None and any(t in ast.unparse(a.annotation) for t in _ARRAY_ANNOTATIONS)}
        self.arrays.append(arrays)
        for statement in _without_docstring(node.body):
            self.visit(statement)
        self.arrays.pop()
        self.scope.pop()

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = _scoped

    def visit_Module(self, node: ast.Module) -> None:
        for statement in _without_docstring(node.body):
            self.visit(statement)

    def _skip(self, node: ast.AST) -> None:
        return None

    visit_Import = visit_ImportFrom = visit_Raise = visit_Assert = visit_JoinedStr = _skip

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self.visit(node.value)

    def visit_If(self, node: ast.If) -> None:
        if any(isinstance(n, ast.Name) and n.id == "__name__" for n in ast.walk(node.test)):
            return  # the `if __name__ == "__main__":` block never runs when a check imports the module
        self.generic_visit(node)

    # ---- edits ----------------------------------------------------------------------------------------------------

    def _add(self, start: int, end: int, text: str, kind: str) -> None:
        function = ".".join(self.scope) or "<module>"
        self.edits.append(_Edit(start, end, text, kind, function, self.offsets.line(start)))

    def _replace(self, node: ast.AST, text: str, kind: str) -> None:
        start, end = self.offsets.span(node)
        self._add(start, end, text, kind)

    def _text(self, node: ast.AST) -> str:
        start, end = self.offsets.span(node)
        return self.source[start:end]

    def _operand(self, node: ast.AST) -> str:
        """The node's text, parenthesised unless it is an atom (so it can stand where a larger expression stood)."""
        text = self._text(node)
        return text if isinstance(node, _ATOMS) or _literal(node) is not None else f"({text})"

    def _operator(self, left: ast.AST, right: ast.AST, old: str, new: str, kind: str) -> None:
        """Replace the operator token ``old`` found between two operands."""
        gap_start, gap_end = self.offsets.span(left)[1], self.offsets.span(right)[0]
        found = _find_tokens(self.source[gap_start:gap_end], old.split())
        if found is not None:
            self._add(gap_start + found[0], gap_start + found[1], new, kind)

    def visit_BinOp(self, node: ast.BinOp) -> None:
        if type(node.op) in _ARITHMETIC:
            old, new = _ARITHMETIC[type(node.op)]
            self._operator(node.left, node.right, old, new, "arithmetic")
        if isinstance(node.op, ast.FloorDiv):
            self._replace(node, f"round({self._operand(node.left)} / {self._operand(node.right)})", "rounding")
        if type(node.op) in _IN_PLACE and isinstance(node.left, ast.Name) and node.left.id in self.arrays[-1]:
            self._replace(node, f"{node.left.id}.{_IN_PLACE[type(node.op)]}({self._text(node.right)})", "in-place")
        if isinstance(node.op, (ast.Add, ast.Sub)):
            self._replace(node, self._operand(node.left), "drop-term")
        if isinstance(node.op, ast.Add):
            self._replace(node, self._operand(node.right), "drop-term")
        if isinstance(node.op, ast.MatMult):
            self._replace(node, f"{self._operand(node.right)} @ {self._operand(node.left)}", "transpose")
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        if type(node.op) in _ARITHMETIC:
            old, new = _ARITHMETIC[type(node.op)]
            self._operator(node.target, node.value, old + "=", new + "=", "arithmetic")
        if isinstance(node.op, (ast.Add, ast.Sub, ast.Mult)):
            self._replace(node, "pass", "drop-term")
        self.generic_visit(node)

    def visit_Compare(self, node: ast.Compare) -> None:
        operands = [node.left, *node.comparators]
        for left, op, right in zip(operands, node.ops, operands[1:]):
            old, new = _COMPARISON[type(op)]
            self._operator(left, right, old, new, "comparison")
        self.generic_visit(node)

    def visit_UnaryOp(self, node: ast.UnaryOp) -> None:
        value = _literal(node)
        if value is not None:
            self._constant(node, value)
            return
        if isinstance(node.op, ast.USub):
            self._replace(node, self._operand(node.operand), "sign")
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        value = _literal(node)
        if value is not None:
            self._constant(node, value)

    def _constant(self, node: ast.AST, value: int | float | bool) -> None:
        if isinstance(value, bool):
            self._replace(node, repr(not value), "constant")
            return
        candidates = [1 if value == 0 else None, 0 if value == 1 else None, value + 1, value - 1, value * 2, -value]
        for new in dict.fromkeys(c for c in candidates if c is not None and c != value):
            self._replace(node, _format(new, value), "constant")

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        on_module = isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in _MODULES
        for keyword in node.keywords:
            if keyword.arg in _AXIS_KEYWORDS:
                self._shift_axis(keyword.value)
        if name in _REDUCTIONS:
            position = 1 if on_module else 0
            if len(node.args) > position:
                self._shift_axis(node.args[position])
        if name in _TRANSPOSE_CALLS and isinstance(func, ast.Attribute):
            receiver = node.args[0] if on_module and node.args else None if on_module else func.value
            if receiver is not None:
                self._replace(node, self._operand(receiver), "transpose")
        if name in _COMPARE_CALLS and (on_module or isinstance(func, ast.Attribute)):
            start, end = self.offsets.span(func)
            self._add(end - len(name), end, _COMPARE_CALLS[name], "comparison")
        if name in _ROUNDING and on_module and len(node.args) == 1:
            module = func.value.id  # type: ignore[union-attr]
            for new in _ROUNDING[name]:
                self._replace(func, "round" if module == "math" and new == "round" else f"{module}.{new}", "rounding")
        if name in ("int", "round") and isinstance(func, ast.Name) and len(node.args) == 1:
            self._replace(func, "round" if name == "int" else "int", "rounding")
        if name == "range" and isinstance(func, ast.Name) and (len(node.args) == 1 or len(node.args) == 2 and _literal(node.args[0]) == 0):
            self._replace(node, f"range(1, {self._text(node.args[-1])})", "counter")
        if name == "enumerate" and isinstance(func, ast.Name) and len(node.args) == 1 and not node.keywords:
            self._replace(node, f"enumerate({self._text(node.args[0])}, 1)", "counter")
        if name in _MATMUL_CALLS and len(node.args) == 2 and not node.keywords:
            a, b = node.args
            start, end = self.offsets.span(a)[0], self.offsets.span(b)[1]
            self._add(start, end, f"{self._text(b)}, {self._text(a)}", "transpose")
        self.generic_visit(node)

    def _shift_axis(self, value: ast.AST) -> None:
        elements = value.elts if isinstance(value, ast.Tuple) else [value]
        for element in elements:
            axis = _literal(element)
            if isinstance(axis, int) and not isinstance(axis, bool):
                for new in (axis + 1, axis - 1):
                    self._replace(element, str(new), "axis")

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if node.attr in _TRANSPOSE_ATTRS and isinstance(node.ctx, ast.Load):
            self._replace(node, self._operand(node.value), "transpose")
        self.generic_visit(node)

    def visit_Subscript(self, node: ast.Subscript) -> None:
        index = node.slice
        elements = index.elts if isinstance(index, ast.Tuple) else [index]
        for element in elements:
            if isinstance(element, ast.Slice):
                for bound in (element.lower, element.upper):
                    if bound is not None:
                        self._shift_index(bound)
                upper = element.upper
                if isinstance(upper, ast.BinOp) and isinstance(upper.op, ast.Sub):
                    self._replace(upper, f"-{self._operand(upper.right)}", "slice")
            else:
                self._shift_index(element)
        self.generic_visit(node)

    def _shift_index(self, node: ast.AST) -> None:
        if isinstance(node, ast.Constant) and not isinstance(node.value, int):
            return  # None (a new axis), ..., a string key
        value = _literal(node)
        if isinstance(value, bool) or isinstance(value, float):
            return
        for delta in (1, -1):
            text = str(value + delta) if value is not None else f"{self._operand(node)} {'+' if delta > 0 else '-'} 1"
            self._replace(node, text, "index")


def _without_docstring(body: list[ast.stmt]) -> list[ast.stmt]:
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
        return body[1:]
    return body


def _literal(node: ast.AST) -> int | float | bool | None:
    """The number a node spells (``3``, ``-1``, ``2.5``, ``True``), or None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant):
        value = node.operand.value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return -value
    return None


def _format(new: int | float, old: int | float) -> str:
    if isinstance(old, float):
        return repr(float(new))
    return str(int(new))


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _find_tokens(gap: str, words: list[str]) -> tuple[int, int] | None:
    """Character offsets of the token sequence ``words`` in the text between two operands (parentheses, spaces,
    comments and line continuations included)."""
    starts = [0]
    for line in gap.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    tokens: list[tuple[str, int, int]] = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(gap).readline):
            if tok.type in (tokenize.OP, tokenize.NAME):
                tokens.append((tok.string, starts[tok.start[0] - 1] + tok.start[1], starts[tok.end[0] - 1] + tok.end[1]))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass  # a gap such as ") + (" ends inside brackets; the tokens before that point are all we need
    for i in range(len(tokens) - len(words) + 1):
        if [t[0] for t in tokens[i : i + len(words)]] == words:
            return tokens[i][1], tokens[i + len(words) - 1][2]
    return None


