"""The documented semantics: conventions, reductions, edge cases, special values."""

from __future__ import annotations

import numpy as np
import pytest
from problems import random_problem

import fastctc
from fastctc import reference

DTYPES = [pytest.param(np.float64, id="float64"), pytest.param(np.float32, id="float32")]


def test_logit_gradient_is_softmax_minus_log_prob_gradient(rng: np.random.Generator) -> None:
    # d/d logits = softmax - occupancy and d/d log-probs = -occupancy, so on
    # normalised inputs the two differ by exactly the softmax.
    problem = random_problem(
        rng, frames=20, batch=4, classes=6, max_label=6, variable_lengths=False
    )
    log_y = reference.log_softmax(problem.inputs)
    _, grad_logits = fastctc.ctc_loss_and_grad(problem.inputs, problem.labels)
    _, grad_log_probs = fastctc.ctc_loss_and_grad(log_y, problem.labels, log_probs=True)
    np.testing.assert_allclose(grad_logits - grad_log_probs, np.exp(log_y), atol=1e-14)
    np.testing.assert_allclose(grad_log_probs.sum(axis=-1), -1.0, atol=1e-13)  # occupancy sums to 1


@pytest.mark.parametrize("dtype", DTYPES)
def test_reductions_and_gradient_scaling(rng: np.random.Generator, dtype: type) -> None:
    problem = random_problem(rng, frames=15, batch=5, classes=5, max_label=5, dtype=dtype)
    problem.labels[2] = np.empty(0, np.int64)  # an empty label counts as length 1 in "mean"
    args = (problem.inputs, problem.labels, problem.input_lengths)
    losses, grad = fastctc.ctc_loss_and_grad(*args)
    total, grad_sum = fastctc.ctc_loss_and_grad(*args, reduction="sum")
    mean, grad_mean = fastctc.ctc_loss_and_grad(*args, reduction="mean")
    per_label = np.maximum(problem.label_lengths, 1)
    rtol = 1e-12 if dtype == np.float64 else 1e-6
    assert isinstance(total, dtype) and isinstance(mean, dtype)
    assert float(total) == pytest.approx(losses.astype(np.float64).sum(), rel=rtol)
    assert float(mean) == pytest.approx(np.mean(losses.astype(np.float64) / per_label), rel=rtol)
    np.testing.assert_array_equal(grad_sum, grad)
    scale = 1.0 / (per_label * 5)
    np.testing.assert_allclose(
        grad_mean,
        grad * scale[None, :, None].astype(dtype),
        rtol=rtol,
        atol=1e-7 if dtype == np.float32 else 0,
    )


def test_frames_past_input_length_get_exact_zeros_and_are_never_read(
    rng: np.random.Generator,
) -> None:
    problem = random_problem(rng, frames=10, batch=3, classes=5, max_label=3)
    problem.input_lengths[:] = [10, 6, 0]
    problem.labels[2] = np.empty(0, np.int64)
    poisoned = problem.inputs.copy()
    poisoned[6:, 1] = np.nan  # padding frames may hold anything
    poisoned[:, 2] = np.inf
    loss, grad = fastctc.ctc_loss_and_grad(poisoned, problem.labels, problem.input_lengths)
    clean_loss, clean_grad = fastctc.ctc_loss_and_grad(
        problem.inputs, problem.labels, problem.input_lengths
    )
    np.testing.assert_array_equal(loss, clean_loss)
    np.testing.assert_array_equal(grad, clean_grad)
    assert np.all(grad[6:, 1] == 0.0) and np.all(grad[:, 2] == 0.0)


def test_grad_out_is_fully_overwritten(rng: np.random.Generator) -> None:
    problem = random_problem(rng, frames=10, batch=3, classes=5, max_label=3)
    problem.input_lengths[1] = 4
    stale = np.full_like(problem.inputs, 123.0)
    _, grad = fastctc.ctc_loss_and_grad(
        problem.inputs, problem.labels, problem.input_lengths, grad_out=stale
    )
    _, fresh = fastctc.ctc_loss_and_grad(problem.inputs, problem.labels, problem.input_lengths)
    np.testing.assert_array_equal(grad, fresh)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("classes", [513, 1023])
def test_long_padding_rows_are_zeroed_at_any_alignment(
    rng: np.random.Generator, dtype: type, classes: int
) -> None:
    # Rows of 2 KB and more past the input lengths are zeroed with streaming stores
    # (write_streamed_zeros() in cpp/src/frame.hpp) from a 16-byte boundary on; rows of
    # 513 or 1023 elements start at every offset from one a float (or a double) can
    # take, so most have an unaligned head and tail.
    problem = random_problem(
        rng, frames=12, batch=5, classes=classes, max_label=3, dtype=dtype, variable_lengths=False
    )
    problem.input_lengths[:] = [12, 7, 3, 0, 9]
    problem.labels[3] = np.empty(0, np.int64)
    stale = np.full_like(problem.inputs, 123.0)
    _, grad = fastctc.ctc_loss_and_grad(
        problem.inputs, problem.labels, problem.input_lengths, grad_out=stale
    )
    _, expected = reference.ctc_loss_and_grad(problem.inputs, problem.labels, problem.input_lengths)
    for n, frames in enumerate(problem.input_lengths):
        assert np.all(grad[frames:, n] == 0.0)
    np.testing.assert_allclose(grad, expected, rtol=0, atol=1e-7 if dtype == np.float32 else 1e-13)


