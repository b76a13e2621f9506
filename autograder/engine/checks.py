"""The check API: how a check author asks for student computations and judges them.

A check is a function of a :class:`Trial`, declared with :func:`check`::

    @check("conv1d_full", "conv1d in 'full' mode")
    def conv1d_full(t: Trial) -> None:
        f, h = t.rng.standard_normal(9), t.rng.standard_normal(4)
        got = t.call("conv1d", f, h, mode="full")          # runs in the worker, comes back as an array
        t.close(got, t.ref.conv1d(f, h, "full"), what="conv1d(f, h, 'full')",
                variants=[(KERNEL_FLIP, t.ref.xcorr1d(f, h, "full"))])

The check runs in the grading process. ``t.call`` and ``t.program()`` send inputs to the worker and get plain
arrays back, each saying what it was in the student's code (a tensor, a numpy array, a float, a list: see
autograder.engine.compare); the reference (``t.ref``) runs here, on the grader's own copies. Give ``t.close`` the
reference's answer as the reference returned it (a tensor as a tensor): its kind is part of the contract. Returning
normally is a pass; a failed comparison raises :class:`~autograder.engine.compare.CheckFailed`.

A check that a function rejects invalid input runs a positive control first, ``t.accepts(fn, *valid_args,
like=reference_answer)``: a function that raises for everything must not earn it, and the control's own failure says
just that (its numbers are other checks' business).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Callable, Sequence

import numpy as np

from .compare import CheckFailed, Mistake, Returned, ReturnedArray, ReturnedTuple, as_array, assert_close, describe, kind_problem

__all__ = ["check", "Check", "Trial", "Program", "StudentError", "CheckFailed", "Mistake", "USES_AUTOGRAD", "USES_LIBRARY", "MODIFIES_INPUT", "checks_in"]


USES_AUTOGRAD = Mistake(
    "uses-autograd",
    "the gradient was computed by torch.autograd, not by hand",
    "Write the backward pass from the chain rule with array operations; this exercise grades exactly that.",
)
USES_LIBRARY = Mistake(
    "uses-library",
    "library code does the job this exercise asks you to write",
    "Build it from the definition with the operations the docstring allows; its 'Not allowed' line lists what may not be used.",
)
MODIFIES_INPUT = Mistake(
    "modifies-input",
    "an input array was changed in place",
    "Leave the arguments as they came and return new arrays (x = x - lr * g, not x -= lr * g): the caller may still need them.",
)
# Errors the worker reports for a whole class of checks, and the mistakes they are (autograder.sandbox.worker).
_WORKER_MISTAKES = {"AutogradNotAllowed": USES_AUTOGRAD, "LibraryNotAllowed": USES_LIBRARY, "InputModified": MODIFIES_INPUT}


@dataclass(frozen=True)
class Check:
    id: str
    title: str
    fn: Callable[["Trial"], None]
    autograd: bool = True
    forbid: tuple[str, ...] = ()
    combines: tuple[str, ...] = ()


def check(check_id: str, title: str, *, autograd: bool = True, forbid: Sequence[str] = (), combines: Sequence[str] = ()) -> Callable[[Callable[["Trial"], None]], Callable[["Trial"], None]]:
    """Declare a check; its points come from course.yaml (``topics[].checks.<check_id>``).

    ``autograd=False``: the check grades a backward pass written by hand, so the student's code runs with torch's
    autodiff refused (autograder.sandbox.autograd_guard) and a use of it fails the check as USES_AUTOGRAD.

    ``forbid``: dotted names of library code the exercise asks students to write themselves: a module
    (``"torch.optim"``: every function defined in it or below it) or a function (``"torch.nn.functional.conv2d"``:
    that function however it is reached: an alias, an ``nn.Conv2d``, a lookup by name). A use fails the check as
    USES_FORBIDDEN, naming what was used (autograder.sandbox.library_guard).

    ``combines``: the exercise units (``"sgd"``, ``"Value.backward"``) this check grades together with its own, on
    purpose; say so in the title. ``grade selftest`` removes each unit of the stub alone and requires every check to
    lose points only for its own unit and these (autograder.selftest.runner, partial credit).
    """

    def register(fn: Callable[[Trial], None]) -> Callable[[Trial], None]:
        fn.__autograder_check__ = Check(check_id, title, fn, autograd, tuple(forbid), tuple(combines))  # type: ignore[attr-defined]
        return fn

    return register


def checks_in(module: ModuleType) -> list[Check]:
    """The checks a module declares, in definition order."""
    return [obj.__autograder_check__ for obj in vars(module).values() if hasattr(obj, "__autograder_check__")]


class StudentError(Exception):
    """Student code raised while a check was running it."""

    def __init__(self, call: str, error: dict[str, Any], *, step: int | None = None):
        self.call = call
        self.step = step  # the index of the program step that raised
        self.type = str(error.get("type", "Exception"))
        self.text = str(error.get("message", ""))
        self.traceback = str(error.get("traceback", ""))
        self.where = error.get("where")
        super().__init__(f"{call} raised {self.type}: {self.text}")

    @property
    def not_attempted(self) -> bool:
        return self.type == "NotImplementedError"


@dataclass(frozen=True)
class _Tensor:
    array: np.ndarray
    grad: bool


@dataclass(frozen=True)
class Var:
    """A value that lives in the worker (a student object, an intermediate result) during one program; ``fn``: the
    student function or method whose result it is (named in messages about what it returned)."""

    name: str
    label: str
    fn: str | None = None


_LABEL_CHARS = 80  # a longer argument's label is shortened: a loop's iterate, used twice per step, would double it


def _label(value: Any) -> str:
    if isinstance(value, Var):
        return value.label if len(value.label) <= _LABEL_CHARS else f"<the result of {value.fn or 'a step'}>"
    if isinstance(value, (np.ndarray, _Tensor)):
        array = value.array if isinstance(value, _Tensor) else value
        return f"<{'tensor' if isinstance(value, _Tensor) else 'array'} {tuple(array.shape)}>"
    return repr(value)


def _describe_call(fn: str, args: Sequence[Any], kwargs: dict[str, Any]) -> str:
    parts = [_label(a) for a in args] + [f"{k}={_label(v)}" for k, v in kwargs.items()]
    return f"{fn}({', '.join(parts)})"


class Program:
    """Steps to run in the worker in one round trip; build with call/method/attr/component/grad, then ``run``."""

    def __init__(self, trial: "Trial"):
        self._trial = trial
        self._steps: list[dict[str, Any]] = []
        self._labels: list[str] = []
        self._arrays: list[np.ndarray] = []
        # One worker tensor per _Tensor, so gradients reach the one passed in; keyed by id, so each _Tensor is kept
        # alive with its Var (a temporary's id could otherwise be reused by the next one, sent as the first).
        self._tensors: dict[int, tuple[_Tensor, Var]] = {}

    def _spec(self, value: Any) -> dict[str, Any]:
        returned = value.returned if isinstance(value, (ReturnedArray, ReturnedTuple)) else None
        if returned is not None:  # a value the student's code returned (a state) goes back as it was
            if returned.kind in ("float", "int", "bool"):
                return {"lit": value.item()}
            if returned.kind == "tensor":
                value = _Tensor(np.asarray(value), False)
            elif returned.kind == "list":
                return {"list": [self._spec(v) for v in value]}
        if isinstance(value, Var):
            return {"v": value.name}
        if isinstance(value, _Tensor):
            if id(value) not in self._tensors:
                self._arrays.append(value.array)
                spec = {"op": "value", "args": [{"t": len(self._arrays) - 1, "grad": value.grad}]}
                self._tensors[id(value)] = (value, self._add(spec, _label(value)))
            return {"v": self._tensors[id(value)][1].name}
        if isinstance(value, np.ndarray):
            self._arrays.append(value)
            return {"a": len(self._arrays) - 1}
        if isinstance(value, np.generic):
            return {"lit": value.item()}
        if isinstance(value, list):
            return {"list": [self._spec(v) for v in value]}
        if isinstance(value, tuple):
            return {"tuple": [self._spec(v) for v in value]}
        if isinstance(value, dict) and all(isinstance(k, str) for k in value):
            return {"dict": [[k, self._spec(v)] for k, v in value.items()]}
        if value is None:
            return {"n": None}
        if isinstance(value, (bool, int, float, str)):
            return {"lit": value}
        raise TypeError(f"a check can send arrays, tensors, numbers and strings to the worker, not {type(value).__name__}")

    @property
    def steps(self) -> int:
        return len(self._steps)

    def _add(self, step: dict[str, Any], label: str, fn: str | None = None) -> Var:
        var = Var(f"v{len(self._steps)}", label, fn)
        self._steps.append({**step, "out": var.name})
        self._labels.append(label)
        return var

    def call(self, fn: str, *args: Any, **kwargs: Any) -> Var:
        """Call the student's ``fn`` (a function or a class) from the submission module."""
        spec = {"op": "call", "fn": fn, "args": [self._spec(a) for a in args], "kwargs": {k: self._spec(v) for k, v in kwargs.items()}}
        self._trial.calls.add(fn)
        return self._add(spec, _describe_call(fn, args, kwargs), fn)

    def method(self, obj: Var, name: str, *args: Any, **kwargs: Any) -> Var:
        spec = {"op": "method", "obj": obj.name, "name": name, "args": [self._spec(a) for a in args], "kwargs": {k: self._spec(v) for k, v in kwargs.items()}}
        return self._add(spec, _describe_call(f"{obj.label}.{name}", args, kwargs), name)

    def operator(self, name: str, *operands: Any) -> Var:
        """Python's operator ``name`` (add, sub, mul, truediv, pow, neg) on student objects and numbers, with its
        reflected forms: ``operator("mul", 2.0, v)`` runs ``2.0 * v``, so the student's ``__rmul__``."""
        symbol = {"add": "+", "sub": "-", "mul": "*", "truediv": "/", "pow": "**"}
        label = f"-{_label(operands[0])}" if name == "neg" else f" {symbol[name]} ".join(_label(o) for o in operands)
        return self._add({"op": "operator", "name": name, "args": [self._spec(o) for o in operands]}, label)

    def attr(self, obj: Var, name: str) -> Var:
        return self._add({"op": "attr", "obj": obj.name, "name": name}, f"{obj.label}.{name}")

    def component(self, name: str, *args: Any, **kwargs: Any) -> Var:
        """A trusted building block (see autograder.sandbox.components) built in the worker from arrays."""
        spec = {"op": "component", "name": name, "args": [self._spec(a) for a in args], "kwargs": {k: self._spec(v) for k, v in kwargs.items()}}
        return self._add(spec, f"<{name}>")

    def grad(self, output: Var, inputs: Sequence[Any], upstream: np.ndarray) -> Var:
        """torch.autograd.grad of ``output`` w.r.t. ``inputs`` (tensors sent with ``grad=True``), through ``upstream``:
        a tuple of gradients, or None when ``output`` is not a tensor with an autograd graph (the worker raises
        nothing: see Trial.call_grad for what the student is told)."""
        spec = {
            "op": "grad",
            "outputs": [self._spec(output)],
            "inputs": [self._spec(i) for i in inputs],
            "upstream": [self._spec(_Tensor(np.asarray(upstream), False))],
        }
        return self._add(spec, f"gradient of {output.label}")

    def run(self, *returns: Any) -> list[Any]:
        """Execute the steps; return the requested values as arrays (or tuples of arrays, or None)."""
        specs = [self._spec(r) for r in returns]
        header = {"op": "run", "program": self._steps, "returns": specs, "autograd": self._trial.autograd, "forbid": list(self._trial.forbid)}
        reply, arrays = self._trial._request(header, self._arrays, self._labels[-1] if self._labels else "program")
        if not reply.get("ok"):
            error = reply.get("error") or {}
            step = error.get("step")
            label = self._labels[step] if isinstance(step, int) and 0 <= step < len(self._labels) else "your code"
            mistake = _WORKER_MISTAKES.get(str(error.get("type")))
            if mistake is USES_LIBRARY and self._trial.forbid:
                raise CheckFailed(f"{label} used {error.get('message')}, which this exercise asks you to write (not allowed here: {', '.join(self._trial.forbid)}); your answer matches a known mistake: {mistake.title}. {mistake.fix}", mistake=mistake)
            if mistake is MODIFIES_INPUT or mistake is USES_AUTOGRAD and not self._trial.autograd:
                raise CheckFailed(f"{label}: {error.get('message')}; your answer matches a known mistake: {mistake.title}. {mistake.fix}", mistake=mistake)
            raise StudentError(label, error, step=step if isinstance(step, int) else None)
        values = reply.get("values")
        if not isinstance(values, list) or len(values) != len(returns):
            raise CheckFailed("the worker's answer has the wrong number of values")
        return [_from_wire(v, arrays, r.fn if isinstance(r, Var) else None) for v, r in zip(values, returns)]


