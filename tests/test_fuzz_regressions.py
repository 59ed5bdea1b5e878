"""What the fuzzer (fuzz/ctc_fuzzer.cpp) found in fastctc, reproduced through the Python API.

Each input it stopped on is also kept in fuzz/regressions/ and replayed by .ci/fuzz.
"""

from __future__ import annotations

import numpy as np
import pytest

import fastctc
from fastctc import reference

# fuzz/regressions/loss-alone-one-ulp-from-loss-with-gradient: T=11, C=6, blank=3,
# frames of -1e30 logits in the middle.
FRAMES = [
    [-6.625, -6.75, -6.625, -5, -6.625, -4.875],
    [-4.625, -3.375, -5.25, -5.625, -5.875, 9.375],
    [9.375, -10.375, 9.375, 9.375, 9.375, 9.375],
    [9.375, 9.375, -5.375, -5, -6.5, -3.375],
    [-5.5, -7.125, -1e30, -1e30, -1e30, -1e30],
    [-1e30] * 6,
    [-1e30] * 6,
    [-1e30, -1e30, -1e30, -2.75, -2.625, -1.5],
    [-2.125, -7.875, -2.625, -2.75, -11.25, -0.75],
    [-1.375, -1.5, -11.25, -0.875, -2.125, -11.25],
    [-2.625, -0.625, -1.75, -3.125, -0.5, -11.25],
]
CALL = {
    "inputs": np.array(FRAMES)[:, None, :],
    "labels": [[0, 4, 0, 4, 1]],
    "input_lengths": [10],
    "blank": 3,
    "num_threads": 1,
}

# fuzz/regressions/loss-alone-nine-ulps-from-loss-with-gradient-near-zero: a loss of
# 0.024 (p near 1), logits of -700 in one frame.
NEAR_ZERO_CALL = {
    "inputs": np.array(
        [[-14.75, -7.25], [-10.125, -2.625], [-15.25, -700], [-9.875, -13.75], [-9.5, -15.125]]
    )[:, None, :],
    "labels": [[1]],
    "input_lengths": [5],
    "blank": 0,
}
CALLS = [CALL, NEAR_ZERO_CALL]
CALL_IDS = ["one-ulp", "near-zero"]


@pytest.mark.parametrize("call", CALLS, ids=CALL_IDS)
def test_loss_alone_and_loss_with_gradient_agree_with_the_reference(call: dict) -> None:
    expected = reference.ctc_loss(
        call["inputs"], call["labels"], call["input_lengths"], blank=call["blank"]
    )
    # Relative to max(|loss|, 1): see the next test.
    atol = 4 * np.finfo(np.float64).eps
    np.testing.assert_allclose(fastctc.ctc_loss(**call), expected, rtol=1e-15, atol=atol)
    np.testing.assert_allclose(
        fastctc.ctc_loss_and_grad(**call)[0], expected, rtol=1e-15, atol=atol
    )


@pytest.mark.parametrize("call", CALLS, ids=CALL_IDS)
def test_loss_alone_and_loss_with_gradient_agree_to_rounding(call: dict) -> None:
    # The loss alone and the loss with the gradient are certified differently (the loss
    # alone needs an exact forward pass, the gradient a per-frame bound), so on inputs
    # like these they may take different number systems and differ in the last bits.
    # The promise is agreement to 4 ulps of max(|loss|, 1), not bit for bit: a loss near
    # 0 is -ln p for p near 1, a sum of per-frame terms of order 1 that cancel, so its
    # rounding error is of order eps (9 ulps of 0.024 on the second input). Bit for bit
    # holds across thread counts
    # (tests/test_properties.py::test_results_are_bit_identical_for_any_thread_count).
    alone = fastctc.ctc_loss(**call)
    with_gradient = fastctc.ctc_loss_and_grad(**call)[0]
    bound = 4 * np.spacing(np.maximum(np.abs(with_gradient), 1.0))
    assert np.all(np.abs(alone - with_gradient) <= bound)
