"""The wire format between the grader and a worker: a JSON header plus raw array bytes, never pickle.

A frame is ``MAGIC | u32 header length | header (UTF-8 JSON) | payload``. The header's ``arrays`` list declares
each array's dtype, shape and byte count; the payload is their bytes back to back. Decoding trusts nothing: the
header size is capped, each dtype must be a real little-endian numeric type, each byte count must equal
shape x itemsize, and the total must stay under a cap *before* anything is allocated (a forged header claiming a
huge shape is refused, not allocated). The reader may check the header itself before the payload is read (the
grader checks the reply's sequence number and shape there), and the payload is read straight into its arrays.
"""

from __future__ import annotations

import json
import math
import struct
from typing import Any, BinaryIO, Callable

import numpy as np

__all__ = ["ExchangeError", "ALLOWED_DTYPES", "encode", "read_frame", "write_frame", "MAX_HEADER"]

MAGIC = b"AGX1"
MAX_HEADER = 4 << 20  # programs and tracebacks fit easily; anything bigger is an attack or a bug
MAX_ARRAYS = 4096
MAX_NDIM = 32
ALLOWED_DTYPES = frozenset(
    ["<f8", "<f4", "<f2", "<i8", "<i4", "<i2", "|i1", "<u8", "<u4", "<u2", "|u1", "|b1"]
)
_PREFIX = struct.Struct("<4sI")


class ExchangeError(Exception):
    """A frame that is malformed, too large, or declares something other than plain numeric arrays."""


def _spec(array: np.ndarray) -> dict[str, Any]:
    dtype = array.dtype.newbyteorder("<") if array.dtype.byteorder == ">" else array.dtype
    return {"dtype": dtype.str, "shape": list(array.shape), "nbytes": int(array.nbytes)}


def encode(header: dict[str, Any], arrays: list[np.ndarray]) -> bytes:
    """One frame. Arrays are sent C-contiguous and little-endian; other dtypes are refused here too."""
    parts, specs = [], []
    for array in arrays:
        array = np.asarray(array, order="C")
        if array.dtype.byteorder == ">":
            array = array.astype(array.dtype.newbyteorder("<"))
        spec = _spec(array)
        if spec["dtype"] not in ALLOWED_DTYPES:
            raise ExchangeError(f"cannot send an array of dtype {array.dtype}: only real numbers and booleans travel")
        specs.append(spec)
        parts.append(array.tobytes())
    body = json.dumps({**header, "arrays": specs}).encode()
    return _PREFIX.pack(MAGIC, len(body)) + body + b"".join(parts)


def write_frame(stream: BinaryIO, header: dict[str, Any], arrays: list[np.ndarray] = ()) -> None:  # type: ignore[assignment]
    stream.write(encode(header, list(arrays)))
    stream.flush()


def _read_exact(stream: BinaryIO, n: int) -> bytes:
    chunks, left = [], n
    while left:
        chunk = stream.read(left)
        if not chunk:
            raise EOFError(f"stream ended {left} bytes short of a {n}-byte read")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _validate_specs(header: dict[str, Any], max_bytes: int) -> list[tuple[np.dtype, tuple[int, ...], int]]:
    specs = header.get("arrays")
    if not isinstance(specs, list) or len(specs) > MAX_ARRAYS:
        raise ExchangeError(f"header 'arrays' must be a list of at most {MAX_ARRAYS} entries")
    out, total = [], 0
    for i, spec in enumerate(specs):
        if not isinstance(spec, dict) or set(spec) != {"dtype", "shape", "nbytes"}:
            raise ExchangeError(f"array {i}: expected exactly the keys dtype, shape, nbytes")
        dtype, shape, nbytes = spec["dtype"], spec["shape"], spec["nbytes"]
        if not isinstance(dtype, str) or dtype not in ALLOWED_DTYPES:
            raise ExchangeError(f"array {i}: dtype {dtype!r} is not a real numeric type")
        if not isinstance(shape, list) or len(shape) > MAX_NDIM or not all(
            type(d) is int and 0 <= d < 2**40 for d in shape
        ):
            raise ExchangeError(f"array {i}: shape {shape!r} is not a list of at most {MAX_NDIM} non-negative ints")
        itemsize = np.dtype(dtype).itemsize
        if type(nbytes) is not int or nbytes != math.prod(shape) * itemsize:
            raise ExchangeError(f"array {i}: {nbytes!r} bytes declared, but shape {shape} of {dtype} needs {math.prod(shape) * itemsize}")
        total += nbytes
        if total > max_bytes:
            raise ExchangeError(f"arrays total more than the {max_bytes}-byte limit")
        out.append((np.dtype(dtype), tuple(shape), nbytes))
    return out


def _read_into(stream: BinaryIO, array: np.ndarray) -> None:
    view, done = memoryview(array.reshape(-1).view(np.uint8)), 0
    while done < len(view):
        chunk = stream.read(min(len(view) - done, 1 << 20))
        if not chunk:
            raise EOFError(f"stream ended {len(view) - done} bytes short of a {len(view)}-byte array")
        view[done : done + len(chunk)] = chunk
        done += len(chunk)


def read_frame(stream: BinaryIO, *, max_bytes: int = 256 << 20, check: Callable[[dict[str, Any], int], dict[str, Any]] | None = None) -> tuple[dict[str, Any], list[np.ndarray]]:
    """Read and validate one frame. ``check(header, number of arrays)`` runs before the payload is read and returns
    the header to use (it raises to refuse the frame). Raises EOFError at a clean or truncated end, ExchangeError on
    bad data."""
    magic, length = _PREFIX.unpack(_read_exact(stream, _PREFIX.size))
    if magic != MAGIC:
        raise ExchangeError(f"bad frame magic {magic!r}")
    if length > MAX_HEADER:
        raise ExchangeError(f"header of {length} bytes exceeds the {MAX_HEADER}-byte limit")
    try:
        header = json.loads(_read_exact(stream, length).decode("utf-8"))
    except (ValueError, RecursionError) as exc:  # bad UTF-8 or JSON, or nesting deep enough to exhaust the stack
        raise ExchangeError(f"header is not UTF-8 JSON of reasonable depth: {type(exc).__name__}") from None
    if not isinstance(header, dict):
        raise ExchangeError("header is not a JSON object")
    specs = _validate_specs(header, max_bytes)
    if check is not None:
        header = check(header, len(specs))
    arrays = []
    for dtype, shape, _ in specs:
        array = np.empty(shape, dtype=dtype)
        _read_into(stream, array)
        arrays.append(array)
    return header, arrays
