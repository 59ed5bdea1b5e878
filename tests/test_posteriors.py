"""Posterior occupancies against enumeration, the oracle, and the loss's gradient."""

from __future__ import annotations

import numpy as np
import pytest
from brute_force import enumerate_alignments, enumerate_state_occupancy
from problems import TinyCase, random_problem

import fastctc
from fastctc import reference


def test_worked_example() -> None:
    # T=3, C=3, blank 0, label (1, 2): the five paths 120 (.096), 122 (.048), 012 (.045),
    # 112 (.036) and 102 (.036), of total probability .261.
    probs = np.array([[0.5, 0.4, 0.1], [0.3, 0.3, 0.4], [0.6, 0.1, 0.3]])
    posteriors = fastctc.ctc_posteriors(np.log(probs)[:, None], [[1, 2]], log_probs=True)
    total = 0.261
    expected_classes = np.array(
        [
            [0.045, 0.216, 0.0],  # frame 0: blank in 012; label 1 in the other four
            [0.036, 0.081, 0.144],  # frame 1: 102 | 012, 112 | 120, 122
            [0.096, 0.0, 0.165],  # frame 2: 120 | 122, 012, 112, 102
        ]
    )
    np.testing.assert_allclose(posteriors.classes[:, 0], expected_classes / total, rtol=1e-13)
    expected_states = np.array(
        [
            [0.045, 0.216, 0.0, 0.0, 0.0],  # states: _ 1 _ 2 _
            [0.0, 0.081, 0.036, 0.144, 0.0],
            [0.0, 0.0, 0.0, 0.165, 0.096],
        ]
    )
    np.testing.assert_allclose(posteriors.states[:, 0], expected_states / total, atol=1e-15)
    assert posteriors.log_likelihoods[0] == pytest.approx(np.log(total), rel=1e-14)


def test_equal_to_enumeration(tiny: TinyCase) -> None:
    log_p, class_occupancy = enumerate_alignments(tiny.log_y, tiny.label, tiny.blank)
    posteriors = fastctc.ctc_posteriors(
        tiny.inputs, [tiny.label], blank=tiny.blank, log_probs=tiny.log_probs
    )
    assert posteriors.states.shape == (tiny.frames, 1, 2 * len(tiny.label) + 1)
    if log_p == -np.inf:
        assert posteriors.log_likelihoods[0] == -np.inf
        assert np.all(posteriors.classes == 0.0) and np.all(posteriors.states == 0.0)
        return
    assert posteriors.log_likelihoods[0] == pytest.approx(log_p, rel=1e-12, abs=1e-12)
    np.testing.assert_allclose(posteriors.classes[:, 0], class_occupancy, atol=1e-12)
    np.testing.assert_allclose(
        posteriors.states[:, 0],
        enumerate_state_occupancy(tiny.log_y, tiny.label, tiny.blank),
        atol=1e-12,
    )


@pytest.mark.parametrize("layout", ["TNC", "NTC"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
def test_batch_against_the_oracle(rng: np.random.Generator, layout: str, dtype: type) -> None:
    problem = random_problem(rng, frames=30, batch=7, classes=6, max_label=10, dtype=dtype)
    inputs = problem.inputs if layout == "TNC" else problem.inputs.transpose(1, 0, 2)
    posteriors = fastctc.ctc_posteriors(
        inputs, problem.labels, problem.input_lengths, layout=layout
    )
    classes, states = posteriors.classes, posteriors.states
    if layout == "NTC":
        classes, states = classes.transpose(1, 0, 2), states.transpose(1, 0, 2)
    width = 2 * max(len(label) for label in problem.labels) + 1
    assert classes.shape == problem.inputs.shape and states.shape == (30, 7, width)
    assert classes.dtype == dtype and states.dtype == dtype
    tolerance = 1e-5 if dtype == np.float32 else 1e-12
    for n, label in enumerate(problem.labels):
        frames = int(problem.input_lengths[n])
        log_y = reference.log_softmax(problem.inputs[:frames, n].astype(np.float64))
        log_p, expected = reference.occupancy(log_y, label, problem.blank)
        extended = reference.extend_label(label, problem.blank)
        gamma = np.exp(
            reference.log_alpha(log_y, extended) + reference.log_beta(log_y, extended) - log_p
        )
        assert posteriors.log_likelihoods[n] == pytest.approx(log_p, rel=tolerance)
        np.testing.assert_allclose(classes[:frames, n], expected, atol=tolerance)
        np.testing.assert_allclose(states[:frames, n, : extended.size], gamma, atol=tolerance)
        assert np.all(states[:frames, n, extended.size :] == 0.0)  # past 2L+1
        assert np.all(classes[frames:, n] == 0.0) and np.all(states[frames:, n] == 0.0)
        np.testing.assert_allclose(states[:frames, n].sum(axis=1), 1.0, rtol=tolerance)


def test_classes_are_softmax_minus_the_gradient(rng: np.random.Generator) -> None:
    problem = random_problem(rng, frames=25, batch=5, classes=7, max_label=8)
    args = (problem.inputs, problem.labels, problem.input_lengths)
    _, grad = fastctc.ctc_loss_and_grad(*args)
    softmax = np.exp(reference.log_softmax(problem.inputs))
    softmax[np.arange(25)[:, None] >= problem.input_lengths] = 0.0
    np.testing.assert_allclose(fastctc.ctc_posteriors(*args).classes, softmax - grad, atol=1e-14)


def test_impossible_sequences_and_threads(rng: np.random.Generator) -> None:
    problem = random_problem(rng, frames=20, batch=9, classes=5, max_label=8)
    labels = [*problem.labels]
    labels[3] = np.array([1] * 11)  # needs 21 frames
    args = (problem.inputs, labels, problem.input_lengths)
    first = fastctc.ctc_posteriors(*args, num_threads=1)
    assert first.log_likelihoods[3] == -np.inf
    assert np.all(first.classes[:, 3] == 0.0) and np.all(first.states[:, 3] == 0.0)
    for threads in (2, 4, None):
        again = fastctc.ctc_posteriors(*args, num_threads=threads)
        np.testing.assert_array_equal(again.classes, first.classes)
        np.testing.assert_array_equal(again.states, first.states)
        np.testing.assert_array_equal(again.log_likelihoods, first.log_likelihoods)
