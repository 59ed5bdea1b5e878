"""The core and the reference against the definition: every alignment enumerated."""

from __future__ import annotations

import numpy as np
import pytest
from brute_force import enumerate_alignments
from problems import CASE_IDS, TINY_CASES, TinyCase

import fastctc
from fastctc import reference


def _occupancy_from_grad(grad: np.ndarray, log_y: np.ndarray, log_probs: bool) -> np.ndarray:
    # logits: grad = softmax - occupancy; log-scores: grad = -occupancy.
    return (0.0 if log_probs else np.exp(log_y)) - grad


def test_core_equals_enumeration(tiny: TinyCase) -> None:
    log_p, occupancy = enumerate_alignments(tiny.log_y, tiny.label, tiny.blank)

    loss, grad = fastctc.ctc_loss_and_grad(
        tiny.inputs, [tiny.label], blank=tiny.blank, log_probs=tiny.log_probs
    )
    if log_p == -np.inf:
        assert loss[0] == np.inf
        assert np.all(grad == 0.0)
        return
    assert loss[0] == pytest.approx(-log_p, rel=1e-12, abs=1e-12)
    np.testing.assert_allclose(
        _occupancy_from_grad(grad[:, 0], tiny.log_y, tiny.log_probs), occupancy, rtol=0, atol=1e-12
    )


@pytest.mark.parametrize(("frames", "classes", "label", "blank"), TINY_CASES, ids=CASE_IDS)
def test_reference_equals_enumeration(
    rng: np.random.Generator, frames: int, classes: int, label: list[int], blank: int
) -> None:
    log_y = reference.log_softmax(rng.standard_normal((frames, classes)))
    expected_log_p, expected_occupancy = enumerate_alignments(log_y, label, blank)
    log_p, occupancy = reference.occupancy(log_y, label, blank)
    assert log_p == pytest.approx(expected_log_p, rel=1e-13)
    np.testing.assert_allclose(occupancy, expected_occupancy, rtol=0, atol=1e-13)


@pytest.mark.parametrize(("frames", "classes", "label", "blank"), TINY_CASES[:8], ids=CASE_IDS[:8])
def test_enumeration_with_zero_probabilities(
    rng: np.random.Generator, frames: int, classes: int, label: list[int], blank: int
) -> None:
    # Some classes have probability exactly 0 (log -inf) at some frames.
    probs = rng.random((frames, classes))
    probs[rng.random((frames, classes)) < 0.25] = 0.0
    probs[:, blank] += 0.1  # keep each row with some mass
    with np.errstate(divide="ignore"):
        log_y = np.log(probs / probs.sum(axis=1, keepdims=True))
    log_p, occupancy = enumerate_alignments(log_y, label, blank)
    loss, grad = fastctc.ctc_loss_and_grad(log_y[:, None], [label], blank=blank, log_probs=True)
    assert not np.any(np.isnan(grad)) and not np.isnan(loss[0])
    if log_p == -np.inf:
        assert loss[0] == np.inf and np.all(grad == 0.0)
    else:
        assert loss[0] == pytest.approx(-log_p, rel=1e-12, abs=1e-12)
        np.testing.assert_allclose(-grad[:, 0], occupancy, rtol=0, atol=1e-12)
