"""The text report on a terminal while grading runs: each check's row as it finishes, a topic's score and explanations
when it ends, the same lines a file gets (``renderers.text``), wrapped to the terminal and coloured when it is one.

Rows of checks not attempted are held back until the topic shows it was started at all: a topic nobody touched is
one line, not a column of "todo".
"""

from __future__ import annotations

from typing import Any, TextIO

from rich.console import Console

from ..engine.results import NOT_ATTEMPTED, CheckResult, Report, TopicResult
from .renderers import text

__all__ = ["LiveReport"]


class LiveReport:
    """Receives ``Grader.grade``'s ``on_check``/``on_topic`` and prints as results come."""

    def __init__(self, *, course: str, titles: dict[str, str], submission: str, sandbox: str, devices: list[str], file: TextIO | None = None, width: int | None = None):
        self._titles = titles  # topic id -> title: a topic's first row comes before its result
        self.console: Console = text.console(file=file, width=width)
        self._status: Any = None
        self._held: list[CheckResult] = []
        self._printed: set[str] = set()  # check ids of the current topic already shown
        self._topic: str | None = None
        self._after_untouched = False
        self.width = self.console.width
        self._print(*text.header(Report(course, submission, sandbox, devices, []), self.width))

    def _print(self, *pieces: Any) -> None:
        for piece in pieces:
            self.console.print(piece)

    def _spin(self, what: str) -> None:
        if not self.console.is_terminal:
            return
        if self._status is None:
            self._status = self.console.status(what)
            self._status.start()
        else:
            self._status.update(what)

    def check(self, topic_id: str, result: CheckResult) -> None:
        if topic_id != self._topic:
            self._topic, self._held, self._printed = topic_id, [], set()
        if result.status == NOT_ATTEMPTED and not self._printed:
            self._held.append(result)
        else:
            if not self._printed:
                self._print(text.topic_title(TopicResult(topic_id, self._titles[topic_id], None, []), self.width))
                self._after_untouched = False
            self._print(*(text.row(c, self.width) for c in [*self._held, result]))
            self._printed.update(c.id for c in [*self._held, result])
            self._held = []
        self._spin(f"grading {topic_id}: {result.id} {result.status}")

    def topic(self, result: TopicResult) -> None:
        if text.untouched(result):
            self._print(text.untouched_line(result, self.width, first=not self._after_untouched))
            self._after_untouched = True
        else:
            if self._topic != result.id or not self._printed:
                self._print(text.topic_title(result, self.width))
                self._printed = set()
            self._print(*(text.row(c, self.width) for c in result.checks if c.id not in self._printed))
            self._print(*text.topic_end(result, self.width))
            self._after_untouched = False
        self._topic, self._held, self._printed = None, [], set()

    def finish(self, report: Report) -> None:
        self.stop()
        self._print(*text.footer(report, self.width))

    def stop(self) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None
