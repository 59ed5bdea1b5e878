"""Bad arguments to the alignment and decoding functions raise clear exceptions before
any native work, as the loss's do. They allocate their outputs themselves (no ``out=``),
so a call that raises leaves nothing behind."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest
from test_bad_input import BAD_INPUTS

import fastctc

T, N, C = 6, 3, 5

# The loss's argument errors, but those of its own options (reduction, out).
ALIGN_BAD_INPUTS = [
    (arguments, exception, pattern)
    for arguments, exception, pattern in BAD_INPUTS
    if "reduction" not in arguments and "out" not in arguments
]


@pytest.mark.parametrize(
    ("arguments", "exception", "pattern"),
    ALIGN_BAD_INPUTS,
    ids=[re.sub(r"[^A-Za-z0-9=_]+", "-", p)[:60].strip("-") for _, _, p in ALIGN_BAD_INPUTS],
)
@pytest.mark.parametrize("function", ["forced_align", "ctc_posteriors"])
def test_label_functions_check_like_the_loss(
    arguments: dict[str, Any], exception: type, pattern: str, function: str
) -> None:
    with pytest.raises(exception, match=pattern):
        getattr(fastctc, function)(**arguments)


def _frames(**changes: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = {"inputs": np.zeros((T, N, C)), "input_lengths": [6, 5, 6]}
    arguments.update(changes)
    return arguments


DECODER_BAD_INPUTS = [
    (_frames(inputs=np.zeros((T, C))), ValueError, r"inputs to be 3-D \(T, N, C\).*2-D"),
    (_frames(inputs=np.zeros((T, N, C), np.int32)), TypeError, r"float32 or float64.*int32"),
    (_frames(inputs=np.zeros((T, N, 0))), ValueError, r"but got C=0"),
    (_frames(input_lengths=[6, 5]), ValueError, r"input_lengths to have N=3 entries"),
    (_frames(input_lengths=[6, -1, 6]), ValueError, r"input_lengths\[1\] = -1 is negative"),
    (_frames(input_lengths=[6, 7, 6]), ValueError, r"input_lengths\[1\] to be at most T=6"),
    (_frames(input_lengths=[6.0, 5.0, 6.0]), TypeError, r"input_lengths must hold integers"),
    (_frames(blank=5), ValueError, r"blank=5 is out of range for C=5 classes"),
    (_frames(blank="0"), TypeError, r"blank must be an integer class index, but got '0'"),
    (_frames(layout="tnc"), ValueError, r"layout must be one of \('TNC', 'NTC'\)"),
    (_frames(num_threads=0), ValueError, r"num_threads must be at least 1, but got 0"),
]
DECODER_IDS = [re.sub(r"[^A-Za-z0-9=_]+", "-", p)[:50].strip("-") for _, _, p in DECODER_BAD_INPUTS]


@pytest.mark.parametrize(("arguments", "exception", "pattern"), DECODER_BAD_INPUTS, ids=DECODER_IDS)
@pytest.mark.parametrize("function", ["greedy_decode", "beam_search"])
def test_decoders_check_their_inputs(
    arguments: dict[str, Any], exception: type, pattern: str, function: str
) -> None:
    with pytest.raises(exception, match=pattern):
        getattr(fastctc, function)(**arguments)


BEAM_BAD_OPTIONS = [
    ({"beam_width": 0}, ValueError, r"beam_width must be at least 1, but got 0"),
    ({"beam_width": 2.5}, TypeError, r"beam_width must be an integer, but got 2.5"),
    ({"beam_width": True}, TypeError, r"beam_width must be an integer, but got True"),
    ({"top_paths": -1}, ValueError, r"top_paths must be at least 1, but got -1"),
    ({"beam_width": 3, "top_paths": 4}, ValueError, r"top_paths=4 must be at most beam_width=3"),
    ({"prune_logp": "low"}, TypeError, r"prune_logp must be a number or None, but got 'low'"),
    ({"prune_logp": float("nan")}, ValueError, r"prune_logp must not be NaN"),
    ({"scorer": 3}, TypeError, r"scorer must be a fastctc.Scorer or a callable, but got int"),
    (
        {"scorer": fastctc.Scorer(lambda p: np.zeros(C), weight=float("inf"))},
        ValueError,
        r"scorer.weight must be finite, but got inf",
    ),
    (
        {"scorer": fastctc.Scorer(lambda p: np.zeros(C), insertion_bonus=float("nan"))},
        ValueError,
        r"scorer.insertion_bonus must be finite, but got nan",
    ),
]


@pytest.mark.parametrize(
    ("options", "exception", "pattern"),
    BEAM_BAD_OPTIONS,
    ids=[re.sub(r"[^A-Za-z0-9=_]+", "-", p)[:50].strip("-") for _, _, p in BEAM_BAD_OPTIONS],
)
def test_beam_search_checks_its_options(
    options: dict[str, Any], exception: type, pattern: str
) -> None:
    with pytest.raises(exception, match=pattern):
        fastctc.beam_search(**_frames(), **options)


def test_a_scorer_is_not_called_for_a_bad_call() -> None:
    calls: list[tuple[int, ...]] = []

    def model(prefix: tuple[int, ...]) -> np.ndarray:
        calls.append(prefix)
        return np.zeros(C)

    with pytest.raises(ValueError, match="input_lengths"):
        fastctc.beam_search(**_frames(input_lengths=[9, 9, 9]), scorer=model)
    assert calls == []