@pytest.mark.parametrize("layout", ["TNC", "NTC"])
@pytest.mark.parametrize("threads", [1, 2])
def test_padding_is_zeroed_in_runs_of_neighbouring_sequences(
    rng: np.random.Generator, layout: str, threads: int
) -> None:
    # The padding is zeroed a frame at a time across the batch, neighbouring
    # sequences' rows in one run where they lie end to end (kernels.cpp), 8 frames a
    # unit of work: lengths with runs of ended neighbours, ends inside and at the
    # edges of those units, and a gradient whose rows are not end to end.
    frames, batch, classes = 30, 7, 5
    problem = random_problem(rng, frames=frames, batch=batch, classes=classes, max_label=3)
    problem.input_lengths[:] = [30, 5, 8, 9, 30, 17, 16]
    inputs = (
        problem.inputs if layout == "TNC" else np.ascontiguousarray(problem.inputs.swapaxes(0, 1))
    )
    _, expected = reference.ctc_loss_and_grad(problem.inputs, problem.labels, problem.input_lengths)
    wide = np.full((*inputs.shape[:2], 2 * classes), 123.0)
    for grad_out in (np.full_like(inputs, 123.0), wide[..., ::2]):
        _, grad = fastctc.ctc_loss_and_grad(
            inputs,
            problem.labels,
            problem.input_lengths,
            layout=layout,
            num_threads=threads,
            grad_out=grad_out,
        )
        tnc = grad if layout == "TNC" else grad.swapaxes(0, 1)
        np.testing.assert_allclose(tnc, expected, rtol=0, atol=1e-13)
        for n, length in enumerate(problem.input_lengths):
            assert np.all(tnc[length:, n] == 0.0)
    assert np.all(wide[..., 1::2] == 123.0)  # the rows' gaps untouched
    posteriors = fastctc.ctc_posteriors(
        inputs, problem.labels, problem.input_lengths, layout=layout, num_threads=threads
    )
    states = posteriors.states if layout == "TNC" else posteriors.states.swapaxes(0, 1)
    for n, length in enumerate(problem.input_lengths):
        assert np.all(states[length:, n] == 0.0)


def test_empty_labels_and_zero_length_inputs() -> None:
    logits = np.array([[[0.5, -1.0, 2.0]], [[1.0, 0.0, -0.5]]])  # T=2, N=1, C=3
    loss, grad = fastctc.ctc_loss_and_grad(logits, [[]], blank=0)
    # An empty label has one path, all blanks.
    log_y = reference.log_softmax(logits[:, 0])
    assert loss[0] == pytest.approx(-(log_y[0, 0] + log_y[1, 0]), rel=1e-15)
    np.testing.assert_allclose(grad[:, 0], np.exp(log_y) - np.eye(3)[[0, 0]], atol=1e-15)

    # Input length 0: the empty label has probability 1, any other label 0.
    loss, grad = fastctc.ctc_loss_and_grad(logits.repeat(2, axis=1), [[], [1]], [0, 0])
    np.testing.assert_array_equal(loss, [0.0, np.inf])
    assert np.all(grad == 0.0)

    # T = 0 altogether.
    loss, grad = fastctc.ctc_loss_and_grad(np.zeros((0, 2, 3)), [[], [2]])
    np.testing.assert_array_equal(loss, [0.0, np.inf])
    assert grad.shape == (0, 2, 3)


def test_empty_batch() -> None:
    loss, grad = fastctc.ctc_loss_and_grad(np.zeros((5, 0, 3), np.float32), [])
    assert loss.shape == (0,) and loss.dtype == np.float32 and grad.shape == (5, 0, 3)
    assert fastctc.ctc_loss(np.zeros((5, 0, 3)), [], reduction="sum") == 0.0
    assert np.isnan(fastctc.ctc_loss(np.zeros((5, 0, 3)), [], reduction="mean"))


@pytest.mark.parametrize("dtype", DTYPES)
def test_impossible_alignment_is_inf_with_zero_gradient(dtype: type) -> None:
    logits = np.zeros((3, 2, 4), dtype)
    labels = [[1, 2, 3, 1], [1, 1, 2]]  # needs 4 frames; needs 4 (a blank between the 1s)
    loss, grad = fastctc.ctc_loss_and_grad(logits, labels)
    assert np.all(loss == np.inf)
    assert np.all(grad == 0.0)
    loss, grad = fastctc.ctc_loss_and_grad(logits, labels, zero_infinity=True, reduction="sum")
    assert loss == 0.0 and np.all(grad == 0.0)


