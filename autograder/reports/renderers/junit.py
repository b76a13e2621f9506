"""JUnit XML: a testsuite per topic, a testcase per check (failures carry the feedback), for CI test tabs."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from ...engine.results import ERROR, NOT_ATTEMPTED, PASSED, Report

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _clean(text: str) -> str:
    """Student output may hold characters XML 1.0 cannot carry; they would make the whole file unreadable."""
    return _NOT_XML.sub("\ufffd", text)


def render(report: Report) -> str:
    root = ET.Element("testsuites", name=report.course)
    totals = {"tests": 0, "failures": 0, "errors": 0}
    for topic in report.topics:
        suite = ET.SubElement(root, "testsuite", name=topic.id)
        counts = {"tests": len(topic.checks), "failures": 0, "errors": 0}
        for check in topic.checks:
            case = ET.SubElement(suite, "testcase", classname=topic.id, name=check.id)
            case.set("points", f"{check.points:g}/{check.max_points:g}")
            if check.status == PASSED:
                continue
            if check.status == ERROR:
                counts["errors"] += 1
                ET.SubElement(case, "error", message=_clean(check.message.splitlines()[0]) if check.message else "error").text = _clean(check.message)
            else:
                counts["failures"] += 1
                kind = "not attempted" if check.status == NOT_ATTEMPTED else (check.mistake or {}).get("id", "wrong answer")
                first = check.message.splitlines()[0] if check.message else check.status
                ET.SubElement(case, "failure", type=kind, message=_clean(first)).text = _clean(check.message)
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
        if topic.output:
            ET.SubElement(suite, "system-out").text = _clean(topic.output)
        if topic.error:
            ET.SubElement(suite, "system-err").text = _clean(topic.error)
    for key, value in totals.items():
        root.set(key, str(value))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
