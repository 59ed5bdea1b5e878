"""Seeded random CTC problems for the tests: fastctc.testing's generator, one for all."""

from fastctc.testing import CTCProblem as Problem
from fastctc.testing import random_ctc_problem as random_problem

# (frames, classes, label, blank): all label shapes, including repeats and empty.
TINY_CASES = [
    (1, 2, [], 0),
    (1, 2, [1], 0),
    (3, 3, [], 2),
    (4, 3, [1], 0),
    (4, 3, [1, 2], 0),
    (4, 3, [1, 1], 0),
    (3, 3, [1, 1], 0),  # exactly the minimal length: one path
    (2, 3, [1, 1], 0),  # impossible
    (5, 4, [1, 1, 1], 0),
    (5, 4, [2, 0, 2], 3),  # blank last
    (6, 4, [0, 2, 2, 0], 1),  # blank in the middle
    (6, 4, [3, 3], 1),
    (6, 3, [1, 2, 1, 2], 0),
    (6, 4, [0, 1, 2], 3),
    (5, 2, [1, 1], 0),  # a two-class alphabet
]
CASE_IDS = [
    f"T{t}-C{c}-l{''.join(map(str, label)) or 'empty'}-b{b}" for t, c, label, b in TINY_CASES
]

__all__ = ["CASE_IDS", "TINY_CASES", "Problem", "random_problem"]
