"""Bad input raises a clear exception before any native work; outputs stay untouched."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest

import fastctc

T, N, C = 6, 3, 5


def _good() -> dict[str, Any]:
    return {
        "inputs": np.zeros((T, N, C)),
        "labels": np.array([[1, 2, 0], [3, 0, 0], [4, 4, 1]]),
        "input_lengths": np.array([6, 5, 6]),
        "label_lengths": np.array([2, 1, 3]),
    }


def _with(**changes: Any) -> dict[str, Any]:
    arguments = _good()
    arguments.update(changes)
    return arguments


def _padded_with(n: int, j: int, value: int) -> np.ndarray:
    labels = _good()["labels"].copy()
    labels[n, j] = value
    return labels


CONCATENATED = np.array([1, 2, 3, 4, 4, 1])

BAD_INPUTS = [
    # (arguments, exception, message pattern)
    (
        _with(inputs=np.zeros((T, C))),
        ValueError,
        r"inputs to be 3-D \(T, N, C\).*2-D with shape \(6, 5\)",
    ),
    (_with(inputs=np.zeros((T, N, C, 1))), ValueError, r"inputs to be 3-D.*4-D"),
    (
        _with(inputs=np.zeros((T, N, C), np.int64)),
        TypeError,
        r"inputs must be float32 or float64, but got dtype int64",
    ),
    (
        _with(inputs=np.zeros((T, N, C), np.float16)),
        TypeError,
        r"float32 or float64, but got dtype float16",
    ),
    (_with(inputs=np.zeros((T, N, 0))), ValueError, r"classes .*but got C=0"),
    (
        _with(input_lengths=np.array([6, 5])),
        ValueError,
        r"input_lengths to have N=3 entries.*shape \(2,\)",
    ),
    (_with(label_lengths=np.array([2, 1, 3, 1])), ValueError, r"label_lengths to have N=3 entries"),
    (
        _with(labels=np.zeros((2, 3), np.int64) + 1),
        ValueError,
        r"padded labels of shape \(N=3, S\).*\(2, 3\)",
    ),
    (
        _with(labels=[[1], [2]], label_lengths=None),
        ValueError,
        r"one label sequence per batch item \(N=3\), but got 2",
    ),
    (_with(labels=np.zeros((N, 2, 2), np.int64)), ValueError, r"labels .* 3-D array"),
    (_with(labels=np.ones((N, 3))), TypeError, r"labels must hold integers, but got dtype float64"),
    (
        _with(labels=_padded_with(1, 0, 5)),
        ValueError,
        r"labels\[1, 0\] = 5 is out of range for C=5 classes",
    ),
    (
        _with(labels=_padded_with(2, 2, -3)),
        ValueError,
        r"labels\[2, 2\] = -3 is out of range for C=5",
    ),
    (
        _with(labels=_padded_with(0, 1, 0)),
        ValueError,
        r"labels\[0, 1\] = 0 is the blank class \(blank=0\)",
    ),
    (
        # Whole rows (no label_lengths), a blank between the smallest and largest label.
        _with(labels=np.array([[1, 3, 4], [4, 2, 1], [3, 3, 4]]), label_lengths=None, blank=2),
        ValueError,
        r"labels\[1, 1\] = 2 is the blank class \(blank=2\)",
    ),
    (
        _with(labels=np.array([[1, 3, 4], [4, 3, 1], [3, 3, 5]]), label_lengths=None),
        ValueError,
        r"labels\[2, 2\] = 5 is out of range for C=5 classes",
    ),
    (
        _with(labels=np.array([1, 2, 3, 4, 7, 1])),
        ValueError,
        r"labels\[4\] = 7 is out of range for C=5",
    ),
    (
        _with(labels=[[1, 2], [3], [4, 9, 1]], label_lengths=None),
        ValueError,
        r"labels\[2\]\[1\] = 9 is out of range",
    ),
    (
        _with(labels=[[1, 2], [3], [[4, 1]]], label_lengths=None),
        ValueError,
        r"labels\[2\] to be a 1-D sequence",
    ),
    (
        _with(labels=[[1, 2], [3], [4, 4, 1]], label_lengths=[2, 2, 3]),
        ValueError,
        r"label_lengths\[1\] = 2 does not match len\(labels\[1\]\) = 1",
    ),
    (
        _with(labels=CONCATENATED, label_lengths=np.array([2, 1, 2])),
        ValueError,
        r"label_lengths add up to 5, but the concatenated labels have 6 entries",
    ),
    (
        _with(labels=CONCATENATED, label_lengths=None),
        ValueError,
        r"label_lengths is required with 1-D concatenated labels",
    ),
    (_with(input_lengths=np.array([6, -1, 6])), ValueError, r"input_lengths\[1\] = -1 is negative"),
    (_with(label_lengths=np.array([2, -2, 3])), ValueError, r"label_lengths\[1\] = -2 is negative"),
    (
        _with(input_lengths=np.array([6, 7, 6])),
        ValueError,
        r"Expected input_lengths\[1\] to be at most T=6, but got 7",
    ),
    (
        _with(label_lengths=np.array([2, 1, 4])),
        ValueError,
        r"label_lengths\[2\] to be at most the padded label width S=3, but got 4",
    ),
    (
        _with(input_lengths=np.array([6.0, 5.0, 6.0])),
        TypeError,
        r"input_lengths must hold integers, but got dtype float64",
    ),
    (
        _with(blank=5),
        ValueError,
        r"blank=5 is out of range for C=5 classes \(expected -5 <= blank < 5\)",
    ),
    (_with(blank=-6), ValueError, r"blank=-6 is out of range"),
    (_with(blank=1.0), TypeError, r"blank must be an integer class index, but got 1.0"),
    (_with(layout="CTN"), ValueError, r"layout must be one of \('TNC', 'NTC'\), but got 'CTN'"),
    (
        _with(reduction="avg"),
        ValueError,
        r"reduction must be one of \('none', 'sum', 'mean'\), but got 'avg'",
    ),
    (_with(num_threads=0), ValueError, r"num_threads must be at least 1, but got 0"),
    (_with(num_threads=2.0), TypeError, r"num_threads must be an integer, but got 2.0"),
    (_with(out=np.zeros(N + 1)), ValueError, r"out to have shape \(3,\), but got \(4,\)"),
    (
        _with(out=np.zeros(N, np.float32)),
        TypeError,
        r"out must have dtype float64 like inputs, but got float32",
    ),
    (
        _with(out=np.zeros(N), reduction="sum"),
        ValueError,
        r"out to have shape \(\), but got \(3,\)",
    ),
]
BAD_IDS = [re.sub(r"[^A-Za-z0-9=_]+", "-", pattern)[:60].strip("-") for _, _, pattern in BAD_INPUTS]

GRAD_BAD_INPUTS = [
    (
        _with(grad_out=np.zeros((T, N, C + 1))),
        ValueError,
        r"grad_out to have shape \(6, 3, 5\), but got \(6, 3, 6\)",
    ),
    (
        _with(grad_out=np.zeros((T, N, C), np.float32)),
        TypeError,
        r"grad_out must have dtype float64",
    ),
    (_with(grad_out=np.zeros((N, T, C))), ValueError, r"grad_out to have shape \(6, 3, 5\)"),
]


def _read_only(shape: tuple[int, ...]) -> np.ndarray:
    array = np.zeros(shape)
    array.flags.writeable = False
    return array


@pytest.mark.parametrize(("arguments", "exception", "pattern"), BAD_INPUTS, ids=BAD_IDS)
@pytest.mark.parametrize("function", ["ctc_loss", "ctc_loss_and_grad"])
def test_bad_input_raises(
    arguments: dict[str, Any], exception: type, pattern: str, function: str
) -> None:
    with pytest.raises(exception, match=pattern):
        getattr(fastctc, function)(**arguments)


@pytest.mark.parametrize(("arguments", "exception", "pattern"), GRAD_BAD_INPUTS)
def test_bad_grad_out_raises(arguments: dict[str, Any], exception: type, pattern: str) -> None:
    with pytest.raises(exception, match=pattern):
        fastctc.ctc_loss_and_grad(**arguments)


def test_read_only_outputs_are_refused() -> None:
    with pytest.raises(ValueError, match="out is read-only"):
        fastctc.ctc_loss(**_with(out=_read_only((N,))))
    with pytest.raises(ValueError, match="grad_out is read-only"):
        fastctc.ctc_loss_and_grad(**_with(grad_out=_read_only((T, N, C))))


def test_grad_out_overlapping_inputs_is_refused() -> None:
    arguments = _good()
    with pytest.raises(ValueError, match="grad_out must not share memory with inputs"):
        fastctc.ctc_loss_and_grad(**arguments, grad_out=arguments["inputs"])


def test_out_must_be_an_array() -> None:
    with pytest.raises(TypeError, match="out must be a NumPy array, but got list"):
        fastctc.ctc_loss(**_with(out=[0.0, 0.0, 0.0]))


@pytest.mark.parametrize(
    ("arguments", "exception", "pattern"),
    BAD_INPUTS + GRAD_BAD_INPUTS,
    ids=[*BAD_IDS, "grad-shape", "grad-dtype", "grad-layout"],
)
def test_a_failed_call_writes_nothing(
    arguments: dict[str, Any], exception: type, pattern: str
) -> None:
    arguments = dict(arguments)
    inputs = np.asarray(arguments["inputs"])
    dtype = inputs.dtype if inputs.dtype.kind == "f" else np.float64
    reduction = arguments.get("reduction", "none")
    if "out" not in arguments:
        arguments["out"] = np.full(N if reduction == "none" else (), 7.0, dtype)
    if "grad_out" not in arguments:
        arguments["grad_out"] = np.full((T, N, C), 7.0, dtype)
    before_out, before_grad = np.copy(arguments["out"]), np.copy(arguments["grad_out"])
    with pytest.raises(exception):
        fastctc.ctc_loss_and_grad(**arguments)
    np.testing.assert_array_equal(arguments["out"], before_out)
    np.testing.assert_array_equal(arguments["grad_out"], before_grad)
