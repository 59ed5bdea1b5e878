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
# fuzz/regressions/loss-alone-eight-ulps-from-loss-with-gradient-large-log-scores:
# unnormalised log-scores of +15 and a -1e30, a loss of 2.16 summed from terms of ~15.
LARGE_SCORES_CALL = {
    "inputs": np.array(
        [
            [10.625, 15, 15, 15],
            [15, 15, 13.875, 13.875],
            [13.875, 13.875, -13.75, -13.75],
            [-13.75, -13.75, -13.75, -5.75],
            [-13.75, -13.75, -13.75, -1e30],
        ]
    )[:, None, :],
    "labels": [[1, 2, 2]],
    "input_lengths": [5],
    "blank": 3,
    "log_probs": True,
}
CALLS = [CALL, NEAR_ZERO_CALL, LARGE_SCORES_CALL]
CALL_IDS = ["one-ulp", "near-zero", "large-log-scores"]


def _rounding_bound(call: dict, loss: np.ndarray) -> np.ndarray:
    """4 eps times the size of the terms each loss is a sum of: |loss| and, per frame, a
    bound on its emissions, 2 max_c |x_c| + ln C over the finite inputs. As in
    fuzz/ctc_fuzzer.cpp."""
    inputs = np.abs(np.asarray(call["inputs"], dtype=np.float64))
    finite = np.where(np.isfinite(inputs), inputs, 0.0)
    per_frame = 2 * finite.max(axis=2) + np.log(inputs.shape[2])  # (T, N)
    frames = np.arange(inputs.shape[0])[:, None] < np.asarray(call["input_lengths"])[None, :]
    scale = np.abs(loss) + np.where(frames, per_frame, 0.0).sum(axis=0)
    return 4 * np.finfo(np.float64).eps * scale


@pytest.mark.parametrize("call", CALLS, ids=CALL_IDS)
def test_loss_alone_and_loss_with_gradient_agree_with_the_reference(call: dict) -> None:
    expected = reference.ctc_loss(
        call["inputs"],
        call["labels"],
        call["input_lengths"],
        blank=call["blank"],
        log_probs=call.get("log_probs", False),
    )
    bound = _rounding_bound(call, expected)
    assert np.all(np.abs(fastctc.ctc_loss(**call) - expected) <= bound)
    assert np.all(np.abs(fastctc.ctc_loss_and_grad(**call)[0] - expected) <= bound)


@pytest.mark.parametrize("call", CALLS, ids=CALL_IDS)
def test_loss_alone_and_loss_with_gradient_agree_to_rounding(call: dict) -> None:
    # The loss alone and the loss with the gradient are certified differently (the loss
    # alone by what its forward rows can have lost, the gradient by a per-frame bound
    # on both rows' products), so on inputs
    # like these they may take different number systems and differ in the last bits.
    # The promise is agreement to rounding, not bit for bit: a loss is a sum of
    # per-frame terms, and its rounding error scales with their size, not with the
    # loss's (9 ulps of a loss of 0.024 on the second input, 8 ulps of 2.16 summed from
    # log-scores of 15 on the third). Bit for bit holds across thread counts
    # (tests/test_properties.py::test_results_are_bit_identical_for_any_thread_count).
    alone = fastctc.ctc_loss(**call)
    with_gradient = fastctc.ctc_loss_and_grad(**call)[0]
    assert np.all(np.abs(alone - with_gradient) <= _rounding_bound(call, with_gradient))
