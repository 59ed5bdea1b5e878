"""The compiled packing of the usual labels and lengths (_targets.pyx) against the
general path of _api.py: the same arrays where the arguments are good, and where
they are not, no packing and the general path's message."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest

import fastctc
from fastctc import _api

T, N, C, S = 7, 5, 6, 4
BLANK = 0


def _padded(dtype: Any, rng: np.random.Generator) -> np.ndarray:
    return rng.integers(1, C, size=(N, S)).astype(dtype)


def _lengths(rng: np.random.Generator, high: int) -> np.ndarray:
    return rng.integers(0, high + 1, size=N).astype(np.int64)


def _both_paths(labels: Any, input_lengths: Any, label_lengths: Any) -> tuple[Any, Any]:
    shape = (T, N, C)
    packed = _api._packed_targets(shape, labels, input_lengths, label_lengths, BLANK)
    checked = _api._checked_targets(shape, labels, input_lengths, label_lengths, BLANK)
    return packed, checked


def _assert_same_targets(packed: Any, checked: Any) -> None:
    assert packed is not None
    for name in ("labels", "input_lengths", "label_lengths"):
        got, expected = getattr(packed, name), getattr(checked, name)
        assert got.dtype == expected.dtype and got.flags.c_contiguous, name
        np.testing.assert_array_equal(got, expected, err_msg=name)
    assert packed.blank == checked.blank


@pytest.mark.parametrize("dtype", [np.int32, np.int64])
@pytest.mark.parametrize("with_input_lengths", [False, True])
@pytest.mark.parametrize("with_label_lengths", [False, True])
def test_padded_labels_pack_as_the_general_path_does(
    dtype: Any, with_input_lengths: bool, with_label_lengths: bool
) -> None:
    rng = np.random.default_rng(1)
    labels = _padded(dtype, rng)
    input_lengths = _lengths(rng, T) if with_input_lengths else None
    label_lengths = _lengths(rng, S) if with_label_lengths else None
    _assert_same_targets(*_both_paths(labels, input_lengths, label_lengths))


@pytest.mark.parametrize("dtype", [np.int32, np.int64])
def test_concatenated_labels_pack_as_the_general_path_does(dtype: Any) -> None:
    rng = np.random.default_rng(2)
    label_lengths = _lengths(rng, S)
    labels = rng.integers(1, C, size=int(label_lengths.sum())).astype(dtype)
    _assert_same_targets(*_both_paths(labels, _lengths(rng, T), label_lengths))


def test_strided_read_only_labels_pack_as_the_general_path_does() -> None:
    rng = np.random.default_rng(3)
    wide = rng.integers(1, C, size=(2 * N, 3 * S))
    labels = wide[::2, ::3]  # neither row nor column contiguous
    labels.flags.writeable = False
    lengths = _lengths(rng, S)
    lengths.flags.writeable = False
    _assert_same_targets(*_both_paths(labels, None, lengths))
    _assert_same_targets(*_both_paths(np.asfortranarray(labels), None, lengths))


def test_an_empty_batch_packs() -> None:
    shape = (T, 0, C)
    labels = np.zeros((0, S), np.int64)
    packed = _api._packed_targets(shape, labels, None, None, BLANK)
    checked = _api._checked_targets(shape, labels, None, None, BLANK)
    _assert_same_targets(packed, checked)


def test_packed_lengths_are_copies() -> None:
    rng = np.random.default_rng(4)
    input_lengths, label_lengths = _lengths(rng, T), _lengths(rng, S)
    labels = _padded(np.int64, rng)
    packed = _api._packed_targets((T, N, C), labels, input_lengths, label_lengths, BLANK)
    assert packed is not None
    assert not np.shares_memory(packed.input_lengths, input_lengths)
    assert not np.shares_memory(packed.label_lengths, label_lengths)


@pytest.mark.parametrize(
    ("labels", "input_lengths", "label_lengths"),
    [
        ([[1, 2], [3], [1], [2], [4]], None, None),  # lists
        (np.ones((N, S), np.int16), None, None),  # another integer type
        (np.ones((N, S), ">i8"), None, None),  # not native-endian
        (np.ones((N, S), np.int64), np.full(N, T, np.int32), None),  # int32 lengths
        (np.ones((N, S), np.int64), [T] * N, None),  # a list of lengths
        (np.ones(S, np.int64), None, None),  # 1-D without lengths
    ],
)
def test_other_kinds_of_argument_take_the_general_path(
    labels: Any, input_lengths: Any, label_lengths: Any
) -> None:
    assert _api._packed_targets((T, N, C), labels, input_lengths, label_lengths, BLANK) is None


def _bad_cases() -> list[tuple[str, dict[str, Any]]]:
    good = np.full((N, S), 2, np.int64)
    label_lengths = np.full(N, 2, np.int64)

    def labels_with(value: int) -> np.ndarray:
        labels = good.copy()
        labels[3, 1] = value
        return labels

    def lengths_with(value: int) -> np.ndarray:
        lengths = label_lengths.copy()
        lengths[2] = value
        return lengths

    concatenated = np.full(2 * N, 2, np.int64)
    return [
        ("negative label", {"labels": labels_with(-1)}),
        ("label past C", {"labels": labels_with(C)}),
        ("blank label", {"labels": labels_with(BLANK)}),
        ("negative input length", {"input_lengths": np.array([T, T, -1, T, T])}),
        ("input length past T", {"input_lengths": np.array([T, T, T + 1, T, T])}),
        ("negative label length", {"label_lengths": lengths_with(-2)}),
        ("label length past S", {"label_lengths": lengths_with(S + 1)}),
        ("huge label length", {"label_lengths": lengths_with(2**62)}),
        ("too few lengths", {"input_lengths": np.full(N - 1, T, np.int64)}),
        ("lengths in a column", {"input_lengths": np.full((N, 1), T, np.int64)}),
        ("too few rows", {"labels": good[:-1]}),
        ("concatenation too short", {"labels": concatenated[:-1], "label_lengths": label_lengths}),
        ("concatenation too long", {"labels": concatenated, "label_lengths": lengths_with(3)}),
        (
            "concatenation overflows",
            {"labels": concatenated, "label_lengths": np.array([2**62, 2**62, 2**62, 2**62, 8])},
        ),
    ]


@pytest.mark.parametrize("dtype", [np.int32, np.int64])
@pytest.mark.parametrize(
    ("case", "arguments"), _bad_cases(), ids=[case for case, _ in _bad_cases()]
)
def test_bad_values_are_not_packed_and_are_named(
    dtype: Any, case: str, arguments: dict[str, Any]
) -> None:
    labels = arguments.get("labels", np.full((N, S), 2)).astype(dtype)
    input_lengths = arguments.get("input_lengths")
    default_lengths = np.full(N, 2, np.int64) if labels.ndim == 1 else None
    label_lengths = arguments.get("label_lengths", default_lengths)
    shape = (T, N, C)
    assert _api._packed_targets(shape, labels, input_lengths, label_lengths, BLANK) is None
    try:
        _api._checked_targets(shape, labels, input_lengths, label_lengths, BLANK)
    except ValueError as error:
        expected = str(error)
    else:
        pytest.fail(f"the general path took the {case}")
    logits = np.zeros(shape, np.float32)
    with pytest.raises(ValueError, match=f"^{re.escape(expected)}$"):
        fastctc.ctc_loss(logits, labels, input_lengths, label_lengths, blank=BLANK)
