"""The gradient against central finite differences of the loss, in float64."""

from __future__ import annotations

import numpy as np
import pytest
from problems import random_problem

import fastctc

REDUCTIONS = ["none", "sum", "mean"]


def _total_loss(inputs: np.ndarray, problem, reduction: str, log_probs: bool, layout: str) -> float:
    loss = fastctc.ctc_loss(
        inputs,
        problem.labels,
        problem.input_lengths,
        layout=layout,
        reduction=reduction,
        log_probs=log_probs,
    )
    # With reduction="none" the gradient is that of each sequence's own loss; the
    # sequences are independent, so it is also the gradient of their sum.
    return float(np.sum(loss))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("log_probs", [False, True], ids=["logits", "log_probs"])
@pytest.mark.parametrize("layout", ["TNC", "NTC"])
def test_gradient_matches_central_differences(
    rng: np.random.Generator, reduction: str, log_probs: bool, layout: str
) -> None:
    problem = random_problem(rng, frames=6, batch=3, classes=4, max_label=3)
    problem.input_lengths[0] = 4  # frames 4 and 5 of sequence 0 are padding
    inputs = (
        problem.inputs
        if layout == "TNC"
        else np.ascontiguousarray(problem.inputs.transpose(1, 0, 2))
    )
    _, grad = fastctc.ctc_loss_and_grad(
        inputs,
        problem.labels,
        problem.input_lengths,
        layout=layout,
        reduction=reduction,
        log_probs=log_probs,
    )
    step = 1e-6
    numeric = np.zeros_like(inputs)
    for index in np.ndindex(inputs.shape):
        plus, minus = inputs.copy(), inputs.copy()
        plus[index] += step
        minus[index] -= step
        numeric[index] = (
            _total_loss(plus, problem, reduction, log_probs, layout)
            - _total_loss(minus, problem, reduction, log_probs, layout)
        ) / (2 * step)
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-8)
