"""Agreement with torch.nn.functional.ctc_loss (skipped where PyTorch is absent)."""

from __future__ import annotations

import numpy as np
import pytest
from problems import random_problem

import fastctc

torch = pytest.importorskip("torch")
F = torch.nn.functional

DTYPES = [pytest.param(np.float64, id="float64"), pytest.param(np.float32, id="float32")]
# PyTorch's float32 kernel works in float32 log space (errors of a few 1e-5 on the
# gradient); fastctc accumulates in double. test_float32_is_closer_to_float64_than_torch
# checks which of the two is nearer the float64 answer.
TOLERANCES = {np.float64: {"rtol": 1e-10, "atol": 1e-12}, np.float32: {"rtol": 1e-4, "atol": 1e-4}}


def _torch_loss_and_grad(logits: np.ndarray, problem, reduction: str, zero_infinity: bool = False):
    """PyTorch's loss, and its gradient with respect to the logits through log_softmax."""
    x = torch.tensor(logits, requires_grad=True)
    loss = F.ctc_loss(
        F.log_softmax(x, dim=-1),
        torch.tensor(problem.padded_labels(pad=0)),
        torch.tensor(problem.input_lengths),
        torch.tensor(problem.label_lengths),
        blank=problem.blank,
        reduction=reduction,
        zero_infinity=zero_infinity,
    )
    loss.sum().backward()
    return loss.detach().numpy(), x.grad.numpy()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
@pytest.mark.parametrize("blank", [0, 4], ids=["blank-0", "blank-4"])
def test_logits_match_torch(
    rng: np.random.Generator, dtype: type, reduction: str, blank: int
) -> None:
    problem = random_problem(
        rng, frames=50, batch=8, classes=12, max_label=15, blank=blank, dtype=dtype
    )
    expected_loss, expected_grad = _torch_loss_and_grad(problem.inputs, problem, reduction)
    loss, grad = fastctc.ctc_loss_and_grad(
        problem.inputs,
        problem.padded_labels(),
        problem.input_lengths,
        problem.label_lengths,
        blank=blank,
        reduction=reduction,
    )
    np.testing.assert_allclose(loss, expected_loss, **TOLERANCES[dtype])
    np.testing.assert_allclose(grad, expected_grad, **TOLERANCES[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
def test_log_probs_gradient_composes_with_log_softmax_backward(
    rng: np.random.Generator, dtype: type
) -> None:
    # fastctc's gradient with respect to log-probabilities is the true partial
    # derivative (-occupancy). Pushed back through log_softmax it equals the logit
    # gradient PyTorch computes end to end.
    problem = random_problem(rng, frames=40, batch=6, classes=10, max_label=12, dtype=dtype)
    _, expected_grad = _torch_loss_and_grad(problem.inputs, problem, "mean")

    x = torch.tensor(problem.inputs, requires_grad=True)
    log_probs = F.log_softmax(x, dim=-1)
    _, grad = fastctc.ctc_loss_and_grad(
        log_probs.detach().numpy(),
        problem.labels,
        problem.input_lengths,
        log_probs=True,
        reduction="mean",
    )
    log_probs.backward(torch.from_numpy(grad))
    np.testing.assert_allclose(x.grad.numpy(), expected_grad, **TOLERANCES[dtype])


def test_impossible_items_match_torch_zero_infinity(rng: np.random.Generator) -> None:
    problem = random_problem(
        rng, frames=10, batch=4, classes=6, max_label=4, variable_lengths=False
    )
    problem.labels[1] = np.array([1, 1, 1, 1, 1, 1])  # needs 11 frames
    expected_loss, expected_grad = _torch_loss_and_grad(
        problem.inputs, problem, "none", zero_infinity=True
    )
    loss, grad = fastctc.ctc_loss_and_grad(problem.inputs, problem.labels, zero_infinity=True)
    np.testing.assert_allclose(loss, expected_loss, rtol=1e-10)
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-10, atol=1e-12)
    assert loss[1] == 0.0


def test_float32_is_closer_to_float64_than_torch(rng: np.random.Generator) -> None:
    problem = random_problem(rng, frames=150, batch=16, classes=28, max_label=40, dtype=np.float32)
    args = (problem.padded_labels(), problem.input_lengths, problem.label_lengths)
    _, exact = fastctc.ctc_loss_and_grad(problem.inputs.astype(np.float64), *args)
    _, ours = fastctc.ctc_loss_and_grad(problem.inputs, *args)
    _, theirs = _torch_loss_and_grad(problem.inputs, problem, "none")
    our_error = np.max(np.abs(ours - exact))
    assert our_error < 1e-6
    assert our_error <= np.max(np.abs(theirs - exact))
