"""The sandbox: the only place student code runs (``worker``, forked by ``forkserver``) and everything that confines it
(``confinement``: namespaces, an unprivileged uid, keyrings, limits; ``rootfs``: the allow-listed file system a strict
worker sees), the wire format it answers in (``exchange``), where a line of a submission is (``locations``: a
notebook's cells, the stack of a stopped worker), the grader's side of a worker (``workers``, timed by ``cputime``),
and what the worker offers checks (``components``, ``autograd_guard``, ``library_guard``).

Nothing here imports the referee: student code never shares a process with the grader's state.
"""

from __future__ import annotations

import importlib
from typing import Any

# Public name -> the module that defines it, imported on first use: a worker imports this package on its way to
# ``autograder.sandbox.worker``, and must not load the grader's side of the sandbox with it.
_EXPORTS = {
    **dict.fromkeys(["Spawner", "Worker", "WorkerDied", "WorkerTimeout", "Clock", "describe_mode", "CPU", "BLOCKED", "STARVED", "STARVED_AFTER"], "workers"),
    **dict.fromkeys(["Meter", "Usage"], "cputime"),
    "ForkServer": "forkserver",
    **dict.fromkeys(["Confinement", "MemoryCgroup", "strict_available", "user_processes", "STRICT", "PROCESS", "MODES", "ROOTLESS"], "confinement"),
    **dict.fromkeys(["ExchangeError", "encode", "read_frame", "write_frame"], "exchange"),
    "AutogradNotAllowed": "autograd_guard",
    "LibraryNotAllowed": "library_guard",
}

__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
