"""Comparisons and the messages students read."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from autograder.engine.compare import CheckFailed, Mistake, Returned, ReturnedArray, ReturnedTuple, assert_close, describe, kind_problem

FLIP = Mistake("kernel-flip", "the kernel is not flipped", "Reverse h.")
TOL = {"rtol": 1e-9, "atol": 1e-11}


def fails(got, want, **kwargs) -> CheckFailed:
    with pytest.raises(CheckFailed) as info:
        assert_close(got, want, what="f(x)", **{**TOL, **kwargs})
    return info.value


def test_equal_within_tolerance_passes():
    want = np.linspace(0, 1, 5)
    assert_close(want * (1 + 1e-12), want, what="f(x)", **TOL)


@pytest.mark.parametrize(
    "got, want, message",
    [
        pytest.param(None, np.zeros(3), "f(x): returned None; expected an array of shape (3,), dtype float64", id="none"),
        pytest.param((np.zeros(3),), np.zeros(3), "f(x): returned a tuple of 1 value; expected an array of shape (3,)", id="tuple"),
        pytest.param(np.zeros(4), np.zeros(3), "f(x): shape (4,), expected (3,)", id="shape"),
        pytest.param(np.zeros(()), np.zeros(3), "f(x): shape (), expected (3,)", id="scalar-not-broadcast"),
        pytest.param(np.zeros(3, np.float32), np.zeros(3), "f(x): dtype float32, expected float64: precision was lost", id="precision"),
        pytest.param(np.zeros(3, bool), np.zeros(3), "f(x): dtype bool, expected floating point", id="bool-for-float"),
        pytest.param(np.asarray(5.0), np.asarray(5), "f(x): dtype float64, expected an integer", id="float-for-int"),
    ],
)
def test_structure_is_checked_first(got, want, message: str):
    assert fails(got, want).message.startswith(message)


def test_message_names_the_worst_element_and_the_count():
    want = np.arange(6.0).reshape(2, 3)
    got = want.copy()
    got[1, 2] += 0.5
    got[0, 1] += 0.1
    message = fails(got, want).message
    assert "worst at index (1, 2): got 5.5, expected 5 (abs err 0.5, rel err 0.1)" in message
    assert "2 of 6 elements (33.3%) are off" in message
    assert "rtol=1e-09, atol=1e-11" in message


def test_non_finite_values_are_reported_as_such():
    got = np.array([1.0, np.nan, 3.0])
    message = fails(got, np.array([1.0, 2.0, 3.0])).message
    assert "got nan at index (1,), expected 2 (a non-finite value where the answer is finite)" in message


def test_matching_nan_is_equal():
    assert_close(np.array([np.nan, 1.0]), np.array([np.nan, 1.0]), what="f(x)", **TOL)


def test_known_mistake_is_named_with_its_fix():
    want, wrong = np.array([1.0, 2.0, 3.0]), np.array([3.0, 2.0, 1.0])
    error = fails(wrong, want, variants=[(FLIP, wrong)])
    assert error.mistake is FLIP
    assert error.message == "f(x): your answer matches a known mistake: the kernel is not flipped. Reverse h."


def test_known_mistake_with_another_shape_is_named():
    error = fails(np.ones(3), np.ones(5), variants=[(FLIP, np.ones(3))])
    assert error.mistake is FLIP


def test_no_mistake_named_when_none_matches():
    error = fails(np.array([9.0, 9.0]), np.array([1.0, 2.0]), variants=[(FLIP, np.array([2.0, 1.0]))])
    assert error.mistake is None


def test_scalar_message_has_no_index():
    message = fails(np.asarray(4), np.asarray(5)).message
    assert message.startswith("f(x): worst: got 4, expected 5")


@pytest.mark.parametrize("got, message", [
    pytest.param([np.inf, 2.5, 3.0], "got 2.5 at index (1,), expected inf (the answer is not finite here); 1 of 3 elements", id="finite-where-inf"),
    pytest.param([np.inf, np.inf, 4.0], "worst at index (2,): got 4, expected 3 (abs err 1, rel err 0.333); 1 of 3 elements", id="matching-inf-is-not-the-worst"),
    pytest.param([-np.inf, np.inf, 3.0], "got -inf at index (0,), expected inf (the answer is not finite here); 1 of 3 elements", id="inf-of-the-wrong-sign"),
])
def test_infinite_answers(got, message):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning from inf arithmetic
        assert message in fails(np.array(got), np.array([np.inf, np.inf, 3.0])).message


# ---- kinds: what the student's code returned against what the reference returns (the table in compare.py) ---------


def returned(value, kind: str, fn: str = "f", at: str = "", **tensor):
    """A value as the worker sends it back: an array (or a list/tuple of returned values) saying what it was."""
    if kind in ("list", "tuple"):
        return ReturnedTuple([returned(v, k, fn, f"{at}[{i}]") for i, (v, k) in enumerate(value)], Returned(kind, fn, at))
    return ReturnedArray.of(value, Returned(kind, fn, at, **tensor))


def tensor(value, **kwargs):
    return returned(value, "tensor", **{"device": "cpu", **kwargs})


@pytest.mark.parametrize(
    "got, want, device, message",
    [
        pytest.param(returned([(v, "float") for v in range(12)], "list", "conv1d"), np.zeros(12), "cpu", "returned a list of 12 numbers; conv1d must return a numpy.ndarray", id="tolist"),
        pytest.param(tensor(np.zeros(12), fn="conv1d"), np.zeros(12), "cpu", "returned a torch.Tensor of shape (12,), dtype torch.float64, on cpu; conv1d must return a numpy.ndarray", id="tensor-for-numpy"),
        pytest.param(returned(np.zeros((1, 2)), "ndarray", "conv2d"), torch.zeros(1, 2), "cpu", "returned a numpy.ndarray of shape (1, 2), dtype float64; conv2d must return a torch.Tensor", id="numpy-for-tensor"),
        pytest.param(tensor(np.float64(2.0), fn="condition_number"), 2.0, "cpu", "returned a torch.Tensor of shape (), dtype torch.float64, on cpu; condition_number must return a float (a Python or numpy scalar, or a 0-d numpy.ndarray)", id="0-d-tensor-for-float"),
        pytest.param(tensor(np.zeros(3), fn="conv2d", device="cpu"), torch.zeros(3), "cuda", "returned a torch.Tensor on cpu; conv2d must return a torch.Tensor on cuda, the device of its inputs", id="tensor-on-another-device"),
        pytest.param(returned([(np.zeros(2), "ndarray"), (np.zeros(2), "ndarray")], "tuple", "taylor"), (torch.zeros(2), torch.zeros(2)), "cpu", "returned a numpy.ndarray of shape (2,), dtype float64; taylor(...)[0] must be a torch.Tensor", id="element-of-a-tuple"),
        pytest.param(returned(np.zeros(3), "ndarray", "sgd"), (np.zeros(3), None), "cpu", "returned a numpy.ndarray of shape (3,), dtype float64; sgd must return a tuple of 2 values", id="array-for-tuple"),
        pytest.param(returned(np.int64(3), "numpy-scalar", "output_size"), torch.tensor(3), "cpu", "returned a numpy.int64 scalar; output_size must return a torch.Tensor", id="numpy-scalar-for-tensor"),
    ],
)
def test_a_returned_value_of_another_kind_than_the_references_fails_first(got, want, device: str, message: str):
    assert kind_problem(got, want, device=device) == message
    assert fails(got, want, device=device).message == f"f(x): {message}"


@pytest.mark.parametrize(
    "got, want, device",
    [
        pytest.param(returned(np.float64(2.0), "numpy-scalar"), 2.0, "cpu", id="numpy-scalar-for-float"),
        pytest.param(returned(np.asarray(2.0), "ndarray"), 2.0, "cpu", id="0-d-array-for-float"),
        pytest.param(returned(np.asarray(2.0), "float"), np.asarray(2.0), "cpu", id="float-for-0-d-array"),
        pytest.param(returned(np.asarray(3), "int"), np.int64(3), "cpu", id="int-for-numpy-int"),
        pytest.param(tensor(np.zeros(3), device="cuda:0"), torch.zeros(3), "cuda", id="tensor-on-the-inputs-device"),
        pytest.param(returned([(np.zeros(2), "tensor"), (np.zeros(2), "tensor")], "list"), (torch.zeros(2), torch.zeros(2)), "cpu", id="list-of-tensors-for-a-tuple"),
        pytest.param(returned([(np.zeros(3), "ndarray"), ([(np.zeros(3), "ndarray")], "list")], "tuple"), (np.zeros(3), (np.zeros(3),)), "cpu", id="state-as-a-list"),
        pytest.param(np.zeros(3), torch.zeros(3), "cpu", id="computed-by-the-grader"),
        pytest.param(returned([(np.zeros(3), "ndarray")], "tuple"), None, "cpu", id="optional-answer"),
    ],
)
def test_what_correct_code_returns_passes(got, want, device: str):
    assert kind_problem(got, want, device=device) is None
    if want is not None and not isinstance(want, tuple):
        assert_close(got, want, what="f(x)", device=device, **TOL)


@pytest.mark.parametrize(
    "value, text",
    [
        pytest.param(returned([(1.0, "float")] * 3, "list"), "a list of 3 numbers", id="list-of-numbers"),
        pytest.param(returned([(np.zeros(2), "ndarray")], "tuple"), "a tuple of 1 value", id="tuple-of-one-array"),
        pytest.param(returned([], "list"), "an empty list", id="empty-list"),
        pytest.param(returned(np.float32(1.0), "numpy-scalar"), "a numpy.float32 scalar", id="numpy-scalar"),
        pytest.param(returned(np.asarray(1.0), "float"), "a Python float", id="python-float"),
        pytest.param(np.zeros((2, 3)), "shape (2, 3), dtype float64", id="grader-side-array"),
    ],
)
def test_describe_says_what_the_students_code_returned(value, text: str):
    assert describe(value) == text
