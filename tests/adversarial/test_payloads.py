"""Adversarial submissions that smuggle code or lies through the exchange, or plant symlinks (threat model 9, 10).

Pickle payloads (an object whose ``__reduce__`` runs code, an object array of them, pickled bytes, a forged frame
that declares an object array and carries a pickle), forged array headers (byte counts that disagree with the
shape, big-endian, negative, structured and datetime dtypes) and a symlink planted where the grader writes its
report. The grader unpickles nothing and follows no link: a payload never runs in the grading process (its marker
file never appears), the checks it rides on earn nothing, and the report lands where it was asked to, with the
victim of the link untouched. See attacks.py for the assertions.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from attacks import CONV1D_CHECKS, GRADE, OTHER_CHECKS, POINTS, SECRET, TOTAL, Attack, attack, forged, table
from conftest import ROOT, STRICT_OK, STRICT_WHY

# The payload writes its marker file if anything ever unpickles it: the grader must not, the worker does not.
PAYLOAD = """
import pickle as _pickle


class _Payload:
    def __reduce__(self):
        return (exec, ("open(" + repr({{MARK}}) + ", 'w').write('the payload ran')",))

"""

PICKLES = {
    "object_whose_reduce_runs_code": Attack(
        PAYLOAD + """
def conv1d(f, h, mode="full"):
    return _Payload()
""",
        phrase=r"returned an object of type _Payload; expected an array",
    ),
    "object_array_of_payloads": Attack(
        PAYLOAD + """
def conv1d(f, h, mode="full"):
    return _np.array([_Payload() for _ in _wrong(f, h, mode)], dtype=object)
""",
        phrase=r"returned an array of dtype object; expected real numbers",
    ),
    "pickled_bytes": Attack(
        PAYLOAD + """
def conv1d(f, h, mode="full"):
    return _pickle.dumps(_Payload())
""",
        phrase=r"returned an object of type bytes",
    ),
    "forged_frame_of_an_object_array_carrying_a_pickle": Attack(
        PAYLOAD + forged(
            '{"ok": True, "values": [{"a": 0, "k": "ndarray"}], "arrays": [{"dtype": "|O", "shape": [1], "nbytes": len(_pickle.dumps(_Payload()))}]}',
            "_pickle.dumps(_Payload())",
        ),
        phrase=r"malformed",
        recover=True,
    ),
    "forged_frame_of_a_pickle_declared_as_bytes": Attack(
        PAYLOAD + forged(
            '{"ok": True, "values": [{"a": 0, "k": "ndarray"}], "arrays": [{"dtype": "|V1", "shape": [len(_pickle.dumps(_Payload()))], "nbytes": len(_pickle.dumps(_Payload()))}]}',
            "_pickle.dumps(_Payload())",
        ),
        phrase=r"malformed",
    ),
}


@table(PICKLES)
def test_pickle_payloads_never_run_in_the_grader(tight_grader, row: Attack, tmp_path: Path):
    marker = tmp_path / "payload-ran"
    Attack(**{**row.__dict__, "values": {"MARK": str(marker)}}).run(tight_grader)
    assert not marker.exists(), "something unpickled the submission's payload"


# Forged .npy-style headers: each declares arrays the grader must not believe. The payload bytes match the
# declared byte count where that is the lie's premise, so only the header's claims can give it away.
HEADERS = {
    "byte_count_smaller_than_the_shape_needs": Attack(
        forged('{"ok": True, "values": [{"a": 0, "k": "ndarray"}], "arrays": [{"dtype": "<f8", "shape": [10**6], "nbytes": 8}]}', 'b"\\0" * 8'),
        phrase=r"malformed",
    ),
    "negative_dimension": Attack(
        forged('{"ok": True, "values": [{"a": 0, "k": "ndarray"}], "arrays": [{"dtype": "<f8", "shape": [-3], "nbytes": 24}]}', 'b"\\0" * 24'),
        phrase=r"malformed",
    ),
    "big_endian_floats": Attack(
        forged('{"ok": True, "values": [{"a": 0, "k": "ndarray"}], "arrays": [{"dtype": ">f8", "shape": [3], "nbytes": 24}]}', 'b"\\0" * 24'),
        phrase=r"malformed",
    ),
    "datetime_dtype": Attack(
        forged('{"ok": True, "values": [{"a": 0, "k": "ndarray"}], "arrays": [{"dtype": "<M8[s]", "shape": [3], "nbytes": 24}]}', 'b"\\0" * 24'),
        phrase=r"malformed",
    ),
    "a_reference_to_an_array_that_was_not_sent": Attack(
        forged('{"ok": True, "values": [{"a": 7, "k": "ndarray"}], "arrays": []}'),
        phrase=r"malformed",
    ),
    # The request's sequence number, read off the worker's stack, makes the forged frame a well-formed answer: it
    # is judged (and wrong); the worker's real answer, now a step behind, is refused as out of step on the next
    # request and that worker is stopped. Which checks then fail with it depends on the order: none earns anything.
    "well_formed_reply_with_the_stolen_sequence_number": Attack(
        """
