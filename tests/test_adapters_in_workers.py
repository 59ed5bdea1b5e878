"""The framework adapters from forked workers and from several Python threads at once.

Each test skips when its framework is absent. Forked workers are tested with PyTorch
(its DataLoader forks them); JAX and TensorFlow do not support fork() after they
start their own runtime threads, so they are tested from threads only.
"""

from __future__ import annotations

import multiprocessing
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from fastctc.testing import CTCProblem, random_ctc_problem


def _problems(count: int) -> list[CTCProblem]:
    return [
        random_ctc_problem(seed, frames=40, batch=6, classes=8, max_label=10, dtype=np.float32)
        for seed in range(count)
    ]


def _torch_loss_and_grad(problem: CTCProblem) -> tuple[np.ndarray, np.ndarray]:
    import torch

    import fastctc.torch

    logits = torch.tensor(problem.inputs, requires_grad=True)
    loss = fastctc.torch.ctc_loss(
        logits,
        torch.tensor(problem.padded_labels(pad=0)),
        torch.tensor(problem.input_lengths),
        torch.tensor(problem.label_lengths),
        reduction="none",
        logits=True,
    )
    loss.sum().backward()
    return loss.detach().numpy(), logits.grad.numpy()


def _jax_loss_and_grad(problem: CTCProblem) -> tuple[np.ndarray, np.ndarray]:
    import jax

    import fastctc.jax

    frames = problem.inputs.shape[0]
    logits = problem.inputs.transpose(1, 0, 2)  # (B, T, K)
    logit_paddings = (np.arange(frames)[None, :] >= problem.input_lengths[:, None]) * 1.0
    labels = problem.padded_labels(pad=0)
    label_paddings = (labels == 0) * 1.0

    def total(x: jax.Array) -> tuple[jax.Array, jax.Array]:
        losses = fastctc.jax.ctc_loss(x, logit_paddings, labels, label_paddings)
        return losses.sum(), losses

    (_, losses), grad = jax.jit(jax.value_and_grad(total, has_aux=True))(logits)
    return np.asarray(losses), np.asarray(grad).transpose(1, 0, 2)


def _tensorflow_loss_and_grad(problem: CTCProblem) -> tuple[np.ndarray, np.ndarray]:
    import tensorflow as tf

    import fastctc.tensorflow

    logits = tf.constant(problem.inputs)
    with tf.GradientTape() as tape:
        tape.watch(logits)
        loss = fastctc.tensorflow.ctc_loss(
            problem.padded_labels(pad=0),
            logits,
            problem.label_lengths,
            problem.input_lengths,
        )
    return loss.numpy(), tape.gradient(loss, logits).numpy()


ADAPTERS = {
    "torch": ("torch", _torch_loss_and_grad),
    "jax": ("jax", _jax_loss_and_grad),
    "tensorflow": ("tensorflow", _tensorflow_loss_and_grad),
}


@pytest.mark.parametrize("adapter", sorted(ADAPTERS))
def test_concurrent_python_threads_match_sequential_calls(adapter: str) -> None:
    framework, loss_and_grad = ADAPTERS[adapter]
    pytest.importorskip(framework)
    problems = _problems(4)
    expected = [loss_and_grad(problem) for problem in problems]
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(loss_and_grad, problems * 3))
    for i, (loss, grad) in enumerate(results):
        np.testing.assert_array_equal(loss, expected[i % 4][0])
        np.testing.assert_array_equal(grad, expected[i % 4][1])


@pytest.mark.skipif(sys.platform == "win32", reason="no fork on Windows")
def test_torch_adapter_in_forked_workers_after_multithreaded_calls() -> None:
    pytest.importorskip("torch")
    problems = _problems(4)
    # The parent runs the adapter first (OpenMP threads started), as a training
    # process does before its DataLoader forks its workers.
    expected = [_torch_loss_and_grad(problem) for problem in problems]
    with multiprocessing.get_context("fork").Pool(2) as pool:
        results = pool.map_async(_torch_loss_and_grad, problems).get(timeout=120)
    for (loss, grad), (expected_loss, expected_grad) in zip(results, expected):
        np.testing.assert_array_equal(loss, expected_loss)
        np.testing.assert_array_equal(grad, expected_grad)
