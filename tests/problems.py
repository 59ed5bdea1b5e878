"""Seeded random CTC problems for the tests: fastctc.testing's generator, one for all, and
the tiny cases small enough to enumerate every alignment of."""

from dataclasses import dataclass

import numpy as np

from fastctc import reference
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


@dataclass(frozen=True)
class TinyCase:
    """One sequence of TINY_CASES with random inputs, as logits or as log-probabilities."""

    inputs: np.ndarray  # (frames, 1, classes), as passed to fastctc
    log_y: np.ndarray  # (frames, classes): the log-probabilities those inputs mean
    label: list[int]
    blank: int
    log_probs: bool

    @property
    def frames(self) -> int:
        return self.log_y.shape[0]


def tiny_case(
    rng: np.random.Generator, case: tuple[int, int, list[int], int], log_probs: bool
) -> TinyCase:
    frames, classes, label, blank = case
    inputs = rng.standard_normal((frames, 1, classes)) * 2.0
    log_y = inputs[:, 0] if log_probs else reference.log_softmax(inputs[:, 0])
    return TinyCase(inputs, log_y, label, blank, log_probs)


__all__ = ["CASE_IDS", "TINY_CASES", "Problem", "TinyCase", "random_problem", "tiny_case"]
