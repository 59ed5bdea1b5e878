"""fastctc.testing: the seeded problem generator and the assert_ctc_close oracle check."""

from __future__ import annotations

import re

import numpy as np
import pytest

import fastctc
from fastctc import reference
from fastctc.testing import HARD_CASES, assert_ctc_close, random_ctc_problem


def _frames_needed(label: np.ndarray) -> int:
    return len(label) + int(np.sum(label[1:] == label[:-1]))


def test_same_seed_same_problem_and_generators_are_accepted() -> None:
    first = random_ctc_problem(7, **HARD_CASES["impossible"])
    again = random_ctc_problem(np.random.default_rng(7), **HARD_CASES["impossible"])
    other = random_ctc_problem(8, **HARD_CASES["impossible"])
    np.testing.assert_array_equal(first.inputs, again.inputs)
    np.testing.assert_array_equal(first.input_lengths, again.input_lengths)
    assert all(np.array_equal(a, b) for a, b in zip(first.labels, again.labels))
    assert not np.array_equal(first.inputs, other.inputs)


@pytest.mark.parametrize("case", sorted(HARD_CASES))
@pytest.mark.parametrize("blank", [0, -1], ids=["blank-first", "blank-last"])
def test_problems_are_well_formed(case: str, blank: int) -> None:
    problem = random_ctc_problem(3, blank=blank, **HARD_CASES[case])
    frames, batch, classes = problem.inputs.shape
    assert problem.blank == blank % classes
    assert len(problem.labels) == batch == problem.input_lengths.shape[0]
    assert np.all((problem.input_lengths >= 0) & (problem.input_lengths <= frames))
    for label in problem.labels:
        assert np.all((label >= 0) & (label < classes) & (label != problem.blank))
    # Every form of the labels describes the same batch.
    padded = problem.padded_labels(pad=-5)
    for n, label in enumerate(problem.labels):
        np.testing.assert_array_equal(padded[n, : len(label)], label)
        assert np.all(padded[n, len(label) :] == -5)
    np.testing.assert_array_equal(problem.concatenated_labels(), np.concatenate(problem.labels))


def test_hard_cases_contain_what_they_promise() -> None:
    repeats = random_ctc_problem(1, **HARD_CASES["repeats"])
    assert sum(int(np.sum(label[1:] == label[:-1])) for label in repeats.labels) >= 10

    empty = random_ctc_problem(1, **HARD_CASES["empty_labels"])
    assert np.count_nonzero(empty.label_lengths == 0) >= HARD_CASES["empty_labels"]["empty_labels"]

    minimal = random_ctc_problem(1, **HARD_CASES["minimal_lengths"])
    needed = np.array([_frames_needed(label) for label in minimal.labels])
    assert np.count_nonzero(minimal.input_lengths == needed) >= 4

    impossible = random_ctc_problem(1, **HARD_CASES["impossible"])
    losses = reference.ctc_loss(impossible.inputs, impossible.labels, impossible.input_lengths)
    assert np.count_nonzero(np.isinf(losses)) == 3
    assert np.all(np.isfinite(losses[~np.isinf(losses)]))

    peaked = random_ctc_problem(1, **HARD_CASES["peaked"])
    assert np.max(np.abs(peaked.inputs)) > 200

    long = random_ctc_problem(1, **HARD_CASES["long"])
    assert long.input_lengths.max() >= 1500 and long.label_lengths.max() >= 100


def test_minimal_length_inputs_have_exactly_one_alignment() -> None:
    # With exactly the frames it needs, a label has one alignment: the loss is the
    # sum of -ln y over it, and the occupancy is one-hot.
    problem = random_ctc_problem(
        2, frames=12, batch=6, classes=5, max_label=6, repeat_rate=0.5, minimal_lengths=6
    )
    _, grad = reference.ctc_loss_and_grad(
        problem.inputs, problem.labels, problem.input_lengths, log_probs=True
    )
    for n in range(6):
        frames = problem.input_lengths[n]
        np.testing.assert_allclose(np.sort(-grad[:frames, n], axis=-1)[:, -1], 1.0, atol=1e-12)


def test_bad_generator_arguments_raise() -> None:
    with pytest.raises(
        ValueError, match=r"empty_labels \+ minimal_lengths \+ impossible <= batch=4"
    ):
        random_ctc_problem(0, batch=4, empty_labels=3, impossible=2)
    with pytest.raises(ValueError, match="at least 2 classes"):
        random_ctc_problem(0, classes=1, max_label=3)


