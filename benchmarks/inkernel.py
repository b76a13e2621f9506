"""The nbgrader baseline of benchmarks/batch_vs_nbgrader.py: the course's own checks run *inside* the notebook's
Jupyter kernel, against the notebook's namespace, the way nbgrader test cells run (same checks, same inputs, no
sandbox, no separate process). A failing check raises, so nbgrader scores its cell 0.
"""

from __future__ import annotations

import importlib
import types
from pathlib import Path
from typing import Any

import numpy as np

from autograder.course.config import load_course
from autograder.engine.checks import Trial, checks_in
from autograder.engine.seeding import check_seed, digest
from autograder.sandbox.worker import _Session, to_wire


def _request(session: _Session):  # type: ignore[no-untyped-def]
    def request(header: dict[str, Any], arrays: list[np.ndarray]) -> tuple[dict[str, Any], list[np.ndarray]]:
        try:
            values = session.run(header["program"], header["returns"], arrays)
            out: list[np.ndarray] = []
            return {"ok": True, "values": [to_wire(v, out) for v in values]}, out
        except Exception as exc:  # noqa: BLE001 - the student's error becomes the check's failure, as in the worker
            return {"ok": False, "error": {"type": type(exc).__name__, "message": str(exc), "step": session.step}}, []

    return request


def check(course_file: str, topic: str, check_ids: list[str], namespace: dict[str, Any]) -> None:
    """Run ``check_ids`` of ``topic`` on the functions in ``namespace`` (the notebook's globals)."""
    course = load_course(Path(course_file))
    reference = importlib.import_module(f"solutions.{topic}")
    found = {}
    for kind in ("public", "hidden"):
        try:
            found.update({c.id: (c, kind == "hidden") for c in checks_in(importlib.import_module(f"checks.{kind}.{topic}"))})
        except ImportError:
            pass
    module = types.ModuleType(topic)
    module.__dict__.update(namespace)
    session = _Session("cpu")
    session.module = module
    failures = []
    for check_id in check_ids:
        chk, hidden = found[check_id]
        seed = check_seed(topic=topic, check=check_id, hidden=hidden, public_seed=course.public_seed, secret=b"benchmark", submission=digest(b"in-kernel"))
        trial = Trial(rng=np.random.default_rng(seed), device="cpu", reference=reference, tolerance=lambda dtype: course.tolerance(dtype, "cpu"), request=_request(session), autograd=chk.autograd)
        try:
            chk.fn(trial)
        except Exception as exc:  # noqa: BLE001 - collected, then raised once: the cell fails
            failures.append(f"{check_id}: {exc}")
    if failures:
        raise AssertionError("\n".join(failures))
