"""Threat 11: hardcoding answers, caching answers per input, for the whole course.

A student has the public checks and the public seed (so the inputs of their own run, which they see arrive) and the
bundle's recorded answers (``answers/<topic>.npz``, the reference's answers to those inputs): together, a table from
every request the public checks send to the reply they expect. The table here is that one, recorded from the
reference graded as in a student's own run (no course secret). The submission answers every request from it and
otherwise raises: it swaps the worker's program runner for the table, the strongest lookup there is (one keyed on
single calls can only do worse). In a student's own run it passes every public check; when the course grades, with
its secret, every check draws fresh inputs, so it earns nothing, but on a check that course.yaml declares with fixed
inputs (``selftest.fixed_inputs``).
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import inspect
import json
import zlib

import numpy as np
import pytest

from autograder.engine.grading import Grader
from autograder.engine.results import PASSED
from autograder.sandbox.workers import Worker

from attacks import COURSE
from conftest import grade_source

TOPICS = [t.id for t in COURSE.topics]
OWN = dataclasses.replace(COURSE, secret_env="AUTOGRADER_SECRET_NOT_SET_HERE", secret_file=None)  # a student's own run


def request_key(program, returns, arrays):
    """A request's program and arrays (dtype, shape, bytes), hashed: the same in the grader and in the worker."""
    h = hashlib.sha256(json.dumps([program, returns], sort_keys=True).encode())
    for array in arrays:
        h.update(f"{array.dtype.str}{array.shape}".encode())
        h.update(np.ascontiguousarray(array).tobytes())
    return h.hexdigest()


LOOKUP = '''
import base64, builtins, hashlib, json, sys, zlib

import numpy as np

TABLE = json.loads(zlib.decompress(base64.b64decode({table!r})))


class NotInTable({otherwise}):
    pass


{key}

def answer(program, returns, arrays, *options):
    if request_key(program, returns, arrays) not in TABLE:
        raise NotInTable("no answer recorded for this request")
    values, blobs = TABLE[request_key(program, returns, arrays)]
    if isinstance(values, str):  # the reference raised: the same exception, from the same step
        session.step = blobs
        raise getattr(builtins, values)("recorded")
    out = [np.frombuffer(base64.b64decode(raw), dtype=dtype).reshape(shape).copy() for dtype, shape, raw in blobs]

    def value(spec):  # rebuilt as what the reference returned: a tensor, a list, a Python number, ...
        if "a" in spec:
            array = out[spec["a"]]
            if spec["k"] == "tensor":
                import torch

                tensor = torch.from_numpy(array).to(spec["dev"])
                return tensor.requires_grad_() if spec["grad"] else tensor
            if spec["k"] in ("float", "int", "bool"):
                return getattr(builtins, spec["k"])(array)
            return array[()] if spec["k"] == "numpy-scalar" else array
        if "t" in spec or "l" in spec:
            items = [value(s) for s in spec.get("t", spec.get("l"))]
            return tuple(items) if "t" in spec else items
        return None

    return [value(v) for v in values]


frame = sys._getframe()
while "session" not in frame.f_locals:  # the worker's loop, which runs this module's import
    frame = frame.f_back
session = frame.f_locals["session"]
session.run = answer
'''


def lookup_submission(table: dict, otherwise: str) -> str:
    packed = base64.b64encode(zlib.compress(json.dumps(table).encode(), 9)).decode()
    return LOOKUP.format(table=packed, otherwise=otherwise, key=inspect.getsource(request_key))


@pytest.fixture(scope="module")
def own_grader():
    with Grader(course=OWN, sandbox="auto", devices=["cpu"]) as g:
        yield g


@pytest.fixture(scope="module")
def tables(own_grader) -> dict[str, dict]:
    """Per topic: request key -> the reference's reply (its values and arrays), for every request of the public checks
    in a student's own run."""
    found: dict[str, dict] = {}
    real = Worker.request

    def recording(self, header, arrays, *, clock):
        reply, out = real(self, header, arrays, clock=clock)
        if header["op"] == "run" and reply.get("ok"):
            blobs = [(a.dtype.str, list(a.shape), base64.b64encode(np.ascontiguousarray(a).tobytes()).decode()) for a in out]
            table[request_key(header["program"], header["returns"], arrays)] = [reply["values"], blobs]
        elif header["op"] == "run":  # an exception the check expects: its type, and the step that raised it
            table[request_key(header["program"], header["returns"], arrays)] = [reply["error"]["type"], reply["error"]["step"]]
        return reply, out

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Worker, "request", recording)
        for topic in COURSE.topics:
            table = found[topic.id] = {}
            result = grade_source(own_grader, topic.solution.read_text(), topic.id, public_only=True)
            assert {c.id: c.status for c in result.checks if c.status != PASSED} == {}
    return found


@pytest.mark.parametrize("otherwise", ["LookupError", "ValueError"])  # ValueError: what a contract check expects
@pytest.mark.parametrize("topic", TOPICS)
def test_a_table_of_the_public_answers_earns_nothing_when_the_course_grades(grader, own_grader, tables, topic: str, otherwise: str):
    source = lookup_submission(tables[topic], otherwise)
    own = grade_source(own_grader, source, topic, public_only=True)
    assert {c.id: c.message[:200] for c in own.checks if c.status != PASSED} == {}, "the table should pass a student's own run"
    graded = grade_source(grader, source, topic)
    earned = {c.id: c.points for c in graded.checks if c.points}
    declared = COURSE.topic(topic).selftest.fixed_inputs
    assert {c: p for c, p in earned.items() if c not in declared} == {}, "the table earned points when the course graded"
