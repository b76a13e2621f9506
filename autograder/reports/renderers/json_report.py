"""JSON: the results model as data (stable key order; the same submission renders identically but for the values of
the TIMINGS keys)."""

from __future__ import annotations

from ...engine.results import Report
from ..output import to_json


def render(report: Report) -> str:
    return to_json(report.to_dict(), sort_keys=True)
