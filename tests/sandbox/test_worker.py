"""The worker's own side (autograder.sandbox.worker): what it sets up before student code runs, checked without a
GPU by standing in for torch.cuda in a fresh interpreter (so that no global torch setting leaks into this one)."""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pytest

GPU_SHARE = """
import torch
from autograder.sandbox import worker

calls = []
torch.cuda.current_device = lambda: 0
torch.cuda.get_device_properties = lambda index: type("Props", (), {"total_memory": 8 << 30})()
torch.cuda.set_per_process_memory_fraction = lambda fraction, *device: calls.append(fraction)
worker._configure("cuda", 1, {limit})
print(calls)
"""


@pytest.mark.parametrize(
    "limit_mb, fractions",
    [
        pytest.param(2048, "[0.25]", id="a quarter of an 8 GiB GPU"),
        pytest.param(16384, "[1.0]", id="never more than the GPU"),
        pytest.param(None, "[]", id="no limit asked"),
    ],
)
def test_a_cuda_worker_bounds_its_share_of_gpu_memory_before_student_code(limit_mb, fractions: str):
    """Workers of one batch share the GPU: each one's caching allocator is held to limits.memory_mb of it."""
    done = subprocess.run([sys.executable, "-c", GPU_SHARE.replace("{limit}", repr(limit_mb))], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == fractions


# ---- a student call may not change what the grader sent it ----------------------------------------------------------

MODULE = """
import numpy as np
import torch


def pure(x, y=None):
    return x * 2


def scale_in_place(params, grads):
    params *= 2
    return params


def zero_nested(pair):
    pair[1][0] = 0.0
    return pair[0]


def add_in_place(t):
    t.add_(1.0)
    return t


def own_state(state):
    state["t"] += 1
    return state
"""


def _session():
    from autograder.sandbox.worker import _Session

    session = _Session("cpu")
    session.load(module="student", filename="student.py", source=MODULE)
    return session


@pytest.mark.parametrize("program, arrays, named", [
    pytest.param([{"op": "call", "fn": "scale_in_place", "args": [{"a": 0}, {"a": 1}], "kwargs": {}, "out": "v0"}], 2, "changed its argument params in place", id="numpy-argument"),
    pytest.param([{"op": "call", "fn": "zero_nested", "args": [{"tuple": [{"a": 0}, {"a": 1}]}], "kwargs": {}, "out": "v0"}], 2, "changed its argument pair[1] in place", id="nested"),
    pytest.param([{"op": "value", "args": [{"t": 0}], "out": "v0"}, {"op": "call", "fn": "add_in_place", "args": [{"v": "v0"}], "kwargs": {}, "out": "v1"}], 1, "changed its argument t in place", id="torch-tensor"),
    pytest.param([{"op": "call", "fn": "pure", "args": [{"a": 0}], "kwargs": {"y": {"a": 1}}, "out": "v0"}], 2, None, id="pure-function"),
    pytest.param([{"op": "call", "fn": "own_state", "args": [{"dict": [["t", {"lit": 1}]]}], "kwargs": {}, "out": "v0"}], 0, None, id="numbers-are-not-arrays"),
])
def test_a_call_that_changes_an_array_it_was_sent_is_named(program, arrays, named):
    from autograder.sandbox.worker import InputModified

    session = _session()
    sent = [np.arange(3.0) + i for i in range(arrays)]
    if named is None:
        session.run(program, [], sent)
        return
    with pytest.raises(InputModified, match=re.escape(named)):
        session.run(program, [], sent)


def test_the_students_own_objects_are_theirs_to_change():
    program = [
        {"op": "call", "fn": "pure", "args": [{"a": 0}], "kwargs": {}, "out": "v0"},  # a new array: the student's
        {"op": "call", "fn": "scale_in_place", "args": [{"v": "v0"}, {"a": 0}], "kwargs": {}, "out": "v1"},
    ]
    (result,) = _session().run(program, [{"v": "v1"}], [np.arange(3.0)])
    assert result.tolist() == [0.0, 4.0, 8.0]


# ---- a notebook's errors name its cells: the worker formats them with the line map the grader sends ---------------

NOTEBOOK = "# cell 2 (id a)\nimport numpy as np\n\n# cell 4 (id cell-b)\ndef f(x):\n    return g(x)\n\n# cell 5\ndef g(x):\n    return x / undefined\n"
CELLS = [[2, 1, 2, "a"], [5, 2, 4, "cell-b"], [9, 2, 5, ""]]


def test_a_notebook_traceback_shows_every_frame_as_a_cell_and_its_line():
    from autograder.sandbox.worker import _error, _Session

    session = _Session("cpu")
    session.load(module="notebook_frames", filename="nb.ipynb", source=NOTEBOOK, cells=CELLS)
    with pytest.raises(NameError) as caught:
        session.run([{"op": "call", "fn": "f", "args": [{"lit": 1}], "kwargs": {}, "out": "v0"}], [], [])
    error = _error(caught.value, session.files, session.cells)
    assert 'File "nb.ipynb", cell 4 (id cell-b), line 2, in f\n    return g(x)\n' in error["traceback"]
    assert 'File "nb.ipynb", cell 5, line 2, in g\n    return x / undefined\n' in error["traceback"]
    assert error["where"] == {"file": "nb.ipynb", "line": 2, "cell": 5, "cell_id": ""}


@pytest.mark.parametrize(
    "source, cells, shown, where",
    [
        pytest.param("# cell 1\nx = 1\ny = (2,\n", [[2, 2, 1, "c"]], 'File "{path}", cell 1 (id c), line 2\n    y = (2,\n        ^\n', {"line": 2, "cell": 1, "cell_id": "c"}, id="notebook"),
        pytest.param("x = 1\ny = (2,\n", [], 'File "{path}", line 2\n    y = (2,\n        ^\n', {"line": 2}, id="module"),
    ],
)
def test_a_syntax_error_shows_the_line_the_grader_sent_not_the_file_on_disk(tmp_path, source: str, cells: list, shown: str, where: dict):
    """Python reads a syntax error's line from the file named, which for a notebook is its JSON."""
    from autograder.sandbox.worker import _error, _Session

    path = tmp_path / "nb.ipynb"
    path.write_text('{\n "cells": [\n  {\n   "cell_type": "code",\n')
    session = _Session("cpu")
    with pytest.raises(SyntaxError) as caught:
        session.load(module=f"syntax_{len(cells)}", filename=str(path), source=source, cells=cells)
    error = _error(caught.value, session.files, session.cells)
    assert shown.format(path=path) in error["traceback"] and "cell_type" not in error["traceback"]
    assert error["where"] == {"file": str(path), **where}


def test_a_bad_line_map_fails_the_load_before_student_code_runs():
    from autograder.sandbox.worker import _Session

    with pytest.raises(ValueError, match=r"cells\[0\]: expected \[first line, lines, cell number, id\]"):
        _Session("cpu").load(module="never_run", filename="nb.ipynb", source="raise SystemExit('ran')\n", cells=[[0, 1, 1, "x"]])
    assert "never_run" not in sys.modules


# ---- what a returned value was travels with it (to_wire), and the grader checks that description ---------------------


def _tensor(*, grad: bool = False):
    import torch

    return torch.zeros(2, dtype=torch.float64, requires_grad=grad)


@pytest.mark.parametrize("make, spec", [
    pytest.param(lambda: np.zeros(2), {"a": 0, "k": "ndarray"}, id="numpy-array"),
    pytest.param(lambda: np.asarray(1.0), {"a": 0, "k": "ndarray"}, id="0-d-array"),
    pytest.param(lambda: np.float64(1.0), {"a": 0, "k": "numpy-scalar"}, id="numpy-scalar"),
    pytest.param(lambda: 1.0, {"a": 0, "k": "float"}, id="python-float"),
    pytest.param(lambda: 3, {"a": 0, "k": "int"}, id="python-int"),
    pytest.param(lambda: True, {"a": 0, "k": "bool"}, id="python-bool-is-not-an-int"),
    pytest.param(_tensor, {"a": 0, "k": "tensor", "dev": "cpu", "grad": False}, id="tensor"),
    pytest.param(lambda: _tensor(grad=True), {"a": 0, "k": "tensor", "dev": "cpu", "grad": True}, id="tensor-with-a-graph"),
    pytest.param(lambda: np.arange(3.0).tolist(), {"l": [{"a": 0, "k": "float"}, {"a": 1, "k": "float"}, {"a": 2, "k": "float"}]}, id="tolist"),
    pytest.param(lambda: (np.zeros(2), [1, None]), {"t": [{"a": 0, "k": "ndarray"}, {"l": [{"a": 1, "k": "int"}, {"n": None}]}]}, id="tuple-holding-a-list"),
    pytest.param(lambda: None, {"n": None}, id="none"),
])
def test_to_wire_says_what_each_value_was_and_the_grader_accepts_it(make, spec):
    from autograder.sandbox.worker import to_wire
    from autograder.sandbox.workers import _valid_value

    arrays: list[np.ndarray] = []
    assert to_wire(make(), arrays) == spec
    _valid_value(spec, len(arrays))


@pytest.mark.parametrize("spec, refused", [
    pytest.param({"a": 0}, "kind is None", id="no-kind"),
    pytest.param({"a": 0, "k": "object"}, "kind is 'object'", id="unknown-kind"),
    pytest.param({"a": 0, "k": "tensor", "dev": "cpu"}, "not {a: i, k: tensor", id="tensor-without-grad"),
    pytest.param({"a": 0, "k": "tensor", "dev": "cpu\x1b[2J", "grad": False}, "not {a: i, k: tensor", id="device-with-terminal-codes"),
    pytest.param({"a": 0, "k": "tensor", "dev": "cpu", "grad": 1}, "not {a: i, k: tensor", id="grad-not-a-bool"),
    pytest.param({"a": 0, "k": "float", "dev": "cpu"}, "kind is 'float'", id="extra-key"),
    pytest.param({"a": 1, "k": "float"}, "refers to array 1", id="array-not-sent"),
    pytest.param({"l": {"a": 0, "k": "float"}}, "not one of", id="list-not-a-list"),
])
def test_the_grader_refuses_a_value_description_to_wire_never_writes(spec, refused: str):
    from autograder.sandbox.workers import _valid_value

    with pytest.raises(ValueError, match=re.escape(refused)):
        _valid_value(spec, 1)


GRADS = """
import torch


def numpy_out(x):
    return x.detach().numpy() * 2


def detached(x):
    return torch.tensor(x.detach().numpy() * 2)


def differentiable(x):
    return x * 2
"""


@pytest.mark.parametrize("fn, has_grads", [("numpy_out", False), ("detached", False), ("differentiable", True)])
def test_a_grad_step_on_a_result_without_a_graph_answers_none_rather_than_raising(fn: str, has_grads: bool):
    """The grader then says what the function returned (Trial.call_grad), once, with nothing reported as raised."""
    from autograder.sandbox.worker import _Session

    session = _Session("cpu")
    session.load(module="student", filename="student.py", source=GRADS)
    program = [
        {"op": "value", "args": [{"t": 0, "grad": True}], "out": "v0"},
        {"op": "call", "fn": fn, "args": [{"v": "v0"}], "kwargs": {}, "out": "v1"},
        {"op": "grad", "outputs": [{"v": "v1"}], "inputs": [{"v": "v0"}], "upstream": [{"t": 1}], "out": "v2"},
    ]
    (grads,) = session.run(program, [{"v": "v2"}], [np.arange(3.0), np.ones(3)])
    assert (grads is not None) == has_grads
    if has_grads:
        assert grads[0].tolist() == [2.0, 2.0, 2.0]
