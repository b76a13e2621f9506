"""Renderers of the results model: one module per output format, each ``render(report) -> str``."""

from __future__ import annotations

from typing import Callable

from ...engine.results import Report
from . import gradescope, html, json_report, junit, markdown, text

__all__ = ["FORMATS", "render"]

FORMATS: dict[str, Callable[[Report], str]] = {
    "text": text.render,
    "json": json_report.render,
    "gradescope": gradescope.render,
    "junit": junit.render,
    "markdown": markdown.render,
    "html": html.render,
}


def render(report: Report, fmt: str) -> str:
    return FORMATS[fmt](report)
