"""JSON: the results model as data (stable key order, no timings: the same submission renders byte-identically)."""

from __future__ import annotations

from ...engine.results import Report
from ..output import to_json


def render(report: Report) -> str:
    return to_json(report.to_dict(), sort_keys=True)
