"""``grade watch``: which saves regrade which topics, and that one warm grader gives the new result."""

from __future__ import annotations

import shutil
from pathlib import Path

from autograder.watch import Watcher

from conftest import ROOT


def test_a_save_regrades_its_topic_and_the_report_keeps_the_others(grader, course, tmp_path: Path):
    shutil.copy(ROOT / "exercises" / "probability.py", tmp_path / "probability.py")
    shutil.copy(ROOT / "solutions" / "information.py", tmp_path / "information.py")
    watcher = Watcher(folder=tmp_path, course=course, topics=["probability", "information"])
    first = watcher.grade(grader, watcher.topics, public_only=True)
    assert [(t.id, t.points) for t in first.topics] == [("probability", 0), ("information", first.topics[1].max_points)]
    assert watcher.changed() == []
    (tmp_path / "probability.py").write_text((ROOT / "solutions" / "probability.py").read_text())
    (tmp_path / "probability.py").touch()
    assert watcher.changed() == ["probability"]
    assert watcher.changed() == []  # seen once
    again = watcher.grade(grader, ["probability"], public_only=True)
    assert [t.id for t in again.topics] == ["probability", "information"]
    assert again.topics[0].points == again.topics[0].max_points > 0


def test_an_unchanged_save_regrades_nothing_and_a_helper_module_regrades_every_topic_present(course, tmp_path: Path):
    (tmp_path / "probability.py").write_text("x = 1\n")
    (tmp_path / "information.py").write_text("x = 1\n")
    watcher = Watcher(folder=tmp_path, course=course, topics=[])
    (tmp_path / "probability.py").write_text("x = 1\n")  # saved without a change
    assert watcher.changed() == []
    (tmp_path / "helpers.py").write_text("y = 2\n")
    assert watcher.changed() == ["probability", "information"]
