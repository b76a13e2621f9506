"""The reference as a record: the answers the public checks get from it, for a student bundle without the solutions.

At build time (``grade release student``) the public checks grade the reference itself with ``t.ref`` wrapped in a
:class:`Recorder`, so every call they make runs once and is kept under a hash of its arguments. In the bundle,
``t.ref`` is a :class:`Replay` that answers the same calls from the record: public inputs come from the public seed,
so the checks ask the same questions. A reference output that the check differentiates (torch.autograd) is returned
through an autograd Function whose backward gives the real vector-Jacobian product when recording (and keeps it, per
upstream gradient) and the kept one when replaying.

The record is ``answers/<topic>.npz``: a JSON index and one byte buffer of the arrays, loaded without pickle.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from ..errors import ConfigError
from ..sandbox import components

__all__ = ["Recorder", "Replay", "Record", "NotRecorded", "call_key", "load"]


class NotRecorded(Exception):
    """A check asked the recorded reference something the build did not ask it."""


# ---- keys: a canonical hash of a call's arguments ------------------------------------------------------------------


def _feed(h: Any, value: Any) -> None:
    if isinstance(value, torch.Tensor):
        array = np.ascontiguousarray(value.detach().cpu().numpy())
        h.update(f"tensor:{array.dtype.str}:{array.shape}:{value.requires_grad}:".encode())
        h.update(array.tobytes())
    elif isinstance(value, np.ndarray):
        if value.dtype.hasobject:
            raise TypeError("cannot record an object array")
        h.update(f"array:{value.dtype.str}:{value.shape}:".encode())
        h.update(np.ascontiguousarray(value).tobytes())
    elif isinstance(value, np.generic):
        h.update(f"scalar:{value.dtype.str}:".encode())
        h.update(value.tobytes())
    elif value is None or isinstance(value, (bool, int, float, str)):
        h.update(f"{type(value).__name__}:{value!r};".encode())
    elif isinstance(value, (list, tuple)):
        h.update(f"{type(value).__name__}[{len(value)}](".encode())
        for item in value:
            _feed(h, item)
        h.update(b")")
    elif isinstance(value, dict):
        h.update(f"dict[{len(value)}](".encode())
        for k, v in value.items():
            _feed(h, k)
            _feed(h, v)
        h.update(b")")
    elif isinstance(value, components.Component):  # a trusted component: its name and parameters say what it is
        h.update(f"component:{value.name}:".encode())
        _feed(h, value.params)
    else:
        raise TypeError(f"cannot record an argument of type {type(value).__name__}")


def call_key(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    """sha256 of the function name and the arguments (arrays and tensors by dtype, shape and bytes)."""
    h = hashlib.sha256(f"call:{name}:".encode())
    _feed(h, args)
    _feed(h, dict(sorted(kwargs.items())))
    return h.hexdigest()


def _vjp_key(key: str, upstream: torch.Tensor) -> str:
    h = hashlib.sha256(f"vjp:{key}:".encode())
    _feed(h, upstream)
    return h.hexdigest()


def _grad_inputs(args: tuple[Any, ...], kwargs: dict[str, Any]) -> list[torch.Tensor]:
    """The tensors that require grad among the arguments, in argument order: at the top level, in lists, tuples and
    dicts, and among the parameters of components (a flow's layers are dicts of nets whose weights a check trains)."""
    found: list[torch.Tensor] = []

    def visit(value: Any) -> None:
        if isinstance(value, torch.Tensor) and value.requires_grad:
            found.append(value)
        elif isinstance(value, (list, tuple)):
            for item in value:
                visit(item)
        elif isinstance(value, dict):
            for item in value.values():
                visit(item)
        elif isinstance(value, components.Component):
            visit(value.params)

    for value in [*args, *kwargs.values()]:
        visit(value)
    return found


# ---- values: encoded as a JSON tree whose arrays live in one list --------------------------------------------------


@dataclass
class Record:
    """What one topic's reference answered: call key -> result, (call, upstream) key -> gradients, name -> constant."""

    calls: dict[str, Any] = field(default_factory=dict)
    vjps: dict[str, Any] = field(default_factory=dict)
    constants: dict[str, Any] = field(default_factory=dict)
    arrays: list[np.ndarray] = field(default_factory=list)

    def encode(self, value: Any) -> Any:
        if isinstance(value, torch.Tensor):
            return {"tensor": self._array(value.detach().cpu().numpy()), "grad": value.requires_grad}
        if isinstance(value, np.ndarray):
            return {"array": self._array(value)}
        if isinstance(value, np.generic):
            return {"scalar": self._array(np.asarray(value))}
        if value is None:
            return {"none": None}
        if isinstance(value, bool):
            return {"bool": value}
        if isinstance(value, int):
            return {"int": value}
        if isinstance(value, float):
            return {"float": value.hex()}  # exact, and nan and inf included
        if isinstance(value, str):
            return {"str": value}
        if isinstance(value, (list, tuple)):
            return {type(value).__name__: [self.encode(v) for v in value]}
        if isinstance(value, dict) and all(isinstance(k, str) for k in value):
            return {"dict": [[k, self.encode(v)] for k, v in value.items()]}
        raise TypeError(f"cannot record a result of type {type(value).__name__}")

    def _array(self, array: np.ndarray) -> int:
        if array.dtype.hasobject:
            raise TypeError("cannot record an object array")
        self.arrays.append(np.array(array, copy=True))  # the check may change its copy in place
        return len(self.arrays) - 1

    def decode(self, tree: Any) -> Any:
        if "tensor" in tree:
            return torch.from_numpy(self.arrays[tree["tensor"]].copy())
        ((kind, raw),) = tree.items()
        if kind == "array":
            return self.arrays[raw].copy()
        if kind == "scalar":
            return self.arrays[raw][()]
        if kind in ("none", "bool", "int", "str"):
            return raw
        if kind == "float":
            return float.fromhex(raw)
        if kind in ("list", "tuple"):
            items = [self.decode(v) for v in raw]
            return items if kind == "list" else tuple(items)
        return {k: self.decode(v) for k, v in raw}

    def save(self, path: Path) -> None:
        """An npz of two uint8 members: ``index`` (JSON) and ``data`` (the arrays' bytes); written byte-reproducibly."""
        offsets, chunks, at = [], [], 0
        for array in self.arrays:
            raw = np.ascontiguousarray(array).tobytes()
            offsets.append([array.dtype.str, list(array.shape), at, len(raw)])
            chunks.append(raw)
            at += len(raw)
        index = {"arrays": offsets, "calls": self.calls, "vjps": self.vjps, "constants": self.constants}
        members = {
            "index": np.frombuffer(json.dumps(index, sort_keys=True).encode(), dtype=np.uint8),
            "data": np.frombuffer(b"".join(chunks), dtype=np.uint8),
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name, array in members.items():
                info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                with archive.open(info, "w") as out:
                    np.lib.format.write_array(out, array, allow_pickle=False)


def load(*, path: Path, topic: str) -> Replay:
    """The replaying reference of ``topic`` from ``answers/<topic>.npz``."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            index = json.loads(npz["index"].tobytes())
            data = npz["data"].tobytes()
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        raise ConfigError(f"{path}: cannot read the recorded reference of topic {topic!r} ({exc})") from None
    arrays = [np.frombuffer(data, dtype=np.dtype(dtype), count=int(np.prod(shape, dtype=np.int64)), offset=at).reshape(shape) for dtype, shape, at, _ in index["arrays"]]
    return Replay(topic=topic, record=Record(calls=index["calls"], vjps=index["vjps"], constants=index["constants"], arrays=arrays))


# ---- differentiating through a reference output -------------------------------------------------------------------


class _Pending:
    """What the backward pass needs, kept out of Function.apply's tensor arguments (they would get gradients)."""

    def __init__(self, backward: Callable[[torch.Tensor], tuple[Any, ...]]):
        self.backward = backward


class _Through(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, pending: _Pending, value: Any, *inputs: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        ctx.pending = pending
        return value.value

    @staticmethod
    def backward(ctx: Any, upstream: torch.Tensor) -> tuple[Any, ...]:  # type: ignore[override]
        return (None, None, *ctx.pending.backward(upstream))


class _Value:
    """A tensor passed to Function.apply without becoming one of its inputs."""

    def __init__(self, value: torch.Tensor):
        self.value = value


# ---- the two faces of t.ref ----------------------------------------------------------------------------------------


class Recorder:
    """The reference module, with every call's answer kept in ``record``."""

    def __init__(self, *, module: Any):
        self._module = module
        self.record = Record()

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._module, name)
        if name.startswith("__"):
            return value
        if not callable(value):
            self.record.constants[name] = self.record.encode(value)
            return value
        return lambda *args, **kwargs: self._call(name, value, args, kwargs)

    def _call(self, name: str, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        key = call_key(name, args, kwargs)
        result = fn(*args, **kwargs)
        self.record.calls[key] = self.record.encode(result)
        if not (isinstance(result, torch.Tensor) and result.requires_grad):
            return result
        inputs = _grad_inputs(args, kwargs)

        def backward(upstream: torch.Tensor) -> tuple[Any, ...]:
            grads = torch.autograd.grad(result, inputs, upstream, retain_graph=True, allow_unused=True)
            self.record.vjps[_vjp_key(key, upstream)] = self.record.encode(tuple(grads))
            return grads

        return _Through.apply(_Pending(backward), _Value(result.detach().clone()), *inputs)


class Replay:
    """``t.ref`` in a student bundle: answers the recorded calls, and says so plainly for any other."""

    def __init__(self, *, topic: str, record: Record):
        self._topic = topic
        self._record = record

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        if name in self._record.constants:
            return self._record.decode(self._record.constants[name])
        return lambda *args, **kwargs: self._call(name, args, kwargs)

    def _call(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        tree = self._record.calls.get(call_key(name, args, kwargs))
        if tree is None:
            raise NotRecorded(f"the recorded reference of topic {self._topic!r} has no answer for {name}() on these inputs: this check needs the reference for inputs it did not record; it runs at submission")
        result = self._record.decode(tree)
        if not (isinstance(tree, dict) and tree.get("grad")):
            return result
        inputs = _grad_inputs(args, kwargs)
        key = call_key(name, args, kwargs)

        def backward(upstream: torch.Tensor) -> tuple[Any, ...]:
            grads = self._record.vjps.get(_vjp_key(key, upstream))
            if grads is None:
                raise NotRecorded(f"the recorded reference of topic {self._topic!r} has no gradient of {name}() for this upstream gradient: this check needs the reference for inputs it did not record; it runs at submission")
            return self._record.decode(grads)

        return _Through.apply(_Pending(backward), _Value(result), *inputs)
