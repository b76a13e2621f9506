"""The worker: the only place student code runs.

It loads one submission module, then executes *programs* the grader sends: short lists of steps (call a student
function, construct a student class, call a method, read an attribute, build a trusted component, take an autograd
gradient, apply a Python operator) over inputs that arrive as plain arrays. It answers with plain arrays only. Nothing here is trusted by the
grader: whatever comes back is validated and compared in the grading process.
"""

from __future__ import annotations

import contextlib
import faulthandler
import importlib.abc
import importlib.util
import io
import linecache
import operator
import os
import re
import signal
import sys
import traceback
import types
from typing import Any, BinaryIO, Sequence

import numpy as np

from . import autograd_guard, components, library_guard
from .exchange import read_frame, write_frame
from .locations import Cell, cell_map, cell_of, in_cells, line_in

__all__ = ["serve", "to_wire"]

_MAX_TRACEBACK = 4000
_MAX_DEPTH = 8
# Python's own operators, so `2 * v` goes through float.__mul__ and then the student's __rmul__, as in their code.
_OPERATORS = {name: getattr(operator, name) for name in ("add", "sub", "mul", "truediv", "pow", "neg")}
_STUDENT_OPS = ("call", "method", "operator", "attr")


class InputModified(RuntimeError):
    """Student code changed, in place, an array or tensor the grader passed to it."""


def _snapshot(args: list[Any], kwargs: dict[str, Any], sent: dict[int, Any]) -> list[tuple[str, Any, bytes, tuple[int, ...]]]:
    """(where, value, bytes, shape) of every grader-sent array or tensor among the arguments, nested ones included."""
    found: list[tuple[str, Any, bytes, tuple[int, ...]]] = []

    def visit(where: str, value: Any, depth: int) -> None:
        if depth > _MAX_DEPTH:
            return
        if isinstance(value, (list, tuple)):
            for i, v in enumerate(value):
                visit(f"{where}[{i}]", v, depth + 1)
        elif isinstance(value, dict):
            for k, v in value.items():
                visit(f"{where}[{k!r}]", v, depth + 1)
        elif id(value) in sent:
            data, shape = _contents(value)
            found.append((where, value, data, shape))

    for i, a in enumerate(args):
        visit(f"#{i}", a, 0)
    for k, v in kwargs.items():
        visit(k, v, 0)
    return found


def _contents(value: Any) -> tuple[bytes, tuple[int, ...]]:
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    return np.ascontiguousarray(value).tobytes(), tuple(value.shape)


def _unchanged(before: list[tuple[str, Any, bytes, tuple[int, ...]]], fn: Any, args: list[Any], kwargs: dict[str, Any]) -> None:
    """Raise InputModified naming the first argument whose contents the call changed."""
    for where, value, data, shape in before:
        if _contents(value) != (data, shape):
            raise InputModified(f"changed its argument {_argument_name(where, fn, len(args))} in place")


