"""A deep-learning course autograder: checks run in the grader, student code in a sandboxed worker.

Each subpackage holds one idea and imports only those listed before it (tests/test_layout.py fails otherwise):
``sandbox`` (the only place student code runs, and what confines it), ``course`` (what is graded and against what),
``engine`` (the referee), ``reports`` (results for people and machines), ``release`` and ``selftest`` (what students
and other graders get; proof that the checks can grade). Above them ``run`` and ``batch`` grade one submission and a
class, and ``cli`` is the ``grade`` command. ``errors``, the exception family, may be imported from anywhere.
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