def _from_wire(spec: dict[str, Any], arrays: list[np.ndarray], fn: str | None, at: str = "") -> Any:
    """A value the worker's reply described, as a ReturnedArray or ReturnedTuple that says what it was in the
    student's code (the structure was validated with the reply, in sandbox/workers.py); ``fn`` returned it."""
    if "a" in spec:
        return ReturnedArray.of(arrays[spec["a"]], Returned(spec["k"], fn, at, spec.get("dev"), spec.get("grad", False)))
    if "t" in spec or "l" in spec:
        kind = "tuple" if "t" in spec else "list"
        return ReturnedTuple([_from_wire(s, arrays, fn, f"{at}[{i}]") for i, s in enumerate(spec[kind[0]])], Returned(kind, fn, at))
    return None


class Trial:
    """Everything one run of one check (on one device) needs; created by the grading engine."""

    def __init__(self, *, rng: np.random.Generator, device: str, reference: ModuleType, tolerance: Callable[[str], Any], request: Callable[..., Any], autograd: bool = True, forbid: Sequence[str] = ()):
        self.rng = rng
        self.autograd = autograd  # False: the student's code runs with torch's autodiff refused
        self.forbid = tuple(forbid)  # library code the student's code may not use (autograder.sandbox.library_guard)
        self.device = device
        self.ref = reference
        self._tolerance = tolerance
        self._send = request
        self.current = ""  # the student call in progress, for messages about crashes and timeouts
        self.calls: set[str] = set()  # the submission's functions and classes this check called
        self.figures: list[dict[str, Any]] = []  # drawn next to the report (autograder.reports.plots)
        self._inputs = hashlib.sha256()

    def _request(self, header: dict[str, Any], arrays: list[np.ndarray], label: str) -> tuple[dict[str, Any], list[np.ndarray]]:
        self.current = label
        self._digest(json.dumps(header, sort_keys=True).encode())
        for array in arrays:
            self._digest(f"{array.dtype.str}{array.shape}".encode())
            self._digest(np.ascontiguousarray(array).tobytes())
        return self._send(header, arrays)

    def _digest(self, chunk: bytes) -> None:
        self._inputs.update(b"%d:" % len(chunk) + chunk)  # length-prefixed, so no two input sequences run together

    @property
    def inputs_digest(self) -> str:
        """sha256 of every input this trial has sent the student's code: the programs (their literals included) and the
        arrays' dtypes, shapes and bytes. ``grade selftest`` compares it under two seeds: equal means a lookup table of
        answers could pass the check."""
        return self._inputs.hexdigest()

    def integer(self, low: int, high: int) -> int:
        """An int drawn from this trial's rng, uniformly in low..high (both included): a hidden check's sizes."""
        return int(self.rng.integers(low, high + 1))

    @staticmethod
    def tensor(array: np.ndarray, *, grad: bool = False) -> _Tensor:
        """Send ``array`` as a torch tensor on the trial's device (``grad=True``: requires_grad)."""
        return _Tensor(np.asarray(array), grad)

    def program(self) -> Program:
        return Program(self)

    def call(self, fn: str, *args: Any, **kwargs: Any) -> Any:
        program = self.program()
        return program.run(program.call(fn, *args, **kwargs))[0]

    def call_grad(self, fn: str, *args: Any, upstream: np.ndarray, **kwargs: Any) -> tuple[Any, tuple[Any, ...]]:
        """Call ``fn``, then backpropagate ``upstream`` to every tensor argument sent with ``grad=True``. A result
        that is not a tensor with an autograd graph fails the check, saying what ``fn`` returned."""
        program = self.program()
        out = program.call(fn, *args, **kwargs)
        wrt = [a for a in [*args, *kwargs.values()] if isinstance(a, _Tensor) and a.grad]
        value, grads = program.run(out, program.grad(out, wrt, upstream))
        if grads is None:
            self.current = out.label  # the call is what failed, not its gradient
            returned = value.returned if isinstance(value, (ReturnedArray, ReturnedTuple)) else None
            if returned is not None and returned.kind == "tensor":
                got = "a torch.Tensor that does not require grad: no autograd graph leads back to the inputs (was it built with torch.tensor(...), .detach() or a trip through numpy?)"
                self.fail(f"{out.label}: returned {got}; {fn} must compute its result from its inputs with torch operations so gradients flow")
            self.fail(f"{out.label}: returned {describe(value)}; {fn} must return a torch.Tensor so gradients flow")
        return value, grads

    def accepts(self, fn: str, *args: Any, like: Any = None, **kwargs: Any) -> Any:
        """The positive control of a check that ``fn`` rejects invalid input: on these valid arguments it must return
        normally and, given ``like`` (the reference's answer; never passed to ``fn``), a value of its kind and shape:
        the numbers are other checks' business. A function that raises for everything cannot earn the check, and the
        failure says so, not which numbers were off."""
        program = self.program()
        step = program.call(fn, *args, **kwargs)
        try:
            (got,) = program.run(step)
        except StudentError as exc:
            if exc.not_attempted:
                raise
            raise CheckFailed(f"{step.label} raised {exc.type} ({exc.text}), though this input is valid: a function that raises on valid input cannot earn a check that it rejects invalid input") from None
        if like is not None:
            problem = kind_problem(got, like, device=self.device)
            if problem is None and not isinstance(got, tuple) and np.shape(got) != np.shape(as_array(like)):
                problem = f"returned {describe(got)}; expected shape {np.shape(as_array(like))}"
            if problem:
                raise CheckFailed(f"{step.label} (valid input, the control of this check): {problem}")
        return got

    def raises(self, exception: str, fn: str, *args: Any, **kwargs: Any) -> StudentError:
        """Expect the student's ``fn`` to raise ``exception`` (by class name) on these arguments."""
        program = self.program()
        return self.raises_in(exception, program, program.call(fn, *args, **kwargs))

    def raises_in(self, exception: str, program: Program, step: Var) -> StudentError:
        """Expect running ``program`` up to its last step, ``step``, to raise ``exception`` (by class name) there."""
        call = step.label
        try:
            program.run(step)
        except StudentError as exc:
            if exc.not_attempted:
                raise
            if exc.step != program.steps - 1:
                raise CheckFailed(f"{exc.call}: raised {exc.type} ({exc.text}) before {call} ran; expected {call} to raise {exception}") from None
            if exc.type == exception:
                return exc
            raise CheckFailed(f"{call}: raised {exc.type} ({exc.text}); expected {exception}") from None
        raise CheckFailed(f"{call}: returned normally; expected it to raise {exception}")

    def tolerance(self, dtype: Any) -> tuple[float, float]:
        tol = self._tolerance(np.dtype(dtype).name)
        return tol.rtol, tol.atol

    def close(self, got: Any, want: Any, *, what: str, variants: Sequence[tuple[Mistake, Any]] = (), rtol: float | None = None, atol: float | None = None) -> None:
        """Compare ``got`` with the reference's answer ``want``, as the reference returned it: first its kind (a
        tensor, a numpy array or number, a tuple: autograder.engine.compare), then its numbers with the course
        tolerance for ``want``'s dtype (on this device), naming known mistakes."""
        default_rtol, default_atol = self.tolerance(as_array(want).dtype)
        assert_close(
            got,
            want,
            what=what,
            rtol=default_rtol if rtol is None else rtol,
            atol=default_atol if atol is None else atol,
            variants=variants,
            device=self.device,
        )

    def same_kind(self, got: Any, want: Any, *, what: str) -> None:
        """Fail unless ``got`` is of the kind of the reference's answer ``want`` (what ``close`` judges first), for
        checks that judge the numbers their own way."""
        problem = kind_problem(got, want, device=self.device)
        if problem:
            raise CheckFailed(f"{what}: {problem}")

    def figure(self, figure: dict[str, Any]) -> None:
        """Attach a figure (built with ``autograder.reports.plots``) to this check's result; attach it before judging, so a
        failing check still shows it."""
        self.figures.append(figure)

    @staticmethod
    def fail(message: str, *, mistake: Mistake | None = None) -> None:
        raise CheckFailed(message, mistake=mistake)

