"""Fuzzing what parses untrusted bytes: the worker's frames, notebooks, and zip submissions. Whatever the bytes, each
parser answers with its own error (one clear line upstream) or a valid result, never another exception, and a zip
never writes outside its folder. The budget is bounded (HYPOTHESIS_PROFILE=ci in CI: more examples, no deadline)."""

from __future__ import annotations

import io
import json
import os
import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autograder.entry import _unzip
from autograder.course.notebooks import NotebookError, notebook_code
from autograder.errors import UsageError
from autograder.sandbox.exchange import MAGIC, ExchangeError, encode, read_frame

pytestmark = pytest.mark.filterwarnings("ignore:Duplicate name:UserWarning")  # zips with repeated names are a case too

settings.register_profile("ci", max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=60, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))

JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20), lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=20)


def _frame(header: object, payload: bytes = b"") -> bytes:
    body = json.dumps(header).encode()
    return MAGIC + struct.pack("<I", len(body)) + body + payload


@given(st.binary(max_size=512))
def test_a_frame_of_random_bytes_is_refused_cleanly(data: bytes):
    try:
        read_frame(io.BytesIO(data))
    except (ExchangeError, EOFError):
        pass


@given(JSON, st.binary(max_size=256))
def test_a_frame_with_any_json_header_is_refused_or_valid(header: object, payload: bytes):
    try:
        got, arrays = read_frame(io.BytesIO(_frame(header, payload)), max_bytes=1 << 20)
    except (ExchangeError, EOFError):
        return
    assert isinstance(got, dict) and all(isinstance(a, np.ndarray) for a in arrays)


@given(st.lists(st.fixed_dictionaries({"dtype": st.sampled_from(["float64", "int8", "object", "<U3", "complex64", "bool", "V8", "O"]), "shape": st.lists(st.integers(-2, 1 << 40), max_size=5), "nbytes": st.integers(-1, 1 << 40)}), max_size=3), st.binary(max_size=256))
def test_forged_array_specs_never_allocate_or_escape(specs: list, payload: bytes):
    try:
        _, arrays = read_frame(io.BytesIO(_frame({"arrays": specs}, payload)), max_bytes=1 << 20)
    except (ExchangeError, EOFError):
        return
    assert all(a.dtype.kind in "biuf" and a.nbytes <= 1 << 20 for a in arrays)


def test_a_valid_frame_round_trips():
    header, arrays = read_frame(io.BytesIO(encode({"op": "x"}, [np.arange(6.0).reshape(2, 3)])))
    assert header["op"] == "x" and arrays[0].tolist() == [[0, 1, 2], [3, 4, 5]]


@given(st.binary(max_size=512) | JSON.map(lambda j: json.dumps(j).encode()) | st.builds(lambda cells: json.dumps({"nbformat": 4, "cells": cells}).encode(), st.lists(JSON, max_size=4)))
def test_any_bytes_are_a_notebook_or_one_clear_error(data: bytes):
    try:
        text = notebook_code(data, name="nb.ipynb")
    except NotebookError as exc:
        assert str(exc).startswith(("nb.ipynb", "cell ")) and "\n" not in str(exc)
        return
    assert isinstance(text, str)


NAMES = st.lists(st.text(alphabet="ab./\\:", min_size=1, max_size=12), min_size=1, max_size=4)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=40)
@given(NAMES, st.binary(max_size=64))
def test_a_zip_never_writes_outside_its_folder(tmp_path: Path, names: list[str], data: bytes):
    case = tmp_path / f"case{len(list(tmp_path.iterdir()))}"
    (case / "into").mkdir(parents=True)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for name in names:
            z.writestr(name, data)
    (case / "s.zip").write_bytes(buffer.getvalue())
    try:
        _unzip(case / "s.zip", case / "into")
    except UsageError:
        pass
    outside = [p for p in case.rglob("*") if p.is_file() and case / "into" not in p.parents and p.name != "s.zip"]
    assert outside == []


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=40)
@given(st.binary(max_size=512))
def test_random_bytes_as_a_zip_are_refused_cleanly(tmp_path: Path, data: bytes):
    path = tmp_path / "s.zip"
    path.write_bytes(data)
    try:
        _unzip(path, tmp_path / "into")
    except UsageError:
        pass
