"""Calls from forked children and from several Python threads at once."""

from __future__ import annotations

import multiprocessing
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from problems import random_problem

import fastctc


def _loss_in_child(arguments: tuple) -> np.ndarray:
    inputs, labels, lengths = arguments
    return fastctc.ctc_loss(inputs, labels, lengths, num_threads=2)


@pytest.mark.skipif(sys.platform == "win32", reason="no fork on Windows")
def test_forked_children_after_multithreaded_calls_do_not_hang(rng: np.random.Generator) -> None:
    problem = random_problem(rng, frames=40, batch=32, classes=10, max_label=10)
    arguments = (problem.inputs, problem.labels, problem.input_lengths)
    expected = fastctc.ctc_loss(*arguments, num_threads=2)  # the parent's OpenMP pool starts
    with multiprocessing.get_context("fork").Pool(2) as pool:
        pending = pool.map_async(_loss_in_child, [arguments] * 4)
        results = pending.get(timeout=60)  # GNU libgomp would hang here without the fallback
    for result in results:
        np.testing.assert_array_equal(result, expected)


def test_concurrent_python_threads_match_sequential_calls(rng: np.random.Generator) -> None:
    problems = [random_problem(rng, frames=60, batch=8, classes=12, max_label=15) for _ in range(8)]
    calls = [(p.inputs, p.labels, p.input_lengths) for p in problems]
    expected = [fastctc.ctc_loss_and_grad(*call, num_threads=1) for call in calls]
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(
            pool.map(lambda call: fastctc.ctc_loss_and_grad(*call, num_threads=2), calls * 3)
        )
    for i, (loss, grad) in enumerate(results):
        np.testing.assert_array_equal(loss, expected[i % 8][0])
        np.testing.assert_array_equal(grad, expected[i % 8][1])
