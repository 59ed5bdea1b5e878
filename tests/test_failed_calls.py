"""A call that raises leaves out and grad_out untouched, on every raising path.

tests/test_bad_input.py covers the argument checks; this module covers the rest: output
arrays refused for their memory (unaligned, overlapping, zero strides), sizes the core
cannot address, a workspace the machine cannot allocate, and errors the native core
itself reports through the binding.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import fastctc
from fastctc import _ctc

T, N, C = 5, 2, 4
SENTINEL = 7.0


def _arguments() -> dict[str, Any]:
    inputs = np.random.default_rng(5).standard_normal((T, N, C))
    return {"inputs": inputs, "labels": [[1, 2], [3]], "input_lengths": [5, 4]}


def _unaligned(shape: tuple[int, ...], byte_strides: tuple[int, ...] | None = None) -> np.ndarray:
    """A writable float64 array at an odd address (and, if given, odd byte strides)."""
    storage = np.zeros(16 * int(np.prod(shape)) + 16, np.uint8)
    if byte_strides is None:
        return np.ndarray(shape, np.float64, buffer=storage, offset=1)
    # With negative strides the first element sits at the far end of the storage.
    offset = 1 + sum((n - 1) * -s for n, s in zip(shape, byte_strides) if s < 0)
    return np.ndarray(shape, np.float64, buffer=storage, offset=offset, strides=byte_strides)


def _sharing_out_and_grad_out() -> dict[str, np.ndarray]:
    storage = np.zeros(T * N * C)
    return {"out": storage[:N], "grad_out": storage.reshape(T, N, C)}


def _assert_untouched_after(
    call: Callable[..., Any], exception: type[BaseException], match: str, **outputs: np.ndarray
) -> None:
    for array in outputs.values():
        array[...] = SENTINEL
    with pytest.raises(exception, match=match):
        call(**outputs)
    for name, array in outputs.items():
        assert np.all(array == SENTINEL), f"{name} was written by a call that raised"


OUTPUT_REFUSALS = [
    pytest.param(
        lambda: {"out": np.zeros(N), "grad_out": _unaligned((T, N, C))},
        r"grad_out is not aligned",
        id="grad_out-at-an-odd-address",
    ),
    pytest.param(
        # Negative odd strides once made the core write outside grad_out's memory.
        lambda: {"out": np.zeros(N), "grad_out": _unaligned((T, N, C), (-9 * N * C, -9 * C, -9))},
        r"grad_out is not aligned: its address and strides \(-72, -36, -9\)",
        id="grad_out-with-odd-negative-strides",
    ),
    pytest.param(
        lambda: {"out": _unaligned((N,)), "grad_out": np.zeros((T, N, C))},
        r"out is not aligned",
        id="out-at-an-odd-address",
    ),
    pytest.param(
        _sharing_out_and_grad_out,
        r"grad_out must not share memory with out",
        id="grad_out-sharing-memory-with-out",
    ),
    pytest.param(
        lambda: {
            "out": np.zeros(N),
            "grad_out": np.lib.stride_tricks.as_strided(
                np.zeros(C), (T, N, C), (0, 0, 8), writeable=True
            ),
        },
        r"grad_out must not have zero strides",
        id="grad_out-with-zero-strides",
    ),
]


@pytest.mark.parametrize(("make_outputs", "match"), OUTPUT_REFUSALS)
def test_refused_output_arrays_stay_untouched(
    make_outputs: Callable[[], dict[str, np.ndarray]], match: str
) -> None:
    arguments = _arguments()
    _assert_untouched_after(
        lambda **outputs: fastctc.ctc_loss_and_grad(**arguments, **outputs),
        ValueError,
        match,
        **make_outputs(),
    )


def test_grad_out_overlapping_inputs_stays_untouched() -> None:
    arguments = _arguments()
    inputs = arguments.pop("inputs")
    before = inputs.copy()
    with pytest.raises(ValueError, match="grad_out must not share memory with inputs"):
        fastctc.ctc_loss_and_grad(inputs, **arguments, grad_out=inputs)
    np.testing.assert_array_equal(inputs, before)


def test_unaddressable_size_raises_overflow_and_leaves_out_untouched() -> None:
    # A zero-stride view can claim 2**59 frames; its lattice (frames x 33 states) has
    # more entries than a uint64 counts, which even the loss alone refuses. (Were it
    # accepted, the call would run for ages: the query fails fast first.)
    inputs = np.broadcast_to(np.float32(0.0), (2**59, 1, 3))
    labels = [[1, 2] * 8]
    with pytest.raises(OverflowError):
        fastctc.workspace_size(inputs, labels, with_grad=False)
    _assert_untouched_after(
        lambda out: fastctc.ctc_loss(inputs, labels, out=out),
        OverflowError,
        "fastctc core: size overflow",
        out=np.zeros(1, np.float32),
    )


def test_unallocatable_workspace_raises_memory_error_and_leaves_outputs_untouched() -> None:
    # 10**5 frames and a label of 10**6 classes: the gradient's lattice needs
    # 10**5 x (2 x 10**6 + 1) doubles, about 1.5 TiB, which NumPy refuses to allocate.
    inputs = np.zeros((10**5, 1, 2))
    _assert_untouched_after(
        lambda out, grad_out: fastctc.ctc_loss_and_grad(
            inputs, [np.ones(10**6, np.int64)], out=out, grad_out=grad_out
        ),
        MemoryError,
        "Unable to allocate",
        out=np.zeros(1),
        grad_out=np.zeros_like(inputs),
    )


def _native_call(**changes: Any) -> dict[str, Any]:
    """Arguments for the binding that the Python API would never pass."""
    losses_out = np.full(N, SENTINEL)
    grad_out = np.full((T, N, C), SENTINEL)
    arguments: dict[str, Any] = {
        "inputs": np.zeros((T, N, C)),
        "labels": np.array([1, 2, 3], np.int32),
        "input_lengths": np.array([5, 4], np.int64),
        "label_lengths": np.array([2, 1], np.int64),
        "blank": 0,
        "log_probs": False,
        "zero_infinity": False,
        "num_threads": 1,
        "losses_out": losses_out,
        "grad_out": grad_out,
        "grad_scale": None,
        "workspace": np.zeros(1 << 16, np.uint8),
    }
    arguments.update(changes)
    return arguments


NATIVE_ERRORS = [
    pytest.param({"labels": np.array([1, 0, 3], np.int32)}, ValueError, id="label-equal-to-blank"),
    pytest.param({"labels": np.array([1, 9, 3], np.int32)}, ValueError, id="label-out-of-range"),
    pytest.param({"blank": 4}, ValueError, id="blank-out-of-range"),
    pytest.param(
        {"input_lengths": np.array([5, 6], np.int64)}, ValueError, id="input-length-past-T"
    ),
    pytest.param(
        {"label_lengths": np.array([2, -1], np.int64)}, ValueError, id="negative-label-length"
    ),
]


@pytest.mark.parametrize(("changes", "exception"), NATIVE_ERRORS)
def test_native_errors_raise_and_leave_outputs_untouched(
    changes: dict[str, Any], exception: type[BaseException]
) -> None:
    arguments = _native_call(**changes)
    with pytest.raises(exception, match=r"^fastctc core: "):
        _ctc.ctc_loss(**arguments)
    assert np.all(arguments["losses_out"] == SENTINEL)
    assert np.all(arguments["grad_out"] == SENTINEL)


@pytest.mark.parametrize("nbytes", [0, 16])
def test_a_workspace_too_small_is_reported_before_anything_is_written(nbytes: int) -> None:
    # The binding returns False, for the API to grow the workspace and call again.
    arguments = _native_call(workspace=np.zeros(nbytes, np.uint8))
    assert _ctc.ctc_loss(**arguments) is False
    assert np.all(arguments["losses_out"] == SENTINEL)
    assert np.all(arguments["grad_out"] == SENTINEL)
    arguments["workspace"] = np.zeros(1 << 16, np.uint8)
    assert _ctc.ctc_loss(**arguments) is True
    assert np.all(arguments["losses_out"] != SENTINEL)
