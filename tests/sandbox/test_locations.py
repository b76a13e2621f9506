"""Where a line of a submission is (autograder.sandbox.locations): a notebook's line map, and the stack a stopped
worker dumps, which the submission may forge."""

from __future__ import annotations

import pytest

from autograder.sandbox.locations import MAX_CELLS, cell_map, line_in, stacks_in, stopped_at

CELLS = ((2, 3, 2, "cell-a"), (7, 1, 4, ""))  # cell 2: module lines 2-4; cell 4: line 7


@pytest.mark.parametrize(
    "line, expected",
    [
        pytest.param(2, "cell 2 (id cell-a), line 1", id="first-line"),
        pytest.param(4, "cell 2 (id cell-a), line 3", id="last-line"),
        pytest.param(7, "cell 4, line 1", id="no-id"),
        pytest.param(5, "cell 2 (id cell-a), line 3", id="between-cells-is-the-end-of-the-one-before"),
        pytest.param(1, "line 1", id="before-the-first-cell"),
    ],
)
def test_a_module_line_is_a_cell_and_a_line_of_it(line: int, expected: str):
    assert line_in(CELLS, line) == expected


@pytest.mark.parametrize(
    "value, message",
    [
        pytest.param("cells", "cells: expected a list of at most", id="not-a-list"),
        pytest.param([[1, 1, 1]], r"cells\[0\]: expected \[first line, lines, cell number, id\]", id="three-items"),
        pytest.param([[1, 1, 0, "a"]], r"cells\[0\]", id="cell-zero"),
        pytest.param([[1, 1, True, "a"]], r"cells\[0\]", id="a-bool-is-not-a-number"),
        pytest.param([[1, 1, 1, "a\nb"]], r"cells\[0\]", id="an-id-with-a-newline"),
        pytest.param([[1, 1, 1, "x" * 65]], r"cells\[0\]", id="a-long-id"),
        pytest.param([[1, 3, 1, ""], [2, 1, 2, ""]], r"cells\[1\]: starts at module line 2, inside the cell before it", id="overlapping"),
        pytest.param([[1, 1, 1, ""]] * (MAX_CELLS + 1), "at most", id="too-many"),
    ],
)
def test_a_line_map_that_is_not_one_is_refused(value, message: str):
    with pytest.raises(ValueError, match=message):
        cell_map(value)


DUMP = b"""Thread 0x00007f0000000001 (most recent call first):
  File "/usr/lib/python3.11/threading.py", line 320 in wait
  File "toy.py", line 12 in spin

Current thread 0x00007f0000000002 (most recent call first):
  File "/work/autograder/sandbox/worker.py", line 230 in student
  File "toy.py", line 7 in scale
  File "/work/autograder/sandbox/worker.py", line 330 in serve
"""


@pytest.mark.parametrize(
    "data, expected",
    [
        pytest.param(DUMP, ((("/work/autograder/sandbox/worker.py", 230, "student"), ("toy.py", 7, "scale"), ("/work/autograder/sandbox/worker.py", 330, "serve")), (("/usr/lib/python3.11/threading.py", 320, "wait"), ("toy.py", 12, "spin"))), id="the-signalled-thread-first"),
        pytest.param(b"part of a frame\x00\xff" + DUMP[: DUMP.index(b"toy.py")], ((("/usr/lib/python3.11/threading.py", 320, "wait"),),), id="cut-short-after-garbage"),
        pytest.param(b'  File "toy.py", line 7 in scale\n', (), id="frames-without-a-thread-line"),
        pytest.param(b'Stack (most recent call first):\n  File "toy.py", line 7 in x; rm -rf\n', (), id="a-function-name-that-is-not-one"),
    ],
)
def test_a_stack_dump_reads_as_what_it_holds(data: bytes, expected):
    assert stacks_in(data) == expected


SOURCE = '"""Toy."""\n\n\ndef scale(x):\n    y = x\n    \x1b[2Jwhile True: pass\n    while True: pass\n'


@pytest.mark.parametrize(
    "stacks, cells, expected",
    [
        pytest.param(stacks_in(DUMP), {}, "stopped while running toy.py, line 7, in scale: `while True: pass`", id="innermost-own-frame"),
        pytest.param([[("toy.py", 7, "scale")]], {"toy.py": ((5, 3, 3, "c"),)}, "stopped while running toy.py, cell 3 (id c), line 3, in scale: `while True: pass`", id="notebook-cell"),
        pytest.param([[("toy.py", 6, "scale")]], {}, "stopped while running toy.py, line 6, in scale: `\ufffd[2Jwhile True: pass`", id="no-terminal-escape-quoted"),
        pytest.param([[("/secret/solutions/toy.py", 3, "ref"), ("toy.py", 99, "scale")]], {}, "", id="forged-other-file-and-line-past-the-end"),
        pytest.param([], {}, "", id="no-dump"),
    ],
)
def test_where_a_stopped_worker_was_is_a_line_of_the_submission_quoted_from_the_graders_copy(stacks, cells, expected: str):
    assert stopped_at(stacks, files={"toy.py": SOURCE}, cells=cells) == expected


LOOPS = """def f(x):
    y = 0
    while True:
        for i in range(3):
            y += helper(i)
    return y


def helper(i):
    return i * 2


while 1:
    pass
"""


@pytest.mark.parametrize(
    "frames, expected",
    [
        pytest.param([("a.py", 5, "f")], "line 3, in f: `while True:`", id="inner-loop-body-is-the-outer-loop"),
        pytest.param([("a.py", 4, "f")], "line 3, in f: `while True:`", id="inner-loop-header"),
        pytest.param([("a.py", 3, "f")], "line 3, in f: `while True:`", id="outer-loop-header"),
        pytest.param([("a.py", 10, "helper"), ("a.py", 5, "f")], "line 3, in f: `while True:`", id="a-call-in-the-loop"),
        pytest.param([("a.py", 14, "<module>")], "line 13, in <module>: `while 1:`", id="module-level"),
        pytest.param([("a.py", 2, "f")], "line 2, in f: `y = 0`", id="no-loop-the-line-itself"),
    ],
)
def test_where_a_loop_was_stopped_does_not_depend_on_when(frames, expected: str):
    """A sample of a looping stack lands anywhere in the loop: any of them names the loop, so a report is the same
    whatever the machine's load."""
    assert stopped_at([frames], files={"a.py": LOOPS}, cells={}) == f"stopped while running a.py, {expected}"