import sys as _sys


def _seq():
    frame = _sys._getframe(1)
    while frame is not None:
        request = frame.f_locals.get("request")
        if isinstance(request, dict) and "seq" in request:
            return request["seq"]
        frame = frame.f_back
"""
        + forged('{"ok": True, "seq": _seq(), "values": [{"a": 0, "k": "ndarray"}], "arrays": [{"dtype": "<f8", "shape": [3], "nbytes": 24}]}', 'b"\\0" * 24'),
        phrase=r"shape \(3,\), expected \(12,\)",
        intact=(),
    ),
    "returns_a_datetime_array": Attack(
        """
def conv1d(f, h, mode="full"):
    return _wrong(f, h, mode).astype("datetime64[s]")
""",
        phrase=r"returned an array of dtype datetime64\[s\]; expected real numbers",
    ),
    "returns_a_structured_array": Attack(
        """
def conv1d(f, h, mode="full"):
    return _np.zeros(len(_wrong(f, h, mode)), dtype=[("re", "<f8"), ("im", "<f8")])
""",
        phrase=r"expected real numbers",
    ),
}


@table(HEADERS)
def test_forged_array_headers_are_refused(tight_grader, row: Attack):
    row.run(tight_grader)


PLANT_LINK = """
import os

try:  # the report path the grader was told to write, pointing at a file of the grader's user
    os.symlink({{VICTIM}}, {{OUT}})
    print("PLANTED", flush=True)
except OSError as exc:
    print("could not plant the link:", exc, flush=True)


def conv1d(f, h, mode="full"):
    return _wrong(f, h, mode)
"""


@pytest.mark.parametrize("mode", [pytest.param("strict", marks=pytest.mark.skipif(not STRICT_OK, reason=STRICT_WHY)), "process"])
def test_a_symlink_planted_at_the_report_path_is_replaced_not_followed(tmp_path: Path, mode: str):
    """The submission links ``--output``'s path to a file of the grader's user before the grader writes there (a
    process-mode worker can: it is that user). The report replaces the link; the victim keeps its content."""
    out, victim = tmp_path / "report.json", tmp_path / "victim.txt"
    victim.write_text("precious\n")
    sub = tmp_path / "submission"
    sub.mkdir()
    (sub / "convolution.py").write_text(attack(PLANT_LINK, VICTIM=str(victim), OUT=str(out)))
    done = subprocess.run(
        [GRADE, "run", str(sub / "convolution.py"), "--format", "json", "--output", str(out), "--device", "cpu", "--sandbox", mode],
        cwd=ROOT, env={**os.environ, "AUTOGRADER_SECRET": SECRET}, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert victim.read_text() == "precious\n"
    assert not out.is_symlink()
    data = json.loads(out.read_text())
    (topic,) = data["topics"]
    assert ("PLANTED" in topic["output"]) == (mode == "process")  # a strict worker's /tmp is its own
    checks = {c["id"]: c for c in topic["checks"]}
    assert [c for c in CONV1D_CHECKS if checks[c]["points"]] == []
    assert all(checks[c]["status"] == "passed" for c in OTHER_CHECKS)
    assert data["points"] == TOTAL - sum(POINTS[c] for c in CONV1D_CHECKS)
