"""Greedy (best-path) decoding against the argmax rule written out in NumPy."""

from __future__ import annotations

import numpy as np
import pytest
from problems import random_problem

import fastctc
from fastctc import reference


def _argmax_rule(
    log_y: np.ndarray, length: int, blank: int, merge_repeated: bool
) -> tuple[list[int], list[int], float]:
    """B(pi*) for pi* = argmax per frame: tokens, their first frames, and ln p(pi*)."""
    best = np.argmax(log_y[:length], axis=-1)
    starts = np.ones(length, dtype=bool)
    if merge_repeated:
        starts[1:] = best[1:] != best[:-1]
    keep = starts & (best != blank)
    score = float(np.sum(log_y[np.arange(length), best]))
    return best[keep].tolist(), np.flatnonzero(keep).tolist(), score


def test_worked_example() -> None:
    # Frame argmaxes 1 1 0 1 2 2 0 (blank 0): tokens 1 1 2 starting at frames 0 3 4.
    best = [1, 1, 0, 1, 2, 2, 0]
    log_y = np.log(np.full((7, 3), 0.25))
    log_y[np.arange(7), best] = np.log(0.5)
    merged = fastctc.greedy_decode(log_y[:, None], log_probs=True)[0]
    np.testing.assert_array_equal(merged.tokens, [1, 1, 2])
    np.testing.assert_array_equal(merged.frames, [0, 3, 4])
    assert merged.log_prob == pytest.approx(7 * np.log(0.5), rel=1e-15)
    assert merged.score == merged.log_prob
    kept = fastctc.greedy_decode(log_y[:, None], log_probs=True, merge_repeated=False)[0]
    np.testing.assert_array_equal(kept.tokens, [1, 1, 1, 2, 2])
    np.testing.assert_array_equal(kept.frames, [0, 1, 3, 4, 5])


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("log_probs", [False, True], ids=["logits", "log_probs"])
@pytest.mark.parametrize("merge_repeated", [True, False], ids=["merge", "keep"])
@pytest.mark.parametrize("blank", [0, 3, -1])
def test_equals_the_argmax_rule(
    rng: np.random.Generator, dtype: type, log_probs: bool, merge_repeated: bool, blank: int
) -> None:
    problem = random_problem(rng, frames=30, batch=9, classes=6, max_label=0, dtype=dtype)
    # Whole numbers make ties common; the first maximum wins, as in np.argmax.
    inputs = np.round(problem.inputs * 1.5).astype(dtype)
    hypotheses = fastctc.greedy_decode(
        inputs,
        problem.input_lengths,
        blank=blank,
        merge_repeated=merge_repeated,
        log_probs=log_probs,
    )
    for n, hypothesis in enumerate(hypotheses):
        u = inputs[:, n].astype(np.float64)
        log_y = u if log_probs else reference.log_softmax(u)
        tokens, frames, score = _argmax_rule(
            log_y, int(problem.input_lengths[n]), blank % 6, merge_repeated
        )
        assert hypothesis.tokens.tolist() == tokens
        assert hypothesis.frames.tolist() == frames
        assert hypothesis.log_prob == pytest.approx(
            score, rel=1e-6 if dtype == np.float32 else 1e-13
        )


def test_layouts_strides_and_threads(rng: np.random.Generator) -> None:
    inputs = rng.standard_normal((25, 11, 7))
    lengths = rng.integers(0, 26, size=11)
    expected = fastctc.greedy_decode(inputs, lengths, num_threads=1)
    variants = [
        fastctc.greedy_decode(inputs.transpose(1, 0, 2), lengths, layout="NTC"),
        fastctc.greedy_decode(np.asfortranarray(inputs), lengths, num_threads=3),
        fastctc.greedy_decode(inputs[:, :, ::-1].copy()[:, :, ::-1], lengths, num_threads=None),
    ]
    for result in variants:
        for got, want in zip(result, expected):
            np.testing.assert_array_equal(got.tokens, want.tokens)
            np.testing.assert_array_equal(got.frames, want.frames)
            assert got.log_prob == want.log_prob


def test_empty_inputs_and_nan() -> None:
    inputs = np.zeros((3, 2, 4))
    inputs[1, 1, 2] = np.nan
    empty, with_nan = fastctc.greedy_decode(inputs, [0, 3])
    assert empty.tokens.size == 0 and empty.log_prob == 0.0
    assert np.isnan(with_nan.log_prob)
    assert with_nan.tokens.tolist() == [2]  # NaN wins the argmax, as in NumPy
    assert fastctc.greedy_decode(np.zeros((5, 0, 3))) == []
