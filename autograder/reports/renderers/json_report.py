"""JSON: the results model as data (stable key order, no timings: the same submission renders byte-identically)."""

from __future__ import annotations

import json

from ...engine.results import Report


def render(report: Report) -> str:
    return json.dumps(report.to_dict(), indent=2, sort_keys=True) + "\n"
