"""Property-based tests: laws that hold for every valid batch, checked on random ones.

Hypothesis draws the shapes (empty ones included), lengths, labels (impossible ones
included), blank, dtype, layout, label form, convention and thread count. CI runs a
derandomised profile (tests/conftest.py).
"""

from __future__ import annotations

import numpy as np
from ctc_strategies import (
    ARRANGEMENTS,
    JUNK_LABELS,
    JUNK_VALUES,
    LABEL_FORMS,
    Case,
    as_tnc,
    ctc_cases,
    in_layout,
    label_arguments,
)
from hypothesis import given
from hypothesis import strategies as st

import fastctc
from fastctc import reference

# float64 agrees with the float64 reference to ~1e-12; float32 to its own precision.
TOLERANCES = {
    np.dtype(np.float64): {"rtol": 1e-12, "atol": 1e-12},
    np.dtype(np.float32): {"rtol": 1e-5, "atol": 1e-6},
}


@given(case=ctc_cases(), arrangement=ARRANGEMENTS, label_form=LABEL_FORMS)
def test_agrees_with_the_reference(case: Case, arrangement: str, label_form: str) -> None:
    inputs, layout = in_layout(case.inputs, arrangement)
    labels, label_lengths = label_arguments(case, label_form)
    kwargs = {**case.kwargs(), "inputs": inputs, "labels": labels, "layout": layout}
    loss, grad = fastctc.ctc_loss_and_grad(**kwargs, label_lengths=label_lengths)
    expected_loss, expected_grad = reference.ctc_loss_and_grad(
        case.inputs, case.labels, case.input_lengths, blank=case.blank, log_probs=case.log_probs
    )
    assert loss.dtype == grad.dtype == case.inputs.dtype and grad.shape == inputs.shape
    np.testing.assert_allclose(loss, expected_loss, **TOLERANCES[loss.dtype])
    np.testing.assert_allclose(as_tnc(grad, layout), expected_grad, **TOLERANCES[loss.dtype])
    # The loss alone may be certified on another path than the loss with the gradient
    # (tests/test_fuzz_regressions.py): equal to a few units in the last place.
    loss_only = fastctc.ctc_loss(**kwargs, label_lengths=label_lengths)
    np.testing.assert_allclose(loss_only, loss, rtol=4 * np.finfo(loss.dtype).eps, atol=0)


@given(case=ctc_cases(allow_minus_inf=False))
def test_gradient_rows_sum_to_zero_on_valid_frames(case: Case) -> None:
    # Logits: softmax - occupancy, both distributions over the classes, so every row
    # sums to 0. Log-scores: -occupancy, so every row sums to -1.
    loss, grad = fastctc.ctc_loss_and_grad(**case.kwargs())
    expected_sum = -1.0 if case.log_probs else 0.0
    atol = 1e-12 if grad.dtype == np.float64 else 1e-5
    for n in np.flatnonzero(np.isfinite(loss)):
        frames = case.input_lengths[n]
        row_sums = grad[:frames, n].astype(np.float64).sum(axis=-1)
        np.testing.assert_allclose(row_sums, expected_sum, rtol=0, atol=atol)


@given(case=ctc_cases(), data=st.data())
def test_permuting_the_batch_permutes_the_results(case: Case, data: st.DataObject) -> None:
    order = np.array(data.draw(st.permutations(range(case.batch_size))), np.int64)
    loss, grad = fastctc.ctc_loss_and_grad(**case.kwargs())
    permuted = {
        **case.kwargs(),
        "inputs": case.inputs[:, order],
        "labels": [case.labels[n] for n in order],
        "input_lengths": case.input_lengths[order],
    }
    permuted_loss, permuted_grad = fastctc.ctc_loss_and_grad(**permuted)
    np.testing.assert_array_equal(permuted_loss, loss[order])  # bit for bit
    np.testing.assert_array_equal(permuted_grad, grad[:, order])


@given(case=ctc_cases(), extra_frames=st.integers(0, 3), data=st.data())
def test_padding_frames_and_label_slots_never_change_a_result(
    case: Case, extra_frames: int, data: st.DataObject
) -> None:
    loss, grad = fastctc.ctc_loss_and_grad(**case.kwargs())
    frames, batch, classes = case.inputs.shape
    # Junk in every frame past each input length, and in extra frames past T.
    padded = np.zeros((frames + extra_frames, batch, classes), case.inputs.dtype)
    padded[:frames] = case.inputs
    unused = np.arange(frames + extra_frames)[:, None] >= case.input_lengths[None, :]
    padded[unused] = data.draw(JUNK_VALUES)
    # Junk in every padded label slot, even the blank or classes that do not exist.
    labels, label_lengths = label_arguments(case, "padded", pad=data.draw(JUNK_LABELS))
    junk_loss, junk_grad = fastctc.ctc_loss_and_grad(
        **{**case.kwargs(), "inputs": padded, "labels": labels}, label_lengths=label_lengths
    )
    np.testing.assert_array_equal(junk_loss, loss)
    np.testing.assert_array_equal(junk_grad[:frames], grad)
    assert not np.any(junk_grad[unused])  # padding frames get exact zeros


@given(case=ctc_cases(max_batch=8), threads=st.sampled_from([2, 3, 5, 8]))
def test_results_are_bit_identical_for_any_thread_count(case: Case, threads: int) -> None:
    one = fastctc.ctc_loss_and_grad(**{**case.kwargs(), "num_threads": 1})
    many = fastctc.ctc_loss_and_grad(**{**case.kwargs(), "num_threads": threads})
    np.testing.assert_array_equal(many[0], one[0])
    np.testing.assert_array_equal(many[1], one[1])
    # The loss alone takes other paths (a batch of one: its frames read by a second
    # thread ahead of the forward recursion), with the same bits.
    alone = fastctc.ctc_loss(**{**case.kwargs(), "num_threads": threads})
    np.testing.assert_array_equal(alone, one[0])
