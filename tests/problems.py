"""Seeded random CTC problems for the tests."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Problem:
    inputs: np.ndarray  # (T, N, C)
    labels: list[np.ndarray]  # N 1-D int arrays
    input_lengths: np.ndarray  # (N,) int64
    blank: int  # in [0, C)

    @property
    def label_lengths(self) -> np.ndarray:
        return np.array([len(label) for label in self.labels], dtype=np.int64)

    def padded_labels(self, pad: int = -1) -> np.ndarray:
        width = max([len(label) for label in self.labels], default=0)
        padded = np.full((len(self.labels), width), pad, dtype=np.int64)
        for n, label in enumerate(self.labels):
            padded[n, : len(label)] = label
        return padded

    def concatenated_labels(self) -> np.ndarray:
        return np.concatenate([*self.labels, np.empty(0, np.int64)]).astype(np.int64)


def random_problem(
    rng: np.random.Generator,
    frames: int,
    batch: int,
    classes: int,
    max_label: int,
    *,
    blank: int = 0,
    variable_lengths: bool = True,
    dtype: type = np.float64,
    scale: float = 1.0,
) -> Problem:
    """Random logits and feasible labels: each input length fits its label and repeats."""
    blank %= classes
    non_blank = np.array([k for k in range(classes) if k != blank])
    inputs = (scale * rng.standard_normal((frames, batch, classes))).astype(dtype)
    labels, lengths = [], []
    for _ in range(batch):
        length = int(rng.integers(frames // 2, frames + 1)) if variable_lengths else frames
        label_length = int(rng.integers(0, max_label + 1)) if variable_lengths else max_label
        label = rng.choice(non_blank, size=label_length)
        while label.size and label.size + np.sum(label[1:] == label[:-1]) > length:
            label = label[:-1]
        labels.append(label.astype(np.int64))
        lengths.append(length)
    return Problem(inputs, labels, np.array(lengths, dtype=np.int64), blank)


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
