"""What a report says about each check in words a student acts on: the call that was not attempted, and each named
mistake explained once per topic (a mistake found by five checks is explained under the first, referred to after)."""

from __future__ import annotations

from ..engine.results import NOT_ATTEMPTED, CheckResult, TopicResult

__all__ = ["missing", "messages", "said", "topic_error"]

_NOT_ATTEMPTED = ": not attempted"


def missing(check: CheckResult) -> str:
    """The function or operation a not-attempted check found missing (``v0.log()``), or ""."""
    if check.status != NOT_ATTEMPTED or _NOT_ATTEMPTED not in check.message:
        return ""
    return check.message.split(_NOT_ATTEMPTED, 1)[0].strip()


def said(check: CheckResult) -> str:
    """The check's message, with where its worker was stopped when it ran out of time."""
    return f"{check.message}\n{check.stopped_at}" if check.stopped_at else check.message


def topic_error(topic: TopicResult) -> str | None:
    """The topic's error, with where its import was stopped when it ran out of time."""
    return f"{topic.error}\n{topic.stopped_at}" if topic.error and topic.stopped_at else topic.error


def messages(topic: TopicResult) -> dict[str, str]:
    """Check id -> its message, where a mistake explained by an earlier check of the topic is referred to instead."""
    first: dict[str, str] = {}
    found: dict[str, str] = {}
    for check in topic.checks:
        message = said(check)
        mistake = check.mistake
        if mistake:
            explanation = f"{mistake['title']}. {mistake['fix']}"
            if mistake["id"] in first and explanation in message:
                message = message.replace(explanation, f"{mistake['title']} ({mistake['id']}: explained under {first[mistake['id']]})")
            first.setdefault(mistake["id"], check.id)
        found[check.id] = message
    return found
