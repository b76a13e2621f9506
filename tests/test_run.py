"""``grade run``'s choices before grading: what a bare ``grade`` grades, and which checks ``--check`` selects."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from autograder.errors import UsageError
from autograder.run import default_path, select_checks


@pytest.mark.parametrize(
    ("layout", "expected"),
    [
        pytest.param(["exercises/convolution.py"], ".", id="course-folder"),  # ./exercises is graded
        pytest.param(["convolution.py"], "here", id="cd-exercises"),
        pytest.param(["convolution.ipynb"], "here", id="cd-exercises-notebook"),
        pytest.param(["notes.txt"], ".", id="nothing-here"),  # the error then names ./exercises
    ],
)
def test_a_bare_grade_grades_exercises_or_the_folder_holding_the_topic_files(course, tmp_path: Path, layout: list[str], expected: str):
    for name in layout:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    assert default_path(tmp_path, course) == (tmp_path if expected == "here" else tmp_path / "exercises")


CHECKS = {"convolution": ["conv1d_full", "conv2d_dilation", "conv2d_per_axis", "hidden_conv2d"], "probability": ["marginal", "hidden_marginal"]}


def _checks_of(topic: str) -> list:
    return [SimpleNamespace(id=c) for c in CHECKS.get(topic, [])]


@pytest.mark.parametrize(
    ("patterns", "topics", "chosen"),
    [
        pytest.param(["conv1d_full"], [], {"convolution": ["conv1d_full"]}, id="one-id"),
        pytest.param(["conv2d_*"], [], {"convolution": ["conv2d_dilation", "conv2d_per_axis"]}, id="glob"),
        pytest.param(["*marginal"], [], {"probability": ["marginal", "hidden_marginal"]}, id="glob-across-hidden"),
        pytest.param(["probability.marginal", "conv1d_full"], [], {"convolution": ["conv1d_full"], "probability": ["marginal"]}, id="topic-dot-id"),
        pytest.param(["*"], ["probability"], {"probability": ["marginal", "hidden_marginal"]}, id="within-topic"),
    ],
)
def test_check_patterns_select_checks_in_grading_order(course, patterns, topics, chosen):
    assert select_checks(course, _checks_of, topics, patterns) == chosen


def test_a_check_pattern_that_matches_nothing_is_a_usage_error_that_says_where_ids_are(course):
    with pytest.raises(UsageError, match=r"--check conv3d: no check matches it; `grade list --checks`"):
        select_checks(course, _checks_of, [], ["conv1d_full", "conv3d"])
