"""Forced alignment: the Viterbi path against enumeration, its spans, and its edge cases."""

from __future__ import annotations

import numpy as np
import pytest
from brute_force import best_path
from problems import TinyCase, random_problem

import fastctc
from fastctc import reference

DTYPES = [pytest.param(np.float64, id="float64"), pytest.param(np.float32, id="float32")]

# Frame probabilities of a worked example: T=3, C=3, blank 0, label (1, 2). The five
# paths that spell it and their probabilities:
#   1 2 0: .4 * .4 * .6 = .096  (the best)   1 2 2: .4 * .4 * .3 = .048
#   0 1 2: .5 * .3 * .3 = .045               1 1 2: .4 * .3 * .3 = .036
#   1 0 2: .4 * .3 * .3 = .036
WORKED_PROBS = np.array([[0.5, 0.4, 0.1], [0.3, 0.3, 0.4], [0.6, 0.1, 0.3]])


@pytest.mark.parametrize("log_probs", [True, False], ids=["log_probs", "logits"])
def test_worked_example(log_probs: bool) -> None:
    # As logits, ln p is shifted per frame: the softmax gives the same probabilities back.
    inputs = (np.log(WORKED_PROBS) + (0.0 if log_probs else 3.0))[:, None, :]
    alignment = fastctc.forced_align(inputs, [[1, 2]], log_probs=log_probs)
    np.testing.assert_array_equal(alignment.labels, [[1, 2, 0]])
    np.testing.assert_array_equal(alignment.states, [[1, 3, 4]])
    np.testing.assert_allclose(alignment.log_probs, [np.log([0.4, 0.4, 0.6])], rtol=1e-14)
    assert alignment.scores[0] == pytest.approx(np.log(0.096), rel=1e-14)
    spans = alignment.spans[0]
    assert spans is not None and len(spans) == 2
    np.testing.assert_array_equal(spans.position, [0, 1])
    np.testing.assert_array_equal(spans.token, [1, 2])
    np.testing.assert_array_equal(spans.start, [0, 1])
    np.testing.assert_array_equal(spans.end, [1, 2])
    np.testing.assert_allclose(spans.score, [0.4, 0.4], rtol=1e-14)


def test_viterbi_equals_best_enumerated_path(tiny: TinyCase) -> None:
    expected_score, expected_path = best_path(tiny.log_y, tiny.label, tiny.blank)

    alignment = fastctc.forced_align(
        tiny.inputs, [tiny.label], blank=tiny.blank, log_probs=tiny.log_probs
    )
    if expected_path is None:
        assert alignment.scores[0] == -np.inf and not alignment.feasible[0]
        assert alignment.spans[0] is None
        assert np.all(alignment.labels == -1) and np.all(alignment.states == -1)
        return
    assert alignment.feasible[0]
    np.testing.assert_array_equal(alignment.labels[0], expected_path)
    assert alignment.scores[0] == pytest.approx(expected_score, rel=1e-13, abs=1e-13)
    np.testing.assert_allclose(
        alignment.log_probs[0], tiny.log_y[np.arange(tiny.frames), list(expected_path)], rtol=1e-13
    )


def _check_path_and_spans(alignment: fastctc.Alignment, problem, n: int) -> None:
    """Everything an alignment says about sequence n is one consistent path."""
    frames, label = int(problem.input_lengths[n]), problem.labels[n]
    states = alignment.states[n, :frames]
    extended = reference.extend_label(label, problem.blank)
    # A CTC path: starts in state 0 or 1, ends in one of the last two, and moves by
    # 0, 1, or 2 (only into a label that differs from the one before).
    assert states[0] in (0, 1) and states[-1] >= extended.size - 2
    moves = np.diff(states)
    assert np.all((moves >= 0) & (moves <= 2))
    for t in np.flatnonzero(moves == 2):
        s = states[t + 1]
        assert s % 2 == 1 and extended[s] != extended[s - 2]
    np.testing.assert_array_equal(alignment.labels[n, :frames], extended[states])
    assert np.all(alignment.labels[n, frames:] == -1) and np.all(alignment.states[n, frames:] == -1)
    assert np.all(alignment.log_probs[n, frames:] == 0.0)
    assert alignment.scores[n] == pytest.approx(alignment.log_probs[n].sum(), rel=1e-5)
    # The spans: one per token, in order, covering exactly the frames of its state.
    spans = alignment.spans[n]
    assert spans is not None and len(spans) == len(label)
    np.testing.assert_array_equal(spans.token, label)
    for j in range(len(label)):
        start, end = spans.start[j], spans.end[j]
        assert 0 <= start < end <= frames
        assert np.all(states[start:end] == 2 * j + 1)
        assert np.sum(states == 2 * j + 1) == end - start
        expected = np.mean(np.exp(alignment.log_probs[n, start:end].astype(np.float64)))
        assert spans.score[j] == pytest.approx(expected, rel=1e-5)
    if len(label):
        assert np.all(spans.start[1:] >= spans.end[:-1])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("log_probs", [False, True], ids=["logits", "log_probs"])
def test_paths_and_spans_are_consistent(
    rng: np.random.Generator, dtype: type, log_probs: bool
) -> None:
    problem = random_problem(rng, frames=40, batch=12, classes=7, max_label=15, dtype=dtype)
    alignment = fastctc.forced_align(
        problem.inputs, problem.labels, problem.input_lengths, log_probs=log_probs
    )
    assert alignment.log_probs.dtype == dtype and alignment.scores.dtype == dtype
    assert alignment.labels.shape == alignment.states.shape == (12, 40)
    for n in range(12):
        _check_path_and_spans(alignment, problem, n)


