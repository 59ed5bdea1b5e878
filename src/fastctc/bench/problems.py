"""The benchmark's shapes and the seeded problems it times every implementation on."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class Shape:
    """T frames, N sequences, C classes, labels of up to L; variable lengths or not."""

    frames: int
    batch: int
    classes: int
    labels: int
    variable: bool = False

    @classmethod
    def parse(cls, text: str) -> Shape:
        """``T,N,C,L`` or ``T,N,C,L,var`` (input and label lengths vary)."""
        parts = [part.strip() for part in text.split(",")]
        variable = len(parts) == 5 and parts[4] == "var"
        if len(parts) not in (4, 5) or (len(parts) == 5 and not variable):
            raise ValueError(f"a shape is T,N,C,L or T,N,C,L,var, but got {text!r}")
        try:
            frames, batch, classes, labels = (int(part) for part in parts[:4])
        except ValueError:
            raise ValueError(
                f"a shape is four integers T,N,C,L (and var), but got {text!r}"
            ) from None
        if min(frames, batch, labels) < 1 or classes < 2:
            raise ValueError(f"a shape needs T, N, L >= 1 and C >= 2, but got {text!r}")
        return cls(frames, batch, classes, labels, variable)

    def with_batch(self, batch: int) -> Shape:
        return Shape(self.frames, batch, self.classes, self.labels, self.variable)

    def __str__(self) -> str:
        text = f"T={self.frames} N={self.batch} C={self.classes} L={self.labels}"
        return text + (" var" if self.variable else "")


# warp-ctc's published shapes, then two with variable lengths.
DEFAULT_SHAPES = (
    Shape(150, 32, 28, 40),
    Shape(150, 32, 5000, 20),
    Shape(800, 16, 32, 150, variable=True),
    Shape(250, 32, 1024, 60, variable=True),
)


@dataclass(frozen=True)
class Problem:
    """Logits (T, N, C), padded labels (N, L) with blank 0, and the lengths."""

    logits: npt.NDArray[np.floating]
    labels: npt.NDArray[np.int64]
    input_lengths: npt.NDArray[np.int64]
    label_lengths: npt.NDArray[np.int64]


def make_problem(shape: Shape, dtype: type, seed: int) -> Problem:
    """Standard normal logits and random labels over classes 1..C-1, every one
    alignable: a label never needs more frames than its input has."""
    rng = np.random.default_rng(seed)
    logits: npt.NDArray[np.floating] = rng.standard_normal(
        (shape.frames, shape.batch, shape.classes)
    ).astype(dtype)
    if shape.variable:
        input_lengths = rng.integers(shape.frames // 2, shape.frames + 1, shape.batch)
        input_lengths[0] = shape.frames
        label_lengths = rng.integers(shape.labels // 2, shape.labels + 1, shape.batch)
    else:
        input_lengths = np.full(shape.batch, shape.frames)
        label_lengths = np.full(shape.batch, shape.labels)
    labels = rng.integers(1, shape.classes, (shape.batch, shape.labels))
    for n in range(shape.batch):
        label = labels[n, : label_lengths[n]]
        while label.size + np.count_nonzero(label[1:] == label[:-1]) > input_lengths[n]:
            label = label[:-1]
        label_lengths[n] = label.size
    return Problem(logits, labels, input_lengths.astype(np.int64), label_lengths.astype(np.int64))
