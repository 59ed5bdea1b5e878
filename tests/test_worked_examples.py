"""Hand-computed CTC cases with their exact numbers."""

from __future__ import annotations

import math

import numpy as np
import pytest

import fastctc
from fastctc import reference

DTYPES = [np.float64, np.float32]


def _log(p: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.log(p)


# a. Classes [A, C, T, blank], label "CA", T = 4, probabilities with exact zeros.
CA_PROBS = np.array(
    [[0.2, 0.1, 0.1, 0.6], [0.0, 0.7, 0.2, 0.1], [0.2, 0.0, 0.0, 0.8], [0.6, 0.1, 0.1, 0.2]]
)
CA_OCCUPANCY = np.array(
    [[0, 0.16, 0, 0.84], [0, 0.98, 0, 0.02], [0.25, 0, 0, 0.75], [0.9375, 0, 0, 0.0625]]
)


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
def test_label_ca_with_zero_probabilities(dtype: type) -> None:
    log_probs = _log(CA_PROBS)[:, None, :].astype(dtype)
    loss, grad = fastctc.ctc_loss_and_grad(log_probs, [[1, 0]], blank=3, log_probs=True)
    assert loss.dtype == dtype and grad.dtype == dtype
    # p("CA") = 0.32 exactly: the alignments are C-C-A-A, C-C-_-A, C-_-A-A, _-C-A-A, ...
    tol = 1e-15 if dtype == np.float64 else 1e-7
    assert np.exp(-float(loss[0])) == pytest.approx(0.32, rel=tol)
    assert float(loss[0]) == pytest.approx(1.1394342831883648, rel=tol)
    assert math.isclose(-math.log(0.32), 1.1394342831883648, rel_tol=1e-15)
    # With log-probabilities in, the gradient is minus the posterior occupancy.
    np.testing.assert_allclose(-grad[:, 0, :], CA_OCCUPANCY, rtol=0, atol=10 * tol)
    assert np.all(np.isfinite(grad))


# b. Logits, 4 classes, label [0, 1, 0, 1], one-hot logit rows at 0, 3, 0, 3, 3.
ONE_HOT_ROWS = [0, 3, 0, 3, 3]
ONE_HOT_GRAD = np.array(
    [
        [-0.51064587, 0.17487772, 0.17487772, 0.16089036],
        [0.12286875, -0.6697599, 0.17487772, 0.37201348],
        [-0.29322746, -0.01850624, 0.17487772, 0.13685611],
        [-0.15988137, -0.20941935, 0.17487772, 0.1944232],
        [0.17487772, -0.5441786, 0.17487772, 0.19442326],
    ]
)


@pytest.mark.parametrize("blank", [3, -1], ids=["blank=3", "blank=-1"])
@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
def test_one_hot_logits(blank: int, dtype: type) -> None:
    logits = np.zeros((5, 1, 4), dtype=dtype)
    logits[np.arange(5), 0, ONE_HOT_ROWS] = 1.0
    loss, grad = fastctc.ctc_loss_and_grad(logits, [[0, 1, 0, 1]], blank=blank)
    tol = 1e-15 if dtype == np.float64 else 1e-7
    assert float(loss[0]) == pytest.approx(4.448741134640764, rel=tol)
    # The published gradient digits are float32-rounded: agree to 2e-7.
    np.testing.assert_allclose(grad[:, 0, :], ONE_HOT_GRAD, rtol=0, atol=2e-7)
    # Rows of a gradient with respect to logits sum to zero (softmax and occupancy
    # both sum to one).
    np.testing.assert_allclose(grad.sum(axis=-1), 0.0, atol=10 * tol)


# c. Uniform outputs: every path has probability C**-T, so loss = T ln C - ln(#paths).
UNIFORM_CASES = [
    pytest.param(5, 5, [1, 2], 35, 4.491841500681089, id="T5-C5-label12-35paths"),
    pytest.param(3, 3, [1, 1], 1, 3.295836866004329, id="T3-C3-label11-1path"),
]


@pytest.mark.parametrize(("frames", "classes", "label", "paths", "expected"), UNIFORM_CASES)
@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
def test_uniform_outputs_count_paths(
    frames: int, classes: int, label: list[int], paths: int, expected: float, dtype: type
) -> None:
    assert math.isclose(frames * math.log(classes) - math.log(paths), expected, rel_tol=1e-15)
    loss = fastctc.ctc_loss(np.zeros((frames, 1, classes), dtype), [label])
    tol = 1e-15 if dtype == np.float64 else 1e-7
    assert float(loss[0]) == pytest.approx(expected, rel=tol)
    assert reference.ctc_loss(np.zeros((frames, 1, classes)), [label])[0] == pytest.approx(
        expected, rel=1e-15
    )


def test_repeated_label_needs_a_blank_between() -> None:
    # T = 2, label [1, 1]: the blank between the two 1s does not fit.
    loss, grad = fastctc.ctc_loss_and_grad(np.zeros((2, 1, 3)), [[1, 1]])
    assert loss[0] == np.inf
    assert np.all(grad == 0.0)
