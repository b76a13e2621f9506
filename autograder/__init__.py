"""A deep-learning course autograder: checks run in the grader, student code in a sandboxed worker."""

__all__ = ["__version__"]

__version__ = "0.1.0"
