"""Adversarial submissions that forge what the grader compares (threat model 3 to 5, 7 and 10).

Forged return values (objects, subclasses and dtypes that claim equality), monkeypatched comparison functions,
the callers' frames and the heap searched for the answer, inputs mutated in place, and frames of the submission's
own written onto the protocol socket: each earns nothing, the untouched checks still pass, the student is told
why, and the grader still grades the reference to full marks afterwards. See attacks.py for the assertions.
"""

from __future__ import annotations

from attacks import ALWAYS_EQUAL, EVERYTHING, FORGE, ZERO_CONV1D, Attack, D, assert_grader_still_works, forged, table


# ---- 3: forged return values ------------------------------------------------------------------------------------

FORGED = {
    "always_equal_object": Attack(
        ALWAYS_EQUAL + D("""
        def conv1d(f, h, mode="full"):
            return _Eq()
        """),
        phrase=r"returned an object of type _Eq",
        recover=True,
    ),
    "__array__returns_the_input": Attack(
        ALWAYS_EQUAL + D("""
        class _Arr(_Eq):
            def __init__(self, a): self.a = a
            def __array__(self, dtype=None, copy=None): return self.a
            __array_priority__ = 1e9

        def conv1d(f, h, mode="full"):
            return _Arr(f)
        """),
        phrase=r"returned an object of type _Arr",
    ),
    "ndarray_subclass_that_compares_equal": Attack(
        """
        import numpy as np

        class _Liar(np.ndarray):
            def __eq__(self, other): return np.ones(self.shape, bool)
            def __array_ufunc__(self, ufunc, method, *args, **kwargs): return np.ones(self.shape, bool)
            def __array_function__(self, func, types, args, kwargs): return True

        def conv1d(f, h, mode="full"):
            return _wrong(f, h, mode).view(_Liar)
        """,
        phrase=r"are off",
    ),
    "object_array_of_always_equal": Attack(
        ALWAYS_EQUAL + D("""
        import numpy as np

        def conv1d(f, h, mode="full"):
            out = np.empty(len(_wrong(f, h, mode)), dtype=object)
            out[:] = [_Eq() for _ in out]
            return out
        """),
        phrase=r"returned an array of dtype object",
    ),
    "tuple_of_always_equal": Attack(
        ALWAYS_EQUAL + D("""
        def conv1d(f, h, mode="full"):
            return tuple(_Eq() for _ in _wrong(f, h, mode))
        """),
        phrase=r"returned an object of type _Eq",
    ),
    "float_subclass_that_compares_equal": Attack(
        """
        class _F(float):
            def __eq__(self, other): return True
            def __ne__(self, other): return False

        def conv1d(f, h, mode="full"):
            return _F(0.0)
        """,
        phrase=r"shape \(\), expected",
    ),
    "complex_array": Attack(
        """
        def conv1d(f, h, mode="full"):
            return _wrong(f, h, mode) + 0j
        """,
        phrase=r"dtype complex128",
    ),
    "nan_everywhere": Attack(
        """
        def conv1d(f, h, mode="full"):
            return _wrong(f, h, mode) * float("nan")
        """,
        phrase=r"non-finite",
    ),
    "returns_true": Attack(
        """
        def conv1d(f, h, mode="full"):
            return True
        """,
        phrase=r"dtype bool, expected floating point",
    ),
    "tensor_subclass_answers_true_to_comparisons": Attack(
        """
        import torch

        class _Liar(torch.Tensor):
            @classmethod
            def __torch_function__(cls, func, types, args=(), kwargs=None):
                if func in (torch.allclose, torch.equal, torch.Tensor.equal):
                    return True
                if func in (torch.eq, torch.isclose, torch.Tensor.eq, torch.Tensor.__eq__):
                    return torch.ones(args[0].shape, dtype=torch.bool)
                return super().__torch_function__(func, types, args, kwargs or {})

        def conv1d(f, h, mode="full"):
            out = torch.tensor(_wrong(f, h, mode)).as_subclass(_Liar)
            assert torch.allclose(out, torch.ones(3)) and torch.equal(out, out + 1)  # it lies...
            return out  # ...but only its values travel, and what it was: a tensor where conv1d returns numpy
        """,
        phrase=r"returned a torch\.Tensor of shape \(12,\), dtype torch\.float64, on cpu; conv1d must return a numpy\.ndarray",
    ),
    "tensor_subclass_whose_numpy_lies": Attack(
        ALWAYS_EQUAL + D("""
        import torch

        class _Liar(torch.Tensor):
            @classmethod
            def __torch_function__(cls, func, types, args=(), kwargs=None):
                if func in (torch.Tensor.numpy, torch.Tensor.detach, torch.Tensor.cpu):
                    return _Eq()
                return super().__torch_function__(func, types, args, kwargs or {})

        def conv1d(f, h, mode="full"):
            return torch.tensor(_wrong(f, h, mode)).as_subclass(_Liar)
        """),
        phrase=r"raised",
    ),
}


