"""What a report says about each check in words a student acts on: the call that was not attempted, and each named
mistake explained once per topic (a mistake found by five checks is explained under the first, referred to after)."""

from __future__ import annotations

from ..engine.results import NOT_ATTEMPTED, CheckResult, TopicResult

__all__ = ["missing", "messages"]

_NOT_ATTEMPTED = ": not attempted"


def missing(check: CheckResult) -> str:
    """The function or operation a not-attempted check found missing (``v0.log()``), or ""."""
    if check.status != NOT_ATTEMPTED or _NOT_ATTEMPTED not in check.message:
        return ""
    return check.message.split(_NOT_ATTEMPTED, 1)[0].strip()


def messages(topic: TopicResult) -> dict[str, str]:
    """Check id -> its message, where a mistake explained by an earlier check of the topic is referred to instead."""
    first: dict[str, str] = {}
    found: dict[str, str] = {}
    for check in topic.checks:
        message = check.message
        mistake = check.mistake
        if mistake:
            explanation = f"{mistake['title']}. {mistake['fix']}"
            if mistake["id"] in first and explanation in message:
                message = message.replace(explanation, f"{mistake['title']} ({mistake['id']}: explained under {first[mistake['id']]})")
            first.setdefault(mistake["id"], check.id)
        found[check.id] = message
    return found
