"""Arrays past 2**31 and 2**32 elements are addressed with 64-bit offsets, and sizes
past what the core can count raise before any work.

The dense test, marked ``huge``, needs about 9 GB of memory and a minute: run it with
``python -m pytest -m huge``. The sparse test reaches past 2**32 elements on any
machine that lets a process reserve 17 GB of address space, without touching it.
"""

from __future__ import annotations

import numpy as np
import pytest

import fastctc

INT32_LIMIT = 2**31
UINT32_LIMIT = 2**32


def test_log_scores_past_two_to_the_32_elements_are_read_where_they_are() -> None:
    # (T, N, C) = (32770, 2, 65536) float32 is 2**32 + 2**18 elements, 17 GB of address
    # space that stays untouched: NumPy's zeros are the kernel's zero pages until
    # written. With log_probs=True the core reads only the blank and label classes of
    # each frame, so it visits offsets t * N * C + n * C + c up to past 2**32.
    frames, batch, classes = 32770, 2, 65536
    try:
        inputs = np.zeros((frames, batch, classes), np.float32)
    except MemoryError:
        pytest.skip("this machine refuses to reserve 17 GB of address space")
    assert inputs.size > UINT32_LIMIT
    labels = [np.array([70, 65535, 70, 1]), np.array([65535, 2, 2])]
    used = np.array([0, 1, 2, 70, 65535])  # the blank and every label class
    rng = np.random.default_rng(3)
    # Distinct values at used classes of frames on both sides of 2**31 and 2**32;
    # every other frame keeps log-score 0 there.
    for t in (0, 1, 16383, 16384, 16385, 32766, 32767, 32768, 32769):
        inputs[t][:, used] = rng.uniform(-3, 1, (batch, used.size)).astype(np.float32)
    assert 32768 * batch * classes >= UINT32_LIMIT  # frames from 32768 on lie past 2**32
    loss = fastctc.ctc_loss(inputs, labels, log_probs=True)

    # The same problem over the used classes only: a few MB, small offsets.
    compact = np.ascontiguousarray(inputs[:, :, used])
    remap = {int(c): k for k, c in enumerate(used)}
    compact_labels = [np.array([remap[int(c)] for c in label]) for label in labels]
    expected = fastctc.ctc_loss(compact, compact_labels, log_probs=True)
    assert np.all(np.isfinite(expected))
    np.testing.assert_array_equal(loss, expected)


@pytest.mark.huge
def test_dense_logits_past_two_to_the_31_elements() -> None:
    # (N, T, C) = (2, 32768, 32769) float32 logits: 2**31 + 2**16 elements, 8.6 GB, on
    # the loss-only path, where every element is read for the softmax. Sequence 1 ends
    # past element 2**31 of the batch; passed alone, the same memory starts at offset 0.
    batch, frames, classes = 2, 32768, 32769
    inputs = np.empty((batch, frames, classes), np.float32)
    assert inputs.size > INT32_LIMIT
    rng = np.random.default_rng(11)
    for n in range(batch):
        for start in range(0, frames, 4096):
            rng.random(out=inputs[n, start : start + 4096], dtype=np.float32)
    labels = [rng.integers(1, classes, 100) for _ in range(batch)]

    loss = fastctc.ctc_loss(inputs, labels, layout="NTC")
    alone = fastctc.ctc_loss(inputs[1:], labels[1:], layout="NTC")
    assert np.all(np.isfinite(loss))
    assert loss[1] == alone[0]  # bit for bit: the same kernel on the same values


def test_workspace_sizes_are_counted_up_to_the_limit_and_refused_past_it() -> None:
    # Zero-stride views claim any number of frames at no cost. 2**55 frames with an
    # empty label: the gradient's lattice holds at least a byte per frame, which a
    # size_t still counts. 2**59 frames with a label of 16 (33 states): more lattice
    # entries than even a uint64 counts, with or without the gradient.
    counted = np.broadcast_to(np.float32(0.0), (2**55, 1, 3))
    assert fastctc.workspace_size(counted, [[]], num_threads=1) >= 2**55
    uncountable = np.broadcast_to(np.float32(0.0), (2**59, 1, 3))
    for with_grad in (True, False):
        with pytest.raises(OverflowError, match="size overflow: the batch is too large to address"):
            fastctc.workspace_size(uncountable, [[1, 2] * 8], num_threads=1, with_grad=with_grad)
