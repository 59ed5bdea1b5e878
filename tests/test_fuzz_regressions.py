"""What the fuzzer (fuzz/ctc_fuzzer.cpp) found in fastctc, reproduced through the Python API.

Each input it stopped on is also kept in fuzz/regressions/ and replayed by .ci/fuzz.
"""

from __future__ import annotations

import numpy as np

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


def test_loss_alone_and_loss_with_gradient_agree_with_the_reference() -> None:
    expected = reference.ctc_loss(
        CALL["inputs"], CALL["labels"], CALL["input_lengths"], blank=CALL["blank"]
    )
    np.testing.assert_allclose(fastctc.ctc_loss(**CALL), expected, rtol=1e-15)
    np.testing.assert_allclose(fastctc.ctc_loss_and_grad(**CALL)[0], expected, rtol=1e-15)


def test_loss_alone_and_loss_with_gradient_agree_to_rounding() -> None:
    # The loss alone and the loss with the gradient are certified differently (the loss
    # alone needs an exact forward pass, the gradient a per-frame bound), so on inputs
    # like this one they may take different number systems and differ in the last bits.
    # The promise is agreement to rounding, not bit for bit; bit-for-bit holds across
    # thread counts (tests/test_properties.py::test_results_are_bit_identical_for_any_thread_count).
    alone = fastctc.ctc_loss(**CALL)
    with_gradient = fastctc.ctc_loss_and_grad(**CALL)[0]
    assert np.all(np.abs(alone - with_gradient) <= 4 * np.spacing(np.abs(with_gradient)))
