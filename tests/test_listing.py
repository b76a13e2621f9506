"""``grade list``: the functions each topic's stub asks for, and which ones a submission has attempted."""

from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner

from autograder import cli
from autograder.listing import functions

from conftest import ROOT


def test_the_functions_of_a_stub_are_its_public_functions_and_its_methods():
    stub = "def f(x):\n    raise NotImplementedError\n\ndef _helper():\n    pass\n\nclass Value:\n    def __add__(self, o):\n        raise NotImplementedError\n"
    assert functions(stub) == ["f", "Value.__add__"]


def test_list_marks_what_the_submission_attempted(tmp_path: Path):
    shutil.copy(ROOT / "examples" / "submission" / "convolution.py", tmp_path / "convolution.py")
    (tmp_path / "probabilty.py").write_text("x = 1\n")
    result = CliRunner().invoke(cli.main, ["list", str(tmp_path), "--course", str(ROOT / "course.yaml"), "--checks"])
    assert result.exit_code == 0, result.output
    assert "convolution  Convolutions  45 points  7/8 attempted (convolution.py)" in result.output
    assert "  todo  receptive_field" in result.output and "  done  conv1d" in result.output
    assert "probability  Probability  46 points  0/9 attempted (no file)" in result.output
    assert "conv1d_full (2)" in result.output
    assert "did you mean probability.py?" in " ".join(result.output.split())
