"""Proof that a topic's checks can grade (``grade selftest``): the reference passes, the stub is not attempted, results
repeat, every check's inputs change with the seed, and single-point mutants of the reference (``mutation``) lose points; ``runner`` grades them, ``report``
holds the outcome and ``render`` prints it.
"""

from .mutation import KINDS, Mutant, mutants, same_bytecode
from .render import render
from .report import EQUIVALENT, KILLED, SURVIVED, MutantResult, SelfTestReport, TopicSelfTest
from .runner import run, selftest_topic

__all__ = ["run", "selftest_topic", "render", "KINDS", "Mutant", "mutants", "same_bytecode", "KILLED", "SURVIVED", "EQUIVALENT", "MutantResult", "TopicSelfTest", "SelfTestReport"]