@table(FORGED)
def test_forged_return_values_earn_nothing(tight_grader, row: Attack):
    row.run(tight_grader)


# ---- 4: monkeypatching the comparison functions -----------------------------------------------------------------

PATCHES = {
    "numpy_and_torch_comparisons": Attack(
        D("""
        import numpy as np, torch, torch.testing
        np.allclose = lambda *a, **k: True
        np.isclose = lambda a, b, *x, **k: np.ones(np.shape(a), dtype=bool)
        np.array_equal = lambda *a, **k: True
        np.testing.assert_allclose = lambda *a, **k: None
        np.testing.assert_array_almost_equal = lambda *a, **k: None
        torch.allclose = lambda *a, **k: True
        torch.equal = lambda *a, **k: True
        torch.isclose = lambda a, b, *x, **k: torch.ones_like(a, dtype=torch.bool)
        torch.testing.assert_close = lambda *a, **k: None
        """) + ZERO_CONV1D,
        phrase=r"are off",
    ),
    "numpy_all_and_ndarray_methods": Attack(
        D("""
        import numpy as np
        np.all = lambda *a, **k: True
        np.any = lambda *a, **k: False
        """) + ZERO_CONV1D,
        phrase=r"are off",
    ),
    "the_graders_own_modules_inside_the_worker": Attack(
        D("""
        try:  # strict workers cannot see an editable install's source folder; elsewhere the import works
            import autograder.engine.compare, autograder.engine.checks, autograder.engine.grading
            autograder.engine.compare.assert_close = lambda *a, **k: None
            autograder.engine.checks.assert_close = lambda *a, **k: None
            autograder.engine.checks.Trial.close = lambda *a, **k: None
            autograder.engine.checks.Trial.fail = lambda *a, **k: None
        except ImportError:
            pass
        """) + ZERO_CONV1D,
        phrase=r"are off",
    ),
    # Builtins are shared by everything in the worker: the submission breaks its own functions too (its problem);
    # what matters is that the grader's comparisons, made in the grading process, are untouched.
    "builtins_abs_sum_all": Attack(
        D("""
        import builtins
        builtins.abs = lambda x: 0
        builtins.sum = lambda *a, **k: 0
        builtins.all = lambda *a, **k: True
        """) + ZERO_CONV1D,
        phrase=r"are off",
        intact=(),
    ),
    "builtins_len": Attack(
        D("""
        import builtins
        builtins.len = lambda x: 0
        """) + ZERO_CONV1D,
        phrase=r"the worker (sent malformed data|exited|was killed)",
        attacked=EVERYTHING,
        intact=(),
        where="error",
    ),
    "builtins_isinstance": Attack(
        D("""
        import builtins
        builtins.isinstance = lambda *a: True
        """) + ZERO_CONV1D,
        phrase=r"the worker (sent malformed data|exited|was killed)",
        attacked=EVERYTHING,
        intact=(),
        where="error",
    ),
}


@table(PATCHES)
def test_monkeypatching_comparisons_earns_nothing(tight_grader, row: Attack):
    row.run(tight_grader)


# ---- 5: introspection -------------------------------------------------------------------------------------------

INTROSPECTION = """
import gc, inspect, sys
import numpy as np


def conv1d(f, h, mode="full"):
    want = _wrong(f, h, mode).shape
    seen = []
    for depth in range(1, 64):  # every caller's locals and globals
        try:
            frame = sys._getframe(depth)
        except ValueError:
            break
        seen += list(frame.f_locals.values()) + list(frame.f_globals.values())
    for info in inspect.stack():
        seen += list(info.frame.f_locals.values())
    seen += [o for o in gc.get_objects() if isinstance(o, (np.ndarray, list, tuple, dict))]
    for module in list(sys.modules.values()):  # a reference solution or expected values loaded anywhere
        for name in ("conv1d", "expected", "want", "reference", "ref"):
            if name != "conv1d" or getattr(module, "__name__", "") not in ("convolution", __name__):
                obj = getattr(module, name, None)
                if obj is not None and obj is not conv1d:
                    seen.append(obj)
    for value in seen:
        if inspect.isfunction(value) and value.__name__ == "conv1d" and value is not conv1d and not value.__module__.startswith("torch"):
            print("found another conv1d in", getattr(value, "__module__", "?"), flush=True)
            return value(f, h, mode)
        if isinstance(value, np.ndarray) and value.shape == want and value is not f and value.dtype.kind == "f" and value.any():
            print("found an array of the expected shape", flush=True)
            return value
    return _wrong(f, h, mode)
"""


