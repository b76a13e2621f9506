"""Noticing library code an exercise asks students to write themselves (worker side).

A check declares what it forbids (``@check(..., forbid=("torch.nn.functional.conv2d",))``); the worker runs each
student call with a profile hook that looks at every function entered, however it was reached: an alias
(``torch.conv2d`` is ``F.conv2d``), a module that calls it (``nn.Conv2d``), a lookup by name in ``sys.modules``. A
name is a module (everything defined in it or below it, imported already or later) or a function (that function's
code, or that builtin; a ufunc, which raises no profile event, is watched where its module holds it, so a reference
taken before the check escapes it). A use is recorded even when the student's code catches what follows, and a hook the code
removed counts as a use. Like the autograd guard, this detects the library; it does not stop code written to evade
it (a copy of the library's source is the student's own code).
"""

from __future__ import annotations

import contextlib
import sys
import threading
from typing import Any, Iterator, Sequence

__all__ = ["LibraryNotAllowed", "forbidden"]


class LibraryNotAllowed(RuntimeError):
    """Student code used library code that the exercise asks them to write."""


def _code(obj: Any) -> Any:
    """The Python code object behind a function, a method, a decorated or dispatching wrapper; None for builtins."""
    for _ in range(8):
        code = getattr(obj, "__code__", None)
        if code is not None:
            return code
        inner = getattr(obj, "_implementation", None) or getattr(obj, "__wrapped__", None) or getattr(obj, "__func__", None)
        if inner is None:
            return None
        obj = inner
    return None


class _Rules:
    def __init__(self, names: Sequence[str]):
        self.modules: list[str] = []
        self.codes: dict[Any, str] = {}
        self.builtins: dict[int, str] = {}
        self.others: list[tuple[Any, str, str]] = []  # (owner, attribute, name): callables no profile event names
        self._keep: list[Any] = []  # the builtins whose ids are keys, alive while the rules are
        for name in names:
            found = _resolve(name)
            if found is None or type(found).__name__ == "module":
                self.modules.append(name)  # not imported yet, or a module: judged by the defining module's name
            elif _code(found) is not None:
                self.codes[_code(found)] = name
            elif type(found).__name__ in ("builtin_function_or_method", "method_descriptor"):
                self.builtins[id(found)] = name
                self._keep.append(found)
            else:  # a ufunc (scipy.special.rel_entr): calling it raises no profile event, so its attribute is watched
                owner = _resolve(name.rpartition(".")[0])
                if owner is not None:
                    self.others.append((owner, name.rpartition(".")[2], name))
        self._decided: dict[Any, str | None] = {}

    def python(self, code: Any, module: str) -> str | None:
        try:
            return self._decided[code]
        except KeyError:
            pass
        name = self.codes.get(code)
        if name is None and code.co_name != "<module>":  # importing a module is not using it
            if any(module == m or module.startswith(m + ".") for m in self.modules):
                name = f"{module}.{code.co_qualname}"  # the function reached, not just the module ruled out
        self._decided[code] = name
        return name


def _resolve(name: str) -> Any:
    """The object a dotted name denotes among the modules loaded, or None when its module is not loaded."""
    parts = name.split(".")
    for split in range(len(parts), 0, -1):
        module = sys.modules.get(".".join(parts[:split]))
        if module is None:
            continue
        obj: Any = module
        for attribute in parts[split:]:
            obj = getattr(obj, attribute, None)
            if obj is None:
                return None
        return obj
    return None


@contextlib.contextmanager
def forbidden(names: Sequence[str]) -> Iterator[None]:
    """Run the block watching for ``names``; raise LibraryNotAllowed afterwards if one was used."""
    if not names:
        yield
        return
    rules = _Rules(names)
    uses: list[str] = []
    python, builtins = rules.python, rules.builtins

    def hook(frame: Any, event: str, arg: Any) -> None:
        if event == "call":
            name = python(frame.f_code, frame.f_globals.get("__name__") or "")
        elif event == "c_call":
            name = builtins.get(id(arg))
        else:
            return
        if name is not None and not uses:
            uses.append(name)

    def watched(original: Any, name: str) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            if not uses:
                uses.append(name)
            return original(*args, **kwargs)

        return call

    patched = [(owner, attribute, getattr(owner, attribute)) for owner, attribute, _ in rules.others]
    for (owner, attribute, original), (_, _, name) in zip(patched, rules.others):
        setattr(owner, attribute, watched(original, name))
    previous = sys.getprofile()
    sys.setprofile(hook)
    threading.setprofile(hook)  # threads the student's code starts
    try:
        yield
    finally:
        removed = sys.getprofile() is not hook
        sys.setprofile(previous)
        threading.setprofile(None)  # type: ignore[arg-type]
        for owner, attribute, original in patched:
            setattr(owner, attribute, original)
        if removed and not uses:
            uses.append("sys.setprofile (the grader's watch for forbidden library code was removed)")
        if uses:
            raise LibraryNotAllowed(uses[0])
