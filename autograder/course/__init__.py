"""What is graded and against what: the course declared in course.yaml (``config``), a student's submission, as modules
or notebooks (``submission``, ``notebooks``), and the reference answered from a record in a student bundle
(``recorded``; it imports torch, so it is imported by its own path, not from here).
"""

from .config import DEVICES, RECORDED, SOLUTIONS, Course, Hidden, Limits, SelfTest, Tolerance, Topic, find_course_file, load_course, locate_course
from .notebooks import NotebookError, code_of_cells, is_test_cell, notebook_code
from .submission import MAX_SOURCE_BYTES, SUFFIXES, Source, Submission

__all__ = [
    "Course", "Topic", "Limits", "SelfTest", "Tolerance", "Hidden", "load_course", "find_course_file", "locate_course", "DEVICES", "SOLUTIONS", "RECORDED",
    "NotebookError", "notebook_code", "code_of_cells", "is_test_cell",
    "Submission", "Source", "MAX_SOURCE_BYTES", "SUFFIXES",
]
