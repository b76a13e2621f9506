"""The package's exception family: each error carries the exit code the CLI returns for it."""

from __future__ import annotations

__all__ = ["GraderError", "ConfigError", "UsageError", "SandboxUnavailable", "InternalError", "ResultsUnwritable", "ClusterLost"]


class GraderError(Exception):
    """Base of every error the grader reports to a user; ``exit_code`` is what ``grade`` exits with."""

    exit_code = 1


class ConfigError(GraderError):
    """course.yaml (or a file it names) is invalid; the message names the file, the key path and what was expected."""

    exit_code = 2


class UsageError(GraderError):
    """The command line asked for something impossible (an unknown topic, CUDA without a GPU, ...)."""

    exit_code = 2


class SandboxUnavailable(UsageError):
    """The requested sandbox mode cannot be provided on this machine."""


class InternalError(GraderError):
    """A bug in a check or in the grader: grading fails closed (no points) and exits non-zero."""

    exit_code = 3


class ResultsUnwritable(GraderError):
    """The results folder cannot be written (full, read-only): what was written stays valid; run again to go on."""

    exit_code = 2


class ClusterLost(GraderError):
    """``grade batch --cluster``: the scheduler went away, or no worker could grade for a while; what was graded is kept."""

    exit_code = 2