def test_zero_infinity_keeps_possible_losses() -> None:
    logits = np.zeros((3, 2, 4))
    loss = fastctc.ctc_loss(logits, [[1], [1, 1, 1]], zero_infinity=True)
    assert loss[0] == pytest.approx(fastctc.ctc_loss(logits[:, :1], [[1]])[0], rel=0)
    assert loss[1] == 0.0


def test_zero_probability_through_minus_inf_is_inf_not_nan() -> None:
    # The label class has probability 0 at every frame: no alignment has mass.
    log_probs = np.log(np.full((4, 1, 3), 0.5))
    log_probs[:, 0, 2] = -np.inf
    log_probs[:, 0, :2] = np.log(0.5)
    loss, grad = fastctc.ctc_loss_and_grad(log_probs, [[2]], log_probs=True)
    assert loss[0] == np.inf and np.all(grad == 0.0)
    loss = fastctc.ctc_loss(log_probs, [[2]], log_probs=True, zero_infinity=True)
    assert loss[0] == 0.0


def test_minus_inf_log_probs_are_legal_and_never_nan(rng: np.random.Generator) -> None:
    problem = random_problem(rng, frames=12, batch=4, classes=5, max_label=3)
    log_y = reference.log_softmax(problem.inputs)
    log_y[rng.random(log_y.shape) < 0.2] = -np.inf  # some classes impossible at some frames
    log_y[:, :, 0] = np.log(0.3)  # the blank always possible
    loss, grad = fastctc.ctc_loss_and_grad(
        log_y, problem.labels, problem.input_lengths, log_probs=True
    )
    assert not np.any(np.isnan(loss)) and not np.any(np.isnan(grad))
    expected_loss, expected_grad = reference.ctc_loss_and_grad(
        log_y, problem.labels, problem.input_lengths, log_probs=True
    )
    np.testing.assert_allclose(loss, expected_loss, rtol=1e-12)
    np.testing.assert_allclose(grad, expected_grad, atol=1e-12)


def test_minus_inf_logits_mask_a_class(rng: np.random.Generator) -> None:
    logits = rng.standard_normal((8, 1, 5))
    logits[:, 0, 4] = -np.inf  # class 4 never emitted
    loss, grad = fastctc.ctc_loss_and_grad(logits, [[1, 2]])
    expected = fastctc.ctc_loss_and_grad(logits[:, :, :4].copy(), [[1, 2]])
    np.testing.assert_allclose(loss, expected[0], rtol=1e-14)
    np.testing.assert_allclose(grad[:, :, :4], expected[1], atol=1e-15)
    assert np.all(grad[:, :, 4] == 0.0)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("log_probs", [False, True], ids=["logits", "log_probs"])
def test_nan_stays_in_its_sequence(rng: np.random.Generator, dtype: type, log_probs: bool) -> None:
    problem = random_problem(
        rng, frames=10, batch=4, classes=5, max_label=3, dtype=dtype, variable_lengths=False
    )
    problem.labels[1] = np.array([1, 2])
    clean_loss, clean_grad = fastctc.ctc_loss_and_grad(
        problem.inputs, problem.labels, log_probs=log_probs
    )
    poisoned = problem.inputs.copy()
    poisoned[3, 1, :] = np.nan  # a whole frame of sequence 1
    loss, grad = fastctc.ctc_loss_and_grad(poisoned, problem.labels, log_probs=log_probs)
    assert np.isnan(loss[1])
    assert np.isnan(
        fastctc.ctc_loss(poisoned, problem.labels, reduction="sum", log_probs=log_probs)
    )
    keep = [0, 2, 3]
    np.testing.assert_array_equal(loss[keep], clean_loss[keep])
    np.testing.assert_array_equal(grad[:, keep], clean_grad[:, keep])


def test_logit_row_without_a_finite_maximum_gives_nan() -> None:
    logits = np.zeros((3, 1, 4))
    logits[1, 0, :] = -np.inf  # the softmax of this row is undefined
    assert np.isnan(fastctc.ctc_loss(logits, [[1]])[0])


def test_matching_inputs_give_a_low_loss_and_small_gradient() -> None:
    # The seed article's first check: inputs that spell the label confidently.
    path = [3, 3, 0, 1, 1, 0, 2]  # "3 1 2" with blanks (class 0)
    logits = np.full((7, 1, 4), -20.0)
    logits[np.arange(7), 0, path] = 20.0
    loss, grad = fastctc.ctc_loss_and_grad(logits, [[3, 1, 2]])
    assert abs(loss[0]) < 1e-12  # exactly ~1e-17; rounding may land either side of 0
    assert np.max(np.abs(grad)) < 1e-12


def test_random_inputs_give_a_finite_loss(rng: np.random.Generator) -> None:
    problem = random_problem(rng, frames=50, batch=8, classes=20, max_label=20)
    loss = fastctc.ctc_loss(problem.inputs, problem.labels, problem.input_lengths)
    assert np.all(np.isfinite(loss)) and np.all(loss > 0)