def test_reading_the_callers_frames_and_the_heap_finds_no_answer(tight_grader):
    result = Attack(INTROSPECTION, phrase=r"are off|shape").run(tight_grader)
    assert "found another conv1d" not in result.output


# ---- 7: mutating the inputs -------------------------------------------------------------------------------------


def test_mutating_the_inputs_in_place_earns_nothing(tight_grader):
    Attack(
        """
        def conv1d(f, h, mode="full"):
            out = _wrong(f, h, mode)
            f[:] = 0
            h[:] = 0
            return out
        """,
        phrase=r"changed its argument f in place",  # the grader's copies are untouched, and the change is named
    ).run(tight_grader)


# ---- 10: forged frames on the protocol socket ---------------------------------------------------------------------
# The worker is untrusted down to its bytes: a submission can write frames of its own onto the socket the grader
# reads. Whatever they hold, the grader must call them malformed, stop that worker, give no credit, blame the
# submission (not itself: "error" means a grader bug) and go on with a fresh worker for the next checks.

FORGED_FRAMES = {
    "array_of_32_TiB_declared": Attack(
        forged('{"ok": True, "values": [{"a": 0, "k": "ndarray"}], "arrays": [{"dtype": "<f8", "shape": [2**42], "nbytes": 2**45}]}'),
        phrase=r"malformed",
    ),
    "dtype_is_a_list": Attack(
        forged('{"ok": True, "values": [{"a": 0, "k": "ndarray"}], "arrays": [{"dtype": ["<f8"], "shape": [3], "nbytes": 24}]}'),
        phrase=r"malformed",
    ),
    "json_nested_100000_deep": Attack(
        forged('b\'{"ok": true, "arrays": [], "values": \' + b"[" * 100000 + b"]" * 100000 + b"}"'),
        phrase=r"malformed",
    ),
    "error_is_not_a_dict": Attack(
        forged('{"ok": False, "arrays": [], "error": ["not", "a", "dict"]}'),
        phrase=r"malformed",
    ),
    "load_reply_error_is_not_a_dict": Attack(
        FORGE + """
_forge({"ok": False, "arrays": [], "error": "not a dict"})
_os._exit(0)
""",
        phrase=r"malformed",
        attacked=EVERYTHING,
        where="error",
    ),
}


@table(FORGED_FRAMES)
def test_forged_frames_are_refused_as_malformed(tight_grader, row: Attack):
    row.run(tight_grader)


def test_the_grader_still_works_after_forged_frames(tight_grader):
    assert_grader_still_works(tight_grader)


# A frame with the right sequence number (found in the worker's own frames) that declares a 256 MiB array (legal
# under the worker's memory limit) and streams it: the grader must refuse it from its header (more than any reply to
# this request may be), not read it.
HUGE_REPLY = FORGE + """
import sys as _sys


def _seq():
    frame = _sys._getframe()
    while frame is not None:
        request = frame.f_locals.get("request")
        if isinstance(request, dict) and "seq" in request:
            return request["seq"]
        frame = frame.f_back
    return None


def conv1d(f, h, mode="full"):
    body = {"ok": True, "seq": _seq(), "values": [{"a": 0, "k": "ndarray"}], "arrays": [{"dtype": "<f8", "shape": [2**25], "nbytes": 2**28}]}
    header = _json.dumps(body).encode()
    for fd in map(int, _os.listdir("/proc/self/fd")):
        try:
            if _os.readlink(f"/proc/self/fd/{fd}").startswith("socket:"):
                _os.write(fd, b"AGX1" + _struct.pack("<I", len(header)) + header)
                chunk = bytes(1 << 20)
                for _ in range(256):
                    _os.write(fd, chunk)
        except OSError:
            pass
    return _wrong(f, h, mode)
"""


def test_a_huge_reply_is_refused_from_its_header_not_read(tight_grader):
    """10: the grader's own memory stays bounded by what it asked for, whatever a reply declares."""
    import resource

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB, the high-water mark of this (grading) process
    Attack(HUGE_REPLY, phrase=r"malformed").run(tight_grader)
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown < 128 << 10, f"the grader's resident memory grew by {grown >> 10} MiB reading a forged reply"
