"""10,000 calls keep the process size flat: nothing leaks per call, on any path."""

from __future__ import annotations

import gc
import os
import sys

import numpy as np
import pytest
from problems import random_problem

import fastctc

CALLS = 10_000


def _resident_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/statm")
def test_ten_thousand_calls_keep_the_process_size_flat(rng: np.random.Generator) -> None:
    problem = random_problem(rng, frames=32, batch=4, classes=8, max_label=8)
    labels, lengths = problem.padded_labels(), problem.label_lengths
    bad_labels = [np.array([99]), *problem.labels[1:]]  # out of range: raises early

    def one_call(i: int) -> None:
        # Fresh arrays every time, 8 KB of inputs each: a reference kept to any of
        # them, or a workspace never freed, would grow the process by 80 MB or more.
        inputs = problem.inputs * 1.0
        kind = i % 4
        if kind == 0:
            fastctc.ctc_loss(inputs, labels, problem.input_lengths, lengths, num_threads=1)
        elif kind == 1:
            fastctc.ctc_loss_and_grad(inputs, labels, problem.input_lengths, lengths, num_threads=1)
        elif kind == 2:
            fastctc.ctc_loss_and_grad(
                inputs.transpose(1, 0, 2),
                problem.labels,
                problem.input_lengths,
                layout="NTC",
                reduction="mean",
                out=np.empty(()),
                grad_out=np.empty((4, 32, 8)),
                num_threads=2,
            )
        else:
            with pytest.raises(ValueError, match="out of range"):
                fastctc.ctc_loss_and_grad(inputs, bad_labels, problem.input_lengths)

    for i in range(500):  # warm up: allocator pools, OpenMP's threads, caches
        one_call(i)
    gc.collect()
    resident, blocks = _resident_bytes(), sys.getallocatedblocks()
    for i in range(CALLS):
        one_call(i)
    gc.collect()
    grown, new_blocks = _resident_bytes() - resident, sys.getallocatedblocks() - blocks
    assert grown < 4 * 2**20, f"the process grew by {grown / 2**20:.1f} MiB over {CALLS} calls"
    assert new_blocks < CALLS // 10, f"{new_blocks} more Python objects after {CALLS} calls"