def _argument_name(where: str, fn: Any, count: int) -> str:
    """``#1[0]`` -> ``grads[0]`` with the callable's parameter names where they can be read."""
    if not where.startswith("#"):
        return where
    index, _, rest = where[1:].partition("[")
    rest = f"[{rest}" if rest else ""
    try:
        import inspect

        names = [p.name for p in inspect.signature(fn).parameters.values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        return names[int(index)] + rest if int(index) < len(names) else f"#{int(index) + 1}{rest}"
    except (TypeError, ValueError):
        return f"number {int(index) + 1}{rest}"


def to_wire(value: Any, arrays: list[np.ndarray], depth: int = 0) -> dict[str, Any]:
    """Describe ``value`` as plain arrays with what each one was (the grader judges a numpy answer where a tensor is
    asked, and the reverse): ``{"a": i, "k": kind}`` with kind ndarray, numpy-scalar, float, int or bool, or
    ``{"a": i, "k": "tensor", "dev": device, "grad": requires_grad}``; ``{"t": [...]}`` a tuple, ``{"l": [...]}`` a
    list, ``{"n": None}``. Anything else is refused (objects, complex numbers, ...)."""
    if depth > _MAX_DEPTH:
        raise TypeError(f"result nested more than {_MAX_DEPTH} levels deep")
    if value is None:
        return {"n": None}
    if isinstance(value, (tuple, list)):
        return {"t" if isinstance(value, tuple) else "l": [to_wire(v, arrays, depth + 1) for v in value]}
    torch = sys.modules.get("torch")
    kind: dict[str, Any]
    if torch is not None and isinstance(value, torch.Tensor):
        tensor = value.detach()
        if tensor.is_complex():
            raise TypeError(f"returned a complex tensor ({tensor.dtype}); a real one is expected")
        if tensor.dtype == torch.bfloat16:
            tensor = tensor.float()
        array = tensor.cpu().resolve_neg().numpy()
        kind = {"k": "tensor", "dev": str(value.device), "grad": bool(value.requires_grad)}
    elif isinstance(value, (np.ndarray, np.generic, bool, int, float)):
        array = np.asarray(value)
        # bool before int: a Python bool is an int too
        names = ((np.ndarray, "ndarray"), (np.generic, "numpy-scalar"), (bool, "bool"), (int, "int"), (float, "float"))
        kind = {"k": next(name for cls, name in names if isinstance(value, cls))}
    else:
        raise TypeError(f"returned an object of type {type(value).__qualname__}; expected an array, a tensor or a number")
    if array.dtype.kind not in "biuf":
        raise TypeError(f"returned an array of dtype {array.dtype}; expected real numbers")
    arrays.append(np.array(array, copy=True))
    return {"a": len(arrays) - 1, **kind}


class _Helpers(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """The other modules of the submission's folder, served from the texts the grader sent (a strict worker sees no
    file of the submission)."""

    def __init__(self, sources: dict[str, tuple[str, str]]):
        self.sources = sources  # module -> (filename, text)

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name not in self.sources:
            return None
        return importlib.util.spec_from_loader(name, self, origin=self.sources[name][0])

    def create_module(self, spec: Any) -> None:
        return None

    def exec_module(self, module: types.ModuleType) -> None:
        filename, text = self.sources[module.__name__]
        module.__file__ = filename
        exec(compile(text, filename, "exec"), module.__dict__)  # noqa: S102 - the submission's own code


class _Session:
    def __init__(self, device: str):
        self.device = device
        self.module: types.ModuleType | None = None
        self.step: int | None = None  # the program step in progress, named in error replies
        self.files: set[str] = set()  # the submission's files: their frames are the ones a traceback shows
        self.cells: dict[str, tuple[Cell, ...]] = {}  # a notebook's line map: its frames are shown as cells and lines

    # ---- loading -------------------------------------------------------------------------------------------------

    def load(self, *, module: str, filename: str, source: str, helpers: Sequence[Sequence[str]] = (), cells: Sequence[Sequence[Any]] = ()) -> None:
        """Run the submission's module; ``cells``: its line map when it is a notebook's code (locations.cell_map)."""
        spans = cell_map(cells)  # checked before any student code runs: a bad map is the load's error
        if spans:
            self.cells[filename] = spans
        for name, path, text in [(module, filename, source), *helpers]:
            linecache.cache[path] = (len(text), None, text.splitlines(True), path)
            self.files.add(path)
        served = {name: (path, text) for name, path, text in helpers if name not in sys.modules}
        if served:
            sys.meta_path.insert(0, _Helpers(served))  # first, as the script's own folder is first on sys.path
        mod = types.ModuleType(module)
        mod.__file__ = filename
        sys.modules[module] = mod
        self.module = mod
        exec(compile(source, filename, "exec"), mod.__dict__)  # noqa: S102 - running student code is the point

    # ---- programs ------------------------------------------------------------------------------------------------

    def resolve(self, spec: Any, env: dict[str, Any], arrays: list[np.ndarray], sent: dict[int, Any] | None = None) -> Any:
        if not isinstance(spec, dict) or len(spec) != 1 and "t" not in spec:
            raise ValueError(f"bad value spec {spec!r}")
        if "a" in spec:
            array = arrays[spec["a"]].copy()
            if sent is not None:
                sent[id(array)] = array
            return array
        if "t" in spec:
            import torch

            tensor = torch.tensor(arrays[spec["t"]], device=self.device)
            return tensor.requires_grad_(bool(spec.get("grad", False)))
        if "v" in spec:
            return env[spec["v"]]
        if "lit" in spec:
            return spec["lit"]
        if "list" in spec:
            return [self.resolve(s, env, arrays, sent) for s in spec["list"]]
        if "tuple" in spec:
            return tuple(self.resolve(s, env, arrays, sent) for s in spec["tuple"])
        if "dict" in spec:
            return {str(k): self.resolve(v, env, arrays, sent) for k, v in spec["dict"]}
        if "n" in spec:
            return None
        raise ValueError(f"bad value spec {spec!r}")

    def run(self, program: list[dict[str, Any]], returns: list[Any], arrays: list[np.ndarray], forbid: Sequence[str] = ()) -> list[Any]:
        env: dict[str, Any] = {}
        sent: dict[int, Any] = {}  # the arrays and tensors the grader sent, by id (kept alive, so ids stay theirs): the student's code may not change them
        for self.step, step in enumerate(program):
            args = [self.resolve(a, env, arrays, sent) for a in step.get("args", [])]
            kwargs = {k: self.resolve(v, env, arrays, sent) for k, v in step.get("kwargs", {}).items()}
            op = step["op"]
            if op in _STUDENT_OPS:
                before = _snapshot(args, kwargs, sent)
                with library_guard.forbidden(forbid):
                    result, fn = self.student(op, step, env, args, kwargs)
                _unchanged(before, fn, args, kwargs)
            elif op == "value":
                result = args[0]
                sent[id(result)] = result
            elif op == "component":
                result = components.build(step["name"], *args, device=self.device, **kwargs)
            elif op == "grad":
                result = self.grad(step, env, arrays)
            else:
                raise ValueError(f"unknown program step {op!r}")
            if step.get("out"):
                env[step["out"]] = result
        return [self.resolve(r, env, arrays) for r in returns]

    def student(self, op: str, step: dict[str, Any], env: dict[str, Any], args: list[Any], kwargs: dict[str, Any]) -> tuple[Any, Any]:
        """Run one step of student code; return its result and the callable that ran (to name its arguments)."""
        if op == "call":
            fn = getattr(self.module, step["fn"], None)
            if fn is None:
                raise AttributeError(f"{self.module.__file__} does not define {step['fn']!r}")
            if not callable(fn):
                raise TypeError(f"{self.module.__file__} defines {step['fn']!r} as {type(fn).__name__} {fn!r:.40}, not as a function or class")
            return fn(*args, **kwargs), fn
        if op == "method":
            fn = getattr(env[step["obj"]], step["name"])
            return fn(*args, **kwargs), fn
        if op == "operator":
            return _OPERATORS[step["name"]](*args), None
        return getattr(env[step["obj"]], step["name"]), None  # attr: a property runs student code too

    def grad(self, step: dict[str, Any], env: dict[str, Any], arrays: list[np.ndarray]) -> tuple[Any, ...] | None:
        """The gradients, or None when an output is not a tensor with a graph: nothing raised, and the grader says what
        the student's function returned (its kind comes back with it)."""
        import torch

        outputs = [self.resolve(s, env, arrays) for s in step["outputs"]]
        inputs = [self.resolve(s, env, arrays) for s in step["inputs"]]
        upstream = [self.resolve(s, env, arrays) for s in step["upstream"]]
        if not all(isinstance(out, torch.Tensor) and out.requires_grad for out in outputs):
            return None
        grads = torch.autograd.grad(outputs, inputs, grad_outputs=upstream, allow_unused=True)
        return tuple(torch.zeros_like(x) if g is None else g for x, g in zip(inputs, grads))


def _configure(device: str, threads: int, gpu_memory_mb: int | None) -> None:
    import torch

    torch.set_num_threads(threads)
    if device == "cuda":
        # Workers share the GPU (grade batch --jobs N): each gets a bounded share of its memory, so one submission's
        # appetite is its own check's out-of-memory error, not its classmates'. (torch's caching allocator enforces
        # it; code that calls the CUDA driver itself is not bounded: see SECURITY.md.)
        if gpu_memory_mb:
            total = torch.cuda.get_device_properties(torch.cuda.current_device()).total_memory
            torch.cuda.set_per_process_memory_fraction(min(1.0, (gpu_memory_mb << 20) / total))
        # Checks compare against float64 references: TF32 would cost ~3 digits in float32 matmuls and convolutions.
        # Newer torch refuses a mix of its legacy and new precision switches, so use the new ones where they exist.
        if hasattr(torch.backends.cuda.matmul, "fp32_precision") and hasattr(torch.backends.cudnn, "conv"):
            torch.backends.cuda.matmul.fp32_precision = "ieee"
            torch.backends.cudnn.conv.fp32_precision = "ieee"
            torch.backends.cudnn.rnn.fp32_precision = "ieee"
        else:
            torch.backends.cuda.matmul.allow_tf32 = False
            torch.backends.cudnn.allow_tf32 = False
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False
        torch.use_deterministic_algorithms(True, warn_only=True)


def _error(exc: BaseException, files: set[str], cells: dict[str, tuple[Cell, ...]]) -> dict[str, Any]:
    """The exception as the student reads it: the frames in the submission's own files, a notebook's as its cells
    and their lines (in ``where`` too), and a syntax error shown on the line the grader sent (Python reads it from the
    file on disk: a notebook's JSON, or nothing in a strict worker)."""
    frames = traceback.extract_tb(exc.__traceback__)
    own = [f for f in frames if f.filename in files]  # the submission's frames, its helper modules' included
    shown = traceback.TracebackException(type(exc), exc, None, compact=True)
    at = (own[-1].filename, own[-1].lineno) if own else None
    if isinstance(exc, SyntaxError) and exc.filename in files and type(exc.lineno) is int:
        shown.text = linecache.getline(exc.filename, exc.lineno) or shown.text
        if exc.filename in cells and shown.msg:  # "... on line 40", "(detected at line 41)": lines of the module
            shown.msg = re.sub(r"\b(on|at) line (\d+)", lambda m: f"{'in' if m[1] == 'on' else m[1]} {line_in(cells[exc.filename], int(m[2]))}", shown.msg)
        at = at or (exc.filename, exc.lineno)
    text = in_cells("".join(traceback.format_list(own)) + "".join(shown.format_exception_only()), cells)
    return {
        "type": type(exc).__name__[:200],
        "message": str(exc)[:_MAX_TRACEBACK],
        "traceback": text[-_MAX_TRACEBACK:],
        "where": _where(*at, cells) if at and at[1] is not None else None,
    }


def _where(filename: str, line: int, cells: dict[str, tuple[Cell, ...]]) -> dict[str, Any]:
    found = cell_of(cells.get(filename, ()), line)
    if found is None:
        return {"file": filename, "line": line}
    number, ident, within = found
    return {"file": filename, "line": within, "cell": number, "cell_id": ident}


def _offer_stacks(wfile: BinaryIO) -> None:
    """On SIGUSR1, which the grader sends before it stops a worker that ran out of time, write every thread's Python
    stack onto the grader's stream: where the submission was is a hint in the student's message (the grader takes
    only a line of the submission's own files from it). faulthandler writes from the signal handler itself, so code
    stuck in a long C call (a torch operation) is caught too."""
    if not hasattr(signal, "SIGUSR1"):
        return
    try:
        faulthandler.register(signal.SIGUSR1, file=wfile.fileno(), all_threads=True)
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):  # a stream without a descriptor (tests)
        pass


def serve(rfile: BinaryIO, wfile: BinaryIO, *, device: str = "cpu", threads: int = 1) -> None:
    """Answer requests until the grader closes the stream."""
    # The fork server's command line (its descriptor numbers, the course's folder) is no business of student code,
    # and would differ between one grading run and another.
    sys.argv[:] = [""]
    _offer_stacks(wfile)
    session = _Session(device)
    while True:
        try:
            request, arrays = read_frame(rfile)
        except EOFError:
            return
        try:
            if request["op"] == "hello":  # confined and serving: what came before is the sandbox's time, not the submission's
                reply, out = {"ok": True}, []
            elif request["op"] == "load":
                _configure(device, threads, request.get("gpu_memory_mb"))
                session.load(module=request["module"], filename=request["filename"], source=request["source"], helpers=request.get("helpers", ()), cells=request.get("cells", ()))
                reply, out = {"ok": True}, []
            elif request["op"] == "run":
                # A check of a backward pass written by hand runs the student's code with torch's autodiff refused.
                with contextlib.nullcontext() if request.get("autograd", True) else autograd_guard.forbidden():
                    values = session.run(request["program"], request["returns"], arrays, request.get("forbid", ()))
                out: list[np.ndarray] = []
                reply = {"ok": True, "values": [to_wire(v, out) for v in values]}
            else:
                raise ValueError(f"unknown request {request['op']!r}")
        except BaseException as exc:  # noqa: BLE001 - SystemExit and friends from student code are answers too
            reply, out = {"ok": False, "error": {**_error(exc, session.files, session.cells), "step": session.step}}, []
            if device == "cuda" and type(exc).__name__ == "OutOfMemoryError":
                del exc  # its traceback holds the tensors; free them so that the next check has the memory back
                sys.modules["torch"].cuda.empty_cache()
        session.step = None
        write_frame(wfile, {**reply, "seq": request.get("seq")}, out)


def main() -> None:
    """Entry point of the subprocess sandbox (platforms without a fork server): connect back, then serve."""
    import argparse
    import socket

    parser = argparse.ArgumentParser(prog="python -m autograder.sandbox.worker")
    parser.add_argument("--connect", type=int, required=True, help="loopback port of the grader")
    parser.add_argument("--token", required=True, help="proves to the grader that this is its worker")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=1)
    ns = parser.parse_args()
    # Imported before connecting, as the fork server does: the interpreter's start is the grader's cost, and the
    # clock of the module's import starts at the connection.
    import numpy  # noqa: F401
    import torch  # noqa: F401
    import torch.nn.functional  # noqa: F401

    sock = socket.create_connection(("127.0.0.1", ns.connect))
    sock.sendall(ns.token.encode())
    serve(sock.makefile("rb"), sock.makefile("wb"), device=ns.device, threads=ns.threads)
    sys.stdout.flush()
    os._exit(0)  # no atexit hooks, no waiting for the student's threads


if __name__ == "__main__":
    main()
