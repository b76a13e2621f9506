"""The array exchange: what decodes, and what is refused before anything is allocated."""

from __future__ import annotations

import io
import json
import struct

import numpy as np
import pytest

from autograder.sandbox.exchange import ExchangeError, encode, read_frame


def frame(header: dict, payload: bytes = b"") -> io.BytesIO:
    body = json.dumps(header).encode()
    return io.BytesIO(b"AGX1" + struct.pack("<I", len(body)) + body + payload)


@pytest.mark.parametrize(
    "array",
    [
        pytest.param(np.arange(6.0).reshape(2, 3), id="float64"),
        pytest.param(np.arange(4, dtype=np.float32), id="float32"),
        pytest.param(np.asarray(7), id="scalar"),
        pytest.param(np.zeros((0, 3)), id="empty"),
        pytest.param(np.array([True, False]), id="bool"),
        pytest.param(np.arange(6.0).reshape(2, 3).T, id="non-contiguous"),
        pytest.param(np.arange(3, dtype=">f8"), id="big-endian"),
    ],
)
def test_round_trip(array: np.ndarray):
    header, arrays = read_frame(io.BytesIO(encode({"ok": True}, [array])))
    assert header["ok"] is True
    np.testing.assert_array_equal(arrays[0], array)
    assert arrays[0].shape == array.shape
    assert arrays[0].flags.writeable


@pytest.mark.parametrize(
    "spec, payload, message",
    [
        pytest.param({"dtype": "|O", "shape": [1], "nbytes": 8}, b"\0" * 8, "not a real numeric type", id="object-dtype"),
        pytest.param({"dtype": "<c16", "shape": [1], "nbytes": 16}, b"\0" * 16, "not a real numeric type", id="complex"),
        pytest.param({"dtype": "<f8", "shape": [3], "nbytes": 8}, b"\0" * 8, "needs 24", id="byte-count-lies"),
        pytest.param({"dtype": "<f8", "shape": [10**9, 10**9], "nbytes": 8 * 10**18}, b"", "limit", id="huge-shape"),
        pytest.param({"dtype": "<f8", "shape": [-1], "nbytes": 8}, b"", "non-negative ints", id="negative-dim"),
        pytest.param({"dtype": "<f8", "shape": [1.5], "nbytes": 8}, b"", "non-negative ints", id="float-dim"),
        pytest.param({"dtype": "<f8", "shape": [1], "nbytes": 8, "pickle": True}, b"", "exactly the keys", id="extra-key"),
    ],
)
def test_forged_array_specs_are_refused(spec: dict, payload: bytes, message: str):
    with pytest.raises(ExchangeError, match=message):
        read_frame(frame({"arrays": [spec]}, payload), max_bytes=1 << 20)


def test_bad_magic_and_oversized_header_are_refused():
    with pytest.raises(ExchangeError, match="magic"):
        read_frame(io.BytesIO(b"PKL1" + struct.pack("<I", 2) + b"{}"))
    with pytest.raises(ExchangeError, match="exceeds"):
        read_frame(io.BytesIO(b"AGX1" + struct.pack("<I", 1 << 30)))


def test_truncated_frame_is_eof():
    data = encode({}, [np.zeros(10)])
    with pytest.raises(EOFError):
        read_frame(io.BytesIO(data[:-5]))


def test_header_must_be_a_json_object():
    body = b"[1, 2]"
    with pytest.raises(ExchangeError, match="not a JSON object"):
        read_frame(io.BytesIO(b"AGX1" + struct.pack("<I", len(body)) + body))


def test_encoder_refuses_objects():
    with pytest.raises(ExchangeError, match="only real numbers"):
        encode({}, [np.array([object()])])
