"""The exercise units of a topic and what reaches what: the material of the self-test's partial-credit step.

A *unit* is what a student writes: a function, or a method of a class, that the stub leaves raising
NotImplementedError (``"sgd"``, ``"Value.__add__"``). Removing one unit from the reference (its body replaced by
``raise NotImplementedError``) is what a student who skipped it submits; the checks that lose points then should be
that unit's own. A check may need more than one unit only through the reference's own calls (``steps_to_tolerance``
runs ``sgd``: a student's does too) or when it declares the units it combines on purpose.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

__all__ = ["Removal", "units", "remove", "reach"]

# Operators and the special methods Python tries for them (both sides: the reach is generous on purpose).
_DUNDERS: dict[type, tuple[str, ...]] = {
    ast.Add: ("__add__", "__radd__"),
    ast.Sub: ("__sub__", "__rsub__"),
    ast.Mult: ("__mul__", "__rmul__"),
    ast.Div: ("__truediv__", "__rtruediv__"),
    ast.FloorDiv: ("__floordiv__", "__rfloordiv__"),
    ast.Pow: ("__pow__", "__rpow__"),
    ast.MatMult: ("__matmul__", "__rmatmul__"),
    ast.USub: ("__neg__",),
}


@dataclass(frozen=True)
class Removal:
    unit: str
    source: str  # the reference with that unit's body replaced by `raise NotImplementedError`


def _definitions(tree: ast.Module) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef]:
    """Qualified name -> definition of every top-level function and every method of a top-level class."""
    found: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found[node.name] = node
        elif isinstance(node, ast.ClassDef):
            for member in node.body:
                if isinstance(member, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    found[f"{node.name}.{member.name}"] = member
    return found


def _raises_not_implemented(fn: ast.AST) -> bool:
    return any(isinstance(n, ast.Raise) and n.exc is not None and "NotImplementedError" in ast.unparse(n.exc) for n in ast.walk(fn))


def units(stub: str) -> list[str]:
    """The units of a stub, in source order."""
    return [name for name, fn in _definitions(ast.parse(stub)).items() if _raises_not_implemented(fn)]


def remove(reference: str, unit: str) -> Removal:
    """The reference without ``unit``: its docstring kept, its body one ``raise NotImplementedError``."""
    fn = _definitions(ast.parse(reference)).get(unit)
    if fn is None:
        raise KeyError(f"the reference defines no {unit!r}")
    body = fn.body
    if len(body) > 1 and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
        body = body[1:]
    lines = reference.splitlines(keepends=True)
    first, last = body[0].lineno, body[-1].end_lineno or body[-1].lineno
    replaced = " " * body[0].col_offset + "raise NotImplementedError\n"
    return Removal(unit, "".join([*lines[: first - 1], replaced, *lines[last:]]))


def reach(source: str) -> dict[str, set[str]]:
    """Qualified name -> every function and method it may run, itself included (through names, attributes,
    constructors and operators; generous where Python's dispatch is dynamic)."""
    tree = ast.parse(source)
    defined = _definitions(tree)
    classes = {n.name for n in tree.body if isinstance(n, ast.ClassDef)}
    modules = {(a.asname or a.name).split(".")[0] for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom)) for a in n.names}
    by_method: dict[str, set[str]] = {}
    for name in defined:
        by_method.setdefault(name.rpartition(".")[2], set()).add(name)
    direct: dict[str, set[str]] = {}
    for name, fn in defined.items():
        found: set[str] = set()
        for node in ast.walk(fn):
            if isinstance(node, ast.Name):
                if node.id in defined:
                    found.add(node.id)
                if node.id in classes:
                    found |= {m for m in (f"{node.id}.__init__", f"{node.id}.__new__") if m in defined}  # constructed
            elif isinstance(node, ast.Attribute) and not (isinstance(node.value, ast.Name) and node.value.id in modules):
                found |= by_method.get(node.attr, set())  # np.log is numpy's, v.log may be ours
            elif isinstance(node, (ast.BinOp, ast.AugAssign, ast.UnaryOp)):
                for dunder in _DUNDERS.get(type(node.op), ()):
                    found |= by_method.get(dunder, set())
        direct[name] = found
    reached: dict[str, set[str]] = {}
    for name in defined:
        seen, stack = {name}, list(direct[name])
        while stack:
            other = stack.pop()
            if other not in seen:
                seen.add(other)
                stack.extend(direct[other])
        reached[name] = seen
    return reached