@pytest.mark.parametrize("layout", ["TNC", "NTC"])
def test_assert_ctc_close_accepts_correct_outputs(layout: str) -> None:
    problem = random_ctc_problem(4, frames=30, batch=5, classes=6, max_label=8, impossible=1)
    loss, grad = reference.ctc_loss_and_grad(problem.inputs, problem.labels, problem.input_lengths)
    inputs = problem.inputs if layout == "TNC" else problem.inputs.transpose(1, 0, 2)
    grad = grad if layout == "TNC" else grad.transpose(1, 0, 2)
    assert_ctc_close(
        loss, grad, inputs, problem.labels, problem.input_lengths, layout=layout, rtol=1e-12, atol=0
    )
    # float32 outputs pass at float32 tolerances, and the loss can be checked alone.
    loss32, grad32 = fastctc.ctc_loss_and_grad(
        inputs.astype(np.float32), problem.labels, problem.input_lengths, layout=layout
    )
    assert_ctc_close(loss32, grad32, inputs, problem.labels, problem.input_lengths, layout=layout)
    assert_ctc_close(loss32, None, inputs, problem.labels, problem.input_lengths, layout=layout)


@pytest.mark.parametrize("layout", ["TNC", "NTC"])
def test_assert_ctc_close_names_the_worst_gradient_entry(layout: str) -> None:
    problem = random_ctc_problem(5, frames=20, batch=4, classes=5, max_label=5)
    loss, grad = fastctc.ctc_loss_and_grad(problem.inputs, problem.labels, problem.input_lengths)
    grad[7, 2, 3] += 1e-3  # the worst
    grad[4, 1, 0] += 2e-5  # also wrong, less so
    grad[3, 0, 1] += 1e-9  # within tolerance
    inputs = problem.inputs if layout == "TNC" else problem.inputs.transpose(1, 0, 2)
    grad = grad if layout == "TNC" else grad.transpose(1, 0, 2)
    with pytest.raises(AssertionError) as failure:
        assert_ctc_close(loss, grad, inputs, problem.labels, problem.input_lengths, layout=layout)
    message = str(failure.value)
    assert "grad: 2 of 400 values differ" in message
    expected = fastctc.ctc_loss_and_grad(problem.inputs, problem.labels, problem.input_lengths)[1]
    assert f"sequence 2, frame 7, class 3: got {float(expected[7, 2, 3] + 1e-3)!r}" in message
    assert f"expected {float(expected[7, 2, 3])!r}" in message
    assert "loss:" not in message  # the losses are right


def test_assert_ctc_close_names_the_worst_loss_and_non_finite_mismatches() -> None:
    problem = random_ctc_problem(6, frames=15, batch=5, classes=5, max_label=4, impossible=1)
    loss = reference.ctc_loss(problem.inputs, problem.labels, problem.input_lengths)
    impossible = int(np.flatnonzero(np.isinf(loss))[0])
    wrong = loss.copy()
    wrong[impossible] = 1e5  # e.g. optax's stand-in for log(0)
    expected = rf"loss: 1 of 5 values differ; the worst is sequence {impossible}: got 100000\.0, "
    with pytest.raises(AssertionError, match=expected + "expected inf"):
        assert_ctc_close(wrong, None, problem.inputs, problem.labels, problem.input_lengths)
    wrong = loss.copy()
    feasible = (impossible + 1) % 5
    wrong[feasible] = np.nan
    with pytest.raises(AssertionError, match=rf"the worst is sequence {feasible}: got nan"):
        assert_ctc_close(wrong, None, problem.inputs, problem.labels, problem.input_lengths)


def test_assert_ctc_close_checks_shapes_and_arguments() -> None:
    problem = random_ctc_problem(0, frames=10, batch=3, classes=4, max_label=3)
    loss, grad = fastctc.ctc_loss_and_grad(problem.inputs, problem.labels, problem.input_lengths)
    with pytest.raises(
        ValueError, match=re.escape("Expected loss to have shape (3,), but got (1, 3)")
    ):
        assert_ctc_close(loss[None], grad, problem.inputs, problem.labels, problem.input_lengths)
    with pytest.raises(ValueError, match=re.escape("Expected grad to have shape (10, 3, 4)")):
        assert_ctc_close(loss, grad[:, :2], problem.inputs, problem.labels, problem.input_lengths)
    labels = [problem.labels[0], np.array([9]), problem.labels[2]]
    with pytest.raises(ValueError, match=r"labels\[1\]\[0\] = 9 is out of range"):
        assert_ctc_close(loss, grad, problem.inputs, labels, problem.input_lengths)
