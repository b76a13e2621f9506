"""Comparisons and the messages students read."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from autograder.engine.compare import CheckFailed, Mistake, assert_close

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
        pytest.param((np.zeros(3),), np.zeros(3), "f(x): returned a tuple of 1 values; expected an array of shape (3,)", id="tuple"),
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
