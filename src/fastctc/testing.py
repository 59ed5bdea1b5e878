"""The gradient oracle: check any CTC implementation against fastctc's float64 answer.

``random_ctc_problem`` makes seeded batches, including the cases CTC implementations
get wrong (repeated labels, empty labels, inputs of exactly the minimal length,
impossible items, peaked logits, long sequences; ``HARD_CASES`` names them).
``assert_ctc_close`` compares someone else's losses and gradient with the answer of
fastctc's native core run in float64 (which agrees with ``fastctc.reference`` to
about 1e-12), and on failure names the worst sequence, frame and class.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Union

import numpy as np
import numpy.typing as npt

from fastctc._api import FloatArray, LabelsLike, Layout, ctc_loss_and_grad

__all__ = ["HARD_CASES", "CTCProblem", "assert_ctc_close", "random_ctc_problem"]

IntArray = npt.NDArray[np.int64]
Seed = Union[int, np.random.Generator]

# The cases that CTC implementations get wrong, as keyword arguments of
# random_ctc_problem: random_ctc_problem(seed, **HARD_CASES["repeats"]).
HARD_CASES: dict[str, dict[str, Any]] = {
    "repeats": {"repeat_rate": 0.8},  # needs a blank between equal neighbours
    "empty_labels": {"empty_labels": 3},  # only blanks: the extended label is one state
    "minimal_lengths": {"minimal_lengths": 4},  # exactly as many frames as the label needs
    "impossible": {"impossible": 3},  # one frame too few: loss inf, gradient 0
    "peaked": {"scale": 100.0},  # near one-hot softmax: log space or rescaling must hold
    "long": {"frames": 3000, "batch": 2, "max_label": 400},  # underflow without care
}


@dataclass
class CTCProblem:
    """A CTC batch in fastctc's terms: (T, N, C) logits, labels, lengths, blank."""

    inputs: npt.NDArray[np.floating[Any]]  # (T, N, C) logits
    labels: list[IntArray]  # N 1-D label sequences
    input_lengths: IntArray  # (N,)
    blank: int  # in [0, C)

    @property
    def label_lengths(self) -> IntArray:
        return np.array([len(label) for label in self.labels], dtype=np.int64)

    def padded_labels(self, pad: int = -1) -> IntArray:
        """The labels as an (N, S) array, each row filled up with ``pad``."""
        width = max([len(label) for label in self.labels], default=0)
        padded = np.full((len(self.labels), width), pad, dtype=np.int64)
        for n, label in enumerate(self.labels):
            padded[n, : len(label)] = label
        return padded

    def concatenated_labels(self) -> IntArray:
        """All label sequences in one 1-D array (warp-ctc / PyTorch style)."""
        return np.concatenate([*self.labels, np.empty(0, np.int64)]).astype(np.int64)


