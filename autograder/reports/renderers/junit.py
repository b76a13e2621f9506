"""JUnit XML: a testsuite per topic, a testcase per check (failures carry the feedback), for CI test tabs. A check not
attempted is skipped, not failed: a fresh repository is a to-do list, not a wall of red."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from ...engine.results import ERROR, NOT_ATTEMPTED, PASSED, Report
from ..explain import said, topic_error

# What XML 1.0 cannot carry, escaped or not (its Char production): student text may hold control characters or lone
# surrogates, and one of them would make the whole file unreadable. Markup is plain ASCII, so replacing them in the
# serialised document touches text and attribute values only.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def render(report: Report) -> str:
    root = ET.Element("testsuites", name=report.course)
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for topic in report.topics:
        suite = ET.SubElement(root, "testsuite", name=topic.id, time=f"{topic.cpu_s:.3f}")  # CPU seconds: what limits.cpu_s counts
        counts = {"tests": len(topic.checks), "failures": 0, "errors": 0, "skipped": 0}
        for check in topic.checks:
            case = ET.SubElement(suite, "testcase", classname=topic.id, name=check.id, time=f"{check.cpu_s:.3f}")
            case.set("points", f"{check.points:g}/{check.max_points:g}")
            if check.status == PASSED:
                continue
            if check.status == ERROR:
                counts["errors"] += 1
                ET.SubElement(case, "error", message=check.message.splitlines()[0] if check.message else "error").text = said(check)
            elif check.status == NOT_ATTEMPTED:
                counts["skipped"] += 1
                ET.SubElement(case, "skipped", message=check.message.splitlines()[0] if check.message else NOT_ATTEMPTED)
            else:
                counts["failures"] += 1
                kind = (check.mistake or {}).get("id", "wrong answer")
                first = check.message.splitlines()[0] if check.message else check.status
                ET.SubElement(case, "failure", type=kind, message=first).text = said(check)
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
        if topic.output:
            ET.SubElement(suite, "system-out").text = topic.output
        if topic.error:
            ET.SubElement(suite, "system-err").text = topic_error(topic)
    for key, value in totals.items():
        root.set(key, str(value))
    ET.indent(root)
    return _NOT_XML.sub("\ufffd", ET.tostring(root, encoding="unicode", xml_declaration=True)) + "\n"