def test_a_single_possible_path_has_the_loss_as_its_score(rng: np.random.Generator) -> None:
    # With exactly as many frames as the label needs there is one path: p(best) = p(l|x).
    inputs = rng.standard_normal((5, 1, 4))
    label = [1, 1, 2, 3]  # needs 4 + 1 frames (a blank between the two 1s)
    alignment = fastctc.forced_align(inputs, [label])
    loss = fastctc.ctc_loss(inputs, [label])
    assert alignment.scores[0] == pytest.approx(-loss[0], rel=1e-13)
    np.testing.assert_array_equal(alignment.labels[0], [1, 0, 1, 2, 3])


def test_impossible_items_are_flagged_and_others_unaffected(rng: np.random.Generator) -> None:
    inputs = rng.standard_normal((6, 4, 5))
    log_y = reference.log_softmax(inputs)
    log_y[:, 2, 3] = -np.inf  # class 3 has probability zero for sequence 2
    log_y[4, 3, :] = np.nan  # sequence 3 reads a NaN
    labels = [[1, 2], [1, 1, 1, 1], [3], [2]]  # sequence 1 needs 7 frames, has 6
    alignment = fastctc.forced_align(log_y, labels, log_probs=True)
    alone = fastctc.forced_align(log_y[:, :1], labels[:1], log_probs=True)
    np.testing.assert_array_equal(alignment.feasible, [True, False, False, False])
    assert alignment.scores[1] == -np.inf and alignment.scores[2] == -np.inf
    assert np.isnan(alignment.scores[3])
    for n in (1, 2, 3):
        assert alignment.spans[n] is None
        assert np.all(alignment.labels[n] == -1) and np.all(alignment.states[n] == -1)
        assert np.all(alignment.log_probs[n] == 0.0)
    np.testing.assert_array_equal(alignment.labels[0], alone.labels[0])
    assert alignment.scores[0] == alone.scores[0]


def test_empty_labels_and_empty_inputs() -> None:
    inputs = np.log(np.full((3, 3, 4), 0.25))
    alignment = fastctc.forced_align(inputs, [[], [], [2]], [3, 0, 0], log_probs=True)
    np.testing.assert_array_equal(alignment.labels, [[0, 0, 0], [-1, -1, -1], [-1, -1, -1]])
    np.testing.assert_allclose(alignment.scores, [3 * np.log(0.25), 0.0, -np.inf])
    assert alignment.spans[0] is not None and len(alignment.spans[0]) == 0
    assert alignment.spans[1] is not None and len(alignment.spans[1]) == 0
    assert alignment.spans[2] is None


def test_batch_of_nothing() -> None:
    alignment = fastctc.forced_align(np.zeros((4, 0, 3)), [])
    assert alignment.labels.shape == (0, 4) and alignment.scores.shape == (0,)
    assert alignment.spans == []


def test_blank_anywhere_and_layouts(rng: np.random.Generator) -> None:
    problem = random_problem(rng, frames=20, batch=5, classes=6, max_label=8, blank=-1)
    args = (problem.labels, problem.input_lengths)
    expected = fastctc.forced_align(problem.inputs, *args, blank=-1)
    ntc = fastctc.forced_align(problem.inputs.transpose(1, 0, 2), *args, blank=5, layout="NTC")
    strided = np.zeros((20, 5, 12))
    strided[:, :, ::2] = problem.inputs
    sliced = fastctc.forced_align(strided[:, :, ::2], *args, blank=-1)
    for result in (ntc, sliced):
        np.testing.assert_array_equal(result.states, expected.states)
        np.testing.assert_array_equal(result.scores, expected.scores)
    for n in range(5):
        _check_path_and_spans(expected, problem, n)


def test_bit_identical_for_any_thread_count(rng: np.random.Generator) -> None:
    problem = random_problem(rng, frames=50, batch=17, classes=8, max_label=20)
    args = (problem.inputs, problem.labels, problem.input_lengths)
    first = fastctc.forced_align(*args, num_threads=1)
    for threads in (2, 5, None):
        result = fastctc.forced_align(*args, num_threads=threads)
        np.testing.assert_array_equal(result.states, first.states)
        np.testing.assert_array_equal(result.log_probs, first.log_probs)
        np.testing.assert_array_equal(result.scores, first.scores)


def test_float32_matches_float64(rng: np.random.Generator) -> None:
    problem = random_problem(rng, frames=30, batch=6, classes=5, max_label=10)
    args = (problem.labels, problem.input_lengths)
    wide = fastctc.forced_align(problem.inputs, *args)
    narrow = fastctc.forced_align(problem.inputs.astype(np.float32), *args)
    np.testing.assert_array_equal(narrow.states, wide.states)
    np.testing.assert_allclose(narrow.scores, wide.scores, rtol=1e-5)


def test_ties_are_broken_as_documented() -> None:
    # All paths equally likely: reading back from the end, the path ends in the final
    # blank and stays in a state rather than moving, so tokens come as early as they can.
    uniform = np.zeros((5, 1, 4))
    alignment = fastctc.forced_align(uniform, [[1, 2]])
    np.testing.assert_array_equal(alignment.labels[0], [1, 2, 0, 0, 0])
    np.testing.assert_array_equal(alignment.states[0], [1, 3, 4, 4, 4])