def random_ctc_problem(
    seed: Seed,
    frames: int = 50,
    batch: int = 8,
    classes: int = 10,
    max_label: int = 20,
    *,
    blank: int = 0,
    variable_lengths: bool = True,
    dtype: npt.DTypeLike = np.float64,
    scale: float = 1.0,
    repeat_rate: float = 0.0,
    empty_labels: int = 0,
    minimal_lengths: int = 0,
    impossible: int = 0,
) -> CTCProblem:
    """A seeded random CTC batch of standard-normal logits times ``scale``.

    Each item has an input length in [frames // 2, frames] and a label of up to
    ``max_label`` non-blank classes, shortened until the input fits it (with
    ``variable_lengths=False``: ``frames`` frames and ``max_label`` labels, shortened
    likewise). ``repeat_rate`` is the chance that a label repeats its predecessor.
    Then, at random distinct positions, ``empty_labels`` items get an empty label,
    ``minimal_lengths`` items get exactly as many frames as their label needs (its
    length plus one per repeat; 0 for an empty label), and ``impossible`` items get
    one frame fewer than that (their loss is inf).
    """
    special = empty_labels + minimal_lengths + impossible
    if min(empty_labels, minimal_lengths, impossible) < 0 or special > batch:
        raise ValueError(
            f"Expected empty_labels + minimal_lengths + impossible <= batch={batch}, each "
            f"at least 0, but got {empty_labels}, {minimal_lengths} and {impossible}"
        )
    if classes < 2 and (max_label > 0 or impossible):
        raise ValueError(f"Labels need at least 2 classes (a blank and a label), got {classes}")
    rng = np.random.default_rng(seed)
    blank %= classes
    non_blank = np.delete(np.arange(classes), blank)
    inputs = (scale * rng.standard_normal((frames, batch, classes))).astype(dtype)
    labels, lengths = [], []
    for _ in range(batch):
        length = int(rng.integers(frames // 2, frames + 1)) if variable_lengths else frames
        label_length = int(rng.integers(0, max_label + 1)) if variable_lengths else max_label
        label = rng.choice(non_blank, size=label_length)
        if repeat_rate:
            for i in 1 + np.flatnonzero(rng.random(max(label_length - 1, 0)) < repeat_rate):
                label[i] = label[i - 1]
        while _frames_needed(label) > length:
            label = label[:-1]
        labels.append(label.astype(np.int64))
        lengths.append(length)
    if special:
        chosen = rng.permutation(batch)[:special]
        for n in chosen[:empty_labels]:
            labels[n] = np.empty(0, np.int64)
        for n in chosen[empty_labels : empty_labels + minimal_lengths]:
            lengths[n] = _frames_needed(labels[n])
        for n in chosen[empty_labels + minimal_lengths :]:
            if not labels[n].size:
                labels[n] = rng.choice(non_blank, size=1).astype(np.int64)
            lengths[n] = _frames_needed(labels[n]) - 1
    return CTCProblem(inputs, labels, np.array(lengths, dtype=np.int64), blank)


def _frames_needed(label: npt.NDArray[np.integer[Any]]) -> int:
    """The fewest frames that can emit ``label``: one per label, one per repeat."""
    return int(label.size + np.count_nonzero(label[1:] == label[:-1]))


def assert_ctc_close(
    loss: npt.ArrayLike,
    grad: npt.ArrayLike | None,
    inputs: npt.ArrayLike,
    labels: LabelsLike,
    input_lengths: npt.ArrayLike | None = None,
    label_lengths: npt.ArrayLike | None = None,
    *,
    blank: int = 0,
    log_probs: bool = False,
    layout: Layout = "TNC",
    rtol: float = 1e-5,
    atol: float = 1e-6,
) -> None:
    """Checks CTC outputs against fastctc's float64 answer on the same problem.

    Parameters
    ----------
    loss
        The (N,) per-sequence losses -ln p(labels | inputs) to check.
    grad
        Their gradient: d(sum of the losses)/d(inputs), of the shape and layout of
        ``inputs``; None to check the losses only. With logits this is
        softmax - occupancy; with ``log_probs=True``, the partial derivative with
        respect to the log-scores, -occupancy (not PyTorch's backward value, which
        is the logit gradient: check PyTorch through log_softmax, with logits).
    inputs, labels, input_lengths, label_lengths, blank, log_probs, layout
        The problem, as :func:`fastctc.ctc_loss` takes it; ``inputs`` are converted
        to float64 for the expected answer.
    rtol, atol
        Each value must satisfy ``|actual - expected| <= atol + rtol * |expected|``;
        equal infinities and NaN against NaN agree.

    Raises
    ------
    AssertionError
        Naming how many values differ and the worst one: its sequence (and, for the
        gradient, frame and class), the value got and the value expected.
    """
    inputs64 = np.asarray(inputs, dtype=np.float64)
    expected_loss, expected_grad = ctc_loss_and_grad(
        inputs64,
        labels,
        input_lengths,
        label_lengths,
        blank=blank,
        layout=layout,
        log_probs=log_probs,
    )
    failures = [
        _mismatch("loss", _checked(loss, "loss", expected_loss.shape), expected_loss, rtol, atol)
    ]
    if grad is not None:
        actual_grad = _checked(grad, "grad", inputs64.shape)
        failures.append(_mismatch("grad", actual_grad, expected_grad, rtol, atol, layout))
    report = [failure for failure in failures if failure]
    if report:
        raise AssertionError(
            f"CTC outputs differ from fastctc's float64 answer (rtol={rtol}, atol={atol}):\n"
            + "\n".join(report)
        )


def _checked(values: npt.ArrayLike, name: str, shape: tuple[int, ...]) -> FloatArray:
    array = np.asarray(values)
    if array.shape != shape:
        raise ValueError(f"Expected {name} to have shape {shape}, but got {array.shape}")
    return array.astype(np.float64)


def _mismatch(
    name: str,
    actual: FloatArray,
    expected: FloatArray,
    rtol: float,
    atol: float,
    layout: Layout = "TNC",
) -> str:
    """'' if every value agrees, else a line naming the count and the worst value."""
    with np.errstate(invalid="ignore", divide="ignore"):
        error = np.abs(actual - expected)
        tolerance = atol + rtol * np.abs(expected)
        finite = np.isfinite(actual) & np.isfinite(expected)
        agree = (actual == expected) | (np.isnan(actual) & np.isnan(expected))
        wrong = ~agree & ~(finite & (error <= tolerance))
        if not wrong.any():
            return ""
        severity = np.where(wrong, np.where(finite, error / tolerance, np.inf), -1.0)
    worst = np.unravel_index(int(np.argmax(severity)), actual.shape)
    got, want = float(actual[worst]), float(expected[worst])
    return (
        f"  {name}: {int(wrong.sum())} of {wrong.size} values differ; the worst is "
        f"{_position(worst, layout)}: got {got!r}, expected {want!r} "
        f"(difference {error[worst]:.3g}, tolerance {tolerance[worst]:.3g})"
    )


def _position(index: tuple[np.intp, ...], layout: Layout) -> str:
    if len(index) == 1:
        return f"sequence {index[0]}"
    frame, sequence, label = index if layout == "TNC" else (index[1], index[0], index[2])
    return f"sequence {sequence}, frame {frame}, class {label}"
