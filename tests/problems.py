"""Seeded random CTC problems for the tests: fastctc.testing's generator, one for all."""

from fastctc.testing import CTCProblem as Problem
from fastctc.testing import random_ctc_problem as random_problem

__all__ = ["Problem", "random_problem"]
