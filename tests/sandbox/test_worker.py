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
