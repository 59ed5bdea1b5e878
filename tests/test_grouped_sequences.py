"""Sequences with short labels computed side by side give each sequence its own bits.

In a batch, sequences whose labels have at most 64 positions go through the lattice in
groups of eight or four, side by side (cpp/src/grouped_lattice.hpp): labels padded to the
group's longest, inputs to its longest. Each lane performs its sequence's own operations
in the same order, so every result must equal, bit for bit, that of the sequence computed
alone (a batch of one on one thread never groups); a lane that cannot vouch for its
result is computed again alone, which must not show either. Since that holds just as
well when nothing is grouped, the workspace is checked to show the groups being planned:
four at a time when every thread gets a group of four; with the gradient, eight at a
time (the first sequences) when every thread gets as many groups of eight and their rows
are small (kWideGroupBytes in cpp/src/workspace.cpp).
"""

from __future__ import annotations

import numpy as np
import pytest

import fastctc
from fastctc import reference

GROUPED_LABELS = 64


def _batch(seed: int, batch: int | None = None) -> dict:
    rng = np.random.default_rng(seed)
    frames = int(rng.integers(1, 90))
    if batch is None:
        batch = int(rng.integers(4, 14))  # groups when there are four sequences a thread
    classes = int(rng.integers(2, 40))
    longest = int(rng.integers(0, GROUPED_LABELS + 8))  # some past the grouped lengths
    scale = [1.0, 5.0, 60.0][seed % 3]  # 60: peaked, some lanes fall back to log space
    dtype = [np.float32, np.float64][seed % 2]
    inputs = (scale * rng.standard_normal((frames, batch, classes))).astype(dtype)
    input_lengths = rng.integers(frames // 3, frames + 1, size=batch)
    label_lengths = rng.integers(0, longest + 1, size=batch)
    if seed % 4:  # else some labels need more frames than they have: probability 0
        label_lengths = np.minimum(label_lengths, input_lengths)
    labels = rng.integers(1, classes, size=(batch, max(longest, 1)))
    if seed % 5 == 0:  # repeated labels: compulsory blanks between them
        labels[:, 1::2] = labels[:, :1]
    log_probs = seed % 7 == 0
    if log_probs:
        wide = inputs.astype(np.float64)
        inputs = (wide - np.log(np.exp(wide).sum(-1, keepdims=True))).astype(dtype)
    return {
        "inputs": inputs,
        "labels": labels,
        "input_lengths": input_lengths,
        "label_lengths": label_lengths,
        "log_probs": log_probs,
    }


def _one(args: dict, n: int) -> dict:
    return {
        "inputs": args["inputs"][:, n : n + 1],
        "labels": args["labels"][n : n + 1],
        "input_lengths": args["input_lengths"][n : n + 1],
        "label_lengths": args["label_lengths"][n : n + 1],
        "log_probs": args["log_probs"],
    }


@pytest.mark.parametrize("seed", range(48))
def test_each_sequence_of_a_group_gets_its_own_bits(seed: int) -> None:
    _assert_each_gets_its_own_bits(_batch(seed), threads=1 + seed % 3)


@pytest.mark.parametrize("seed", range(100, 124))
def test_each_sequence_of_a_wide_group_gets_its_own_bits(seed: int) -> None:
    # Eight short sequences a thread or more: with the gradient, where the rows are
    # small, groups of eight, then of four, then single sequences.
    threads = 1 + seed % 3
    batch = 8 * threads + seed % 13
    _assert_each_gets_its_own_bits(_batch(seed, batch), threads)


def _assert_each_gets_its_own_bits(args: dict, threads: int) -> None:
    loss, grad = fastctc.ctc_loss_and_grad(**args, num_threads=threads)
    alone = fastctc.ctc_loss(**args, num_threads=threads)
    posteriors = fastctc.ctc_posteriors(**args, num_threads=threads)
    for n in range(args["inputs"].shape[1]):
        one = _one(args, n)
        loss_1, grad_1 = fastctc.ctc_loss_and_grad(**one, num_threads=1)
        np.testing.assert_array_equal(loss[n], loss_1[0], err_msg=f"loss of {n}")
        np.testing.assert_array_equal(grad[:, n], grad_1[:, 0], err_msg=f"gradient of {n}")
        alone_1 = fastctc.ctc_loss(**one, num_threads=1)
        np.testing.assert_array_equal(alone[n], alone_1[0], err_msg=f"loss alone of {n}")
        posteriors_1 = fastctc.ctc_posteriors(**one, num_threads=1)
        states = posteriors_1.states.shape[2]
        np.testing.assert_array_equal(posteriors.classes[:, n], posteriors_1.classes[:, 0])
        np.testing.assert_array_equal(posteriors.states[:, n, :states], posteriors_1.states[:, 0])
        np.testing.assert_array_equal(posteriors.states[:, n, states:], 0)
        likelihood, likelihood_1 = posteriors.log_likelihoods[n], posteriors_1.log_likelihoods[0]
        np.testing.assert_array_equal(likelihood, likelihood_1)


def test_a_group_of_very_different_sequences() -> None:
    # One group: 1 frame with no label, a long input with a one-label label, a label of
    # exactly 64 positions (three blocks) and one of 32 (the second block's first blank).
    rng = np.random.default_rng(11)
    frames, classes = 300, 20
    inputs = rng.standard_normal((frames, 4, classes)).astype(np.float32)
    label_lengths = np.array([0, 1, 64, 32])
    input_lengths = np.array([1, 300, 130, 70])
    labels = rng.integers(1, classes, size=(4, 64))
    # One thread: four sequences a thread make a group (two threads would take two each).
    loss, grad = fastctc.ctc_loss_and_grad(
        inputs, labels, input_lengths, label_lengths, num_threads=1
    )
    for n in range(4):
        one = slice(n, n + 1)
        loss_1, grad_1 = fastctc.ctc_loss_and_grad(
            inputs[:, one], labels[one], input_lengths[one], label_lengths[one], num_threads=1
        )
        np.testing.assert_array_equal(loss[n], loss_1[0])
        np.testing.assert_array_equal(grad[:, n], grad_1[:, 0])
    assert np.all(grad[1:, 0] == 0)  # past its one frame


def test_a_group_whose_lanes_read_their_frames_differently() -> None:
    # With 150 classes, a label of 24 positions or more has its frames read through a
    # table of the classes' exponentials (C <= 2 |l| + 102: uses_class_table() in
    # cpp/src/scratch.hpp), written straight into its lane of the group's emissions; a
    # shorter one position by position, then copied into its lane. This group has two
    # lanes of each kind, and inputs and labels of four lengths.
    rng = np.random.default_rng(12)
    frames, classes = 160, 150
    inputs = rng.standard_normal((frames, 4, classes))
    label_lengths = np.array([5, 40, 20, 64])
    input_lengths = np.array([160, 90, 120, 150])
    labels = rng.integers(1, classes, size=(4, 64))
    args = (inputs, labels, input_lengths, label_lengths)
    row_bytes = (2 * 64 + 1 + 64 // 32 + 3) * 8
    assert fastctc.workspace_size(*args, num_threads=1) >= 4 * frames * row_bytes  # grouped
    loss, grad = fastctc.ctc_loss_and_grad(*args, num_threads=1)
    alone = fastctc.ctc_loss(*args, num_threads=1)
    trimmed = [label[:length] for label, length in zip(labels, label_lengths)]
    expected_loss, expected_grad = reference.ctc_loss_and_grad(inputs, trimmed, input_lengths)
    np.testing.assert_allclose(loss, expected_loss, rtol=1e-12)
    np.testing.assert_allclose(grad, expected_grad, rtol=0, atol=1e-12)
    for n in range(4):
        one = slice(n, n + 1)
        loss_1, grad_1 = fastctc.ctc_loss_and_grad(
            inputs[:, one], labels[one], input_lengths[one], label_lengths[one], num_threads=1
        )
        np.testing.assert_array_equal(loss[n], loss_1[0])
        np.testing.assert_array_equal(alone[n], loss_1[0])
        np.testing.assert_array_equal(grad[:, n], grad_1[:, 0])


def test_short_sequences_are_grouped_when_each_thread_gets_a_group() -> None:
    # A group keeps its sequences' lattice rows side by side, so the workspace shows
    # whether groups are planned: four or more short sequences a thread, else none.
    frames, label_length = 100, 10
    inputs = np.zeros((frames, 8, 5), np.float32)
    labels = np.ones((8, label_length), dtype=np.int64)
    row_bytes = (2 * label_length + 1 + label_length // 32 + 3) * 8
    grouped = fastctc.workspace_size(inputs[:, :4], labels[:4], num_threads=1)
    assert grouped >= 4 * frames * row_bytes
    assert fastctc.workspace_size(inputs, labels, num_threads=2) >= 2 * grouped - 4096
    alone = fastctc.workspace_size(inputs[:, :3], labels[:3], num_threads=1)
    assert alone < 2 * frames * row_bytes
    assert fastctc.workspace_size(inputs[:, :4], labels[:4], num_threads=2) < grouped


def test_eight_short_sequences_a_thread_go_eight_at_a_time_where_their_rows_are_small() -> None:
    frames, label_length = 100, 10
    inputs = np.zeros((frames, 16, 5), np.float32)
    labels = np.ones((16, label_length), dtype=np.int64)
    row_bytes = (2 * label_length + 1 + label_length // 32 + 3) * 8
    wide = fastctc.workspace_size(inputs, labels, num_threads=1)
    assert wide >= 8 * frames * row_bytes
    assert fastctc.workspace_size(inputs, labels, num_threads=2) >= 2 * wide - 4096
    # Eight a thread are needed: on two threads, eight sequences go four at a time.
    four = fastctc.workspace_size(inputs[:, :8], labels[:8], num_threads=2)
    assert 2 * 4 * frames * row_bytes <= four < 2 * 8 * frames * row_bytes
    # Twenty frames times more: a group of eight's rows would not stay in a core's cache.
    long = np.zeros((20 * frames, 16, 5), np.float32)
    narrow = fastctc.workspace_size(long, labels, num_threads=1)
    assert 4 * 20 * frames * row_bytes <= narrow < 8 * 20 * frames * row_bytes


@pytest.mark.parametrize("classes", [1, 2, 5, 7, 8, 9, 15, 16, 17, 30, 31, 32, 33, 63, 64, 65])
def test_a_wide_group_fills_its_lanes_class_tables_together_with_their_own_bits(
    classes: int,
) -> None:
    # For float32 logits, a group of eight with rows of at most 64 classes fills its
    # lanes' class tables together where AVX-512 is compiled, the rows transposed in
    # registers (lane_class_tables() in cpp/src/probability_space.hpp), and starts their
    # gradient rows together (lane_grad_rows()): the chunks of eight classes of rows of
    # any length, each lane's sum in the order its own sequence takes. Sixteen sequences
    # on one thread: two groups of eight. Lane 1 has a -inf logit, lane 2 inputs spread
    # wide enough to flush, lane 3 a NaN.
    rng = np.random.default_rng(classes)
    frames, batch = 40, 16
    inputs = rng.standard_normal((frames, batch, classes)).astype(np.float32)
    inputs[:, 1, -1] = -np.inf
    inputs[:, 2] *= 2000
    inputs[7, 3, classes // 2] = np.nan
    input_lengths = rng.integers(frames // 2, frames + 1, size=batch)
    label_lengths = rng.integers(0, 9, size=batch) if classes > 1 else np.zeros(batch, int)
    labels = rng.integers(1, max(classes, 2), size=(batch, 8))
    args = (inputs, labels, input_lengths, label_lengths)
    alone = fastctc.ctc_loss(*args, num_threads=1)
    loss, grad = fastctc.ctc_loss_and_grad(*args, num_threads=1)
    for n in range(batch):
        one = (inputs[:, n : n + 1], labels[n : n + 1], input_lengths[n : n + 1])
        alone_1 = fastctc.ctc_loss(*one, label_lengths[n : n + 1], num_threads=1)
        np.testing.assert_array_equal(alone[n], alone_1[0], err_msg=f"loss alone of {n}")
        loss_1, grad_1 = fastctc.ctc_loss_and_grad(*one, label_lengths[n : n + 1], num_threads=1)
        np.testing.assert_array_equal(loss[n], loss_1[0], err_msg=f"loss of {n}")
        np.testing.assert_array_equal(grad[:, n], grad_1[:, 0], err_msg=f"gradient of {n}")
    assert np.isnan(alone[3]) and np.isfinite(alone[4]) and np.isfinite(grad[:, 4]).all()


def test_a_lane_whose_label_emission_flushed_to_zero_is_computed_again() -> None:
    # Label "a b" in four frames (classes: blank, a, b and a filler, the largest of every
    # frame; the blank impossible). The path a a a b emits a at frame 1 with e^-750,
    # which a class table in double flushes to 0; the path a b b b, e^-400 twice, stays.
    # Without the table's verdict (ProbabilitySpace::table_verdict(), which a group of
    # eight filling its lanes' tables together asks for the lanes lane_class_tables()
    # finds doubtful), the loss alone would be that of a b b b alone: 50 too large.
    pattern = np.full((4, 4), -np.inf, np.float32)
    pattern[:, 3] = 0.0
    pattern[0, 1] = pattern[2, 1] = pattern[3, 2] = 0.0
    pattern[1, 1], pattern[1, 2], pattern[2, 2] = -750.0, -400.0, -400.0
    batch, lane = 16, 2
    inputs = np.random.default_rng(1).standard_normal((4, batch, 4)).astype(np.float32)
    inputs[:, lane] = pattern
    labels = np.tile([1, 2], (batch, 1))
    input_lengths, label_lengths = np.full(batch, 4), np.full(batch, 2)
    alone = fastctc.ctc_loss(inputs, labels, input_lengths, label_lengths, num_threads=1)
    loss, _ = fastctc.ctc_loss_and_grad(inputs, labels, input_lengths, label_lengths, num_threads=1)
    expected = reference.ctc_loss(inputs.astype(np.float64), list(labels), input_lengths)
    # -ln(e^-750 + e^-800 + e^-1150), and ln 2 for each of three frames that share
    # their mass between two classes.
    exact = 750 - np.log1p(np.exp(-50.0)) + 3 * np.log(2)
    np.testing.assert_allclose(expected[lane], exact, rtol=1e-12)
    np.testing.assert_allclose(alone, expected, rtol=1e-6)
    np.testing.assert_allclose(loss, expected, rtol=1e-6)
    one = (inputs[:, lane : lane + 1], labels[:1], input_lengths[:1], label_lengths[:1])
    np.testing.assert_array_equal(alone[lane], fastctc.ctc_loss(*one)[0])
