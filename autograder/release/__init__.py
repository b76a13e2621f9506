"""What leaves the course repository, built from its own files: the student bundle (``bundle``, ``grade release
student``), nbgrader notebooks (``nbgrader_release``) and their autograde step, and the Gradescope autograder
(``gradescope_build``) with what it runs per submission (``gradescope_run``).

Two modules are loaded by path from what a release writes, not from here: ``notebook`` (the released notebooks' test
cells) and ``nbgrader_plugin`` (named in nbgrader_config.py; it needs nbgrader).
"""

from . import bundle, gradescope_build, gradescope_run, nbgrader_release
from .nbgrader_release import HIDDEN_CELL, build_notebook

__all__ = ["bundle", "gradescope_build", "gradescope_run", "nbgrader_release", "build_notebook", "HIDDEN_CELL"]
