"""Hypothesis strategies: CTC problems in every input form the API accepts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

# Values that may sit where fastctc must never look: padding frames and label slots.
JUNK_VALUES = st.sampled_from([np.nan, np.inf, -np.inf, 1e30, -1e30, 0.0])
JUNK_LABELS = st.integers(-(2**31), 2**31 - 1)


@dataclass
class Case:
    """A batch in the (T, N, C) layout, with everything the API call needs besides."""

    inputs: np.ndarray  # (T, N, C), float32 or float64
    labels: list[np.ndarray]  # N 1-D int64 arrays of classes other than blank
    input_lengths: np.ndarray  # (N,) int64, each <= T
    blank: int  # as passed: may be negative
    log_probs: bool
    num_threads: int | None

    @property
    def batch_size(self) -> int:
        return int(self.inputs.shape[1])

    def kwargs(self) -> dict[str, Any]:
        """Keyword arguments of fastctc.ctc_loss* for this case in the TNC layout."""
        return {
            "inputs": self.inputs,
            "labels": self.labels,
            "input_lengths": self.input_lengths,
            "blank": self.blank,
            "log_probs": self.log_probs,
            "num_threads": self.num_threads,
        }


@st.composite
def ctc_cases(
    draw: st.DrawFn,
    *,
    max_frames: int = 10,
    max_batch: int = 4,
    max_classes: int = 6,
    allow_minus_inf: bool = True,
) -> Case:
    """Random shapes, lengths (zero included), labels (impossible ones included), blank,
    dtype, convention and thread count; inputs in [-20, 20], with -inf log-scores (a
    class of probability 0) sprinkled in when allowed."""
    frames = draw(st.integers(0, max_frames))
    batch = draw(st.integers(0, max_batch))
    classes = draw(st.integers(1, max_classes))
    blank = draw(st.integers(-classes, classes - 1))
    non_blank = [k for k in range(classes) if k != blank % classes]
    input_lengths = draw(st.lists(st.integers(0, frames), min_size=batch, max_size=batch))
    labels = [
        np.array(draw(st.lists(st.sampled_from(non_blank), max_size=frames + 1)), np.int64)
        if non_blank
        else np.empty(0, np.int64)
        for _ in range(batch)
    ]
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    log_probs = draw(st.booleans())
    finite = st.floats(-20, 20, width=32)
    # -inf only as a log-score: a logit row of -inf has no softmax (NaN, tested elsewhere).
    elements = finite | st.just(-np.inf) if allow_minus_inf and log_probs else finite
    inputs = draw(hnp.arrays(dtype, (frames, batch, classes), elements=elements))
    return Case(
        inputs=inputs,
        labels=labels,
        input_lengths=np.array(input_lengths, np.int64),
        blank=blank,
        log_probs=log_probs,
        num_threads=draw(st.sampled_from([1, 2, 3, None])),
    )


def label_arguments(case: Case, form: str, pad: int = -1) -> tuple[Any, Any]:
    """labels and label_lengths in one of the three label forms."""
    lengths = np.array([label.size for label in case.labels], np.int64)
    if form == "list":
        return case.labels, None
    if form == "concatenated":
        return np.concatenate([*case.labels, np.empty(0, np.int64)]), lengths
    padded = np.full((case.batch_size, max(lengths, default=0)), pad, np.int64)
    for n, label in enumerate(case.labels):
        padded[n, : label.size] = label
    return padded, lengths


LABEL_FORMS = st.sampled_from(["padded", "concatenated", "list"])


def in_layout(tnc: np.ndarray, arrangement: str) -> tuple[np.ndarray, str]:
    """The same (T, N, C) values in another memory arrangement, and its layout name."""
    if arrangement == "NTC":
        return np.ascontiguousarray(tnc.transpose(1, 0, 2)), "NTC"
    if arrangement == "fortran":
        return np.asfortranarray(tnc), "TNC"
    if arrangement == "reversed-classes":
        return np.ascontiguousarray(tnc[:, :, ::-1])[:, :, ::-1], "TNC"
    if arrangement == "odd-address":  # unaligned: the API copies it first
        storage = np.zeros(tnc.nbytes + 1, np.uint8)
        unaligned = np.ndarray(tnc.shape, tnc.dtype, buffer=storage, offset=1)
        unaligned[...] = tnc
        return unaligned, "TNC"
    return tnc, "TNC"


ARRANGEMENTS = st.sampled_from(["TNC", "NTC", "fortran", "reversed-classes", "odd-address"])


def as_tnc(array: np.ndarray, layout: str) -> np.ndarray:
    return array if layout == "TNC" else array.transpose(1, 0, 2)
