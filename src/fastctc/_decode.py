"""Decoding CTC outputs into label sequences: greedy (best path) and prefix beam search.

Arguments are checked with the helpers of :mod:`fastctc._api`, as for the loss;
the searches run in the C core (cpp/src/greedy.cpp, cpp/src/beam_search.hpp)
without the GIL, which a Python scorer takes back only while it runs.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Union

import numpy as np
import numpy.typing as npt

from fastctc import _ctc
from fastctc._api import (
    FloatArray,
    Layout,
    _as_inputs,
    _as_lengths,
    _check_blank,
    _check_num_threads,
    _positive_int32,
)
from fastctc._scorer import Prefix, Scorer, checked_score_function

ScorerLike = Union[Scorer, Callable[[Prefix], npt.ArrayLike]]


@dataclass(frozen=True)
class Hypothesis:
    """One decoded label sequence."""

    tokens: npt.NDArray[np.int64]  # the classes, blanks and merged repeats removed
    frames: npt.NDArray[np.int64]  # the frame at which each token starts (see the decoders)
    log_prob: float  # its log-probability (see the decoders for which one)
    score: float  # its ranking score: log_prob plus any language model's terms


@dataclass(frozen=True)
class _Frames:
    """Checked and normalised decoder inputs."""

    inputs_tnc: FloatArray
    input_lengths: npt.NDArray[np.int64]
    blank: int
    num_threads: int


def greedy_decode(
    inputs: npt.ArrayLike,
    input_lengths: npt.ArrayLike | None = None,
    *,
    blank: int = 0,
    merge_repeated: bool = True,
    layout: Layout = "TNC",
    log_probs: bool = False,
    num_threads: int | None = None,
) -> list[Hypothesis]:
    """Best-path decoding: the most probable class of every frame, collapsed.

    The class of highest score is taken at each frame (the first on ties, as
    ``np.argmax``); runs of one class are merged (unless ``merge_repeated=False``)
    and blanks dropped. ``inputs`` are logits or, with ``log_probs=True``,
    log-scores, in ``layout``; ``input_lengths`` default to T.

    Returns
    -------
    One :class:`Hypothesis` per sequence: ``frames`` is the first frame of each
    token's run, ``log_prob`` (= ``score``) the log-probability of the best path,
    ``sum_t max_k ln y[t, k]`` (not of the labelling, which sums over many paths).
    """
    frames = _prepare_frames(inputs, input_lengths, blank, layout, num_threads)
    max_time, batch_size, _ = frames.inputs_tnc.shape
    tokens = np.empty((batch_size, max_time), np.int32)
    token_frames = np.empty((batch_size, max_time), np.int64)
    counts = np.empty(batch_size, np.int64)
    scores = np.empty(batch_size, frames.inputs_tnc.dtype)
    _ctc.greedy_decode(
        frames.inputs_tnc,
        frames.input_lengths,
        blank=frames.blank,
        log_probs=bool(log_probs),
        merge_repeated=bool(merge_repeated),
        num_threads=frames.num_threads,
        tokens_out=tokens,
        token_frames_out=token_frames,
        token_counts_out=counts,
        scores_out=scores,
    )
    return [
        Hypothesis(
            tokens=tokens[n, : counts[n]].astype(np.int64),
            frames=token_frames[n, : counts[n]].copy(),
            log_prob=float(scores[n]),
            score=float(scores[n]),
        )
        for n in range(batch_size)
    ]


def beam_search(
    inputs: npt.ArrayLike,
    input_lengths: npt.ArrayLike | None = None,
    *,
    beam_width: int = 100,
    top_paths: int = 1,
    blank: int = 0,
    prune_logp: float | None = None,
    scorer: ScorerLike | None = None,
    layout: Layout = "TNC",
    log_probs: bool = False,
    num_threads: int | None = None,
) -> list[list[Hypothesis]]:
    """CTC prefix beam search: the most probable label sequences of each input.

    Keeps the ``beam_width`` best label prefixes after every frame, each with its
    probability summed over all the paths (alignments) that spell it, and returns
    the ``top_paths`` best at the end, best first. With a beam wide enough to keep
    every prefix, the first is the exact most probable labelling.

    Parameters
    ----------
    inputs, input_lengths, blank, layout, log_probs, num_threads
        As for :func:`fastctc.ctc_loss` (logits by default).
    beam_width
        Prefixes kept per frame (at least 1).
    top_paths
        Hypotheses returned per sequence, at most ``beam_width``.
    prune_logp
        If given, classes whose log-probability at a frame is below it never extend
        a prefix at that frame (faster, no longer exact).
    scorer
        An optional language model: a :class:`Scorer`, or a bare score function
        (weight 1, no insertion bonus). It is called with the GIL held.

    Returns
    -------
    Per sequence, a list of at most ``top_paths`` :class:`Hypothesis`, best first
    (fewer when fewer prefixes have nonzero probability; none when the sequence's
    inputs hold a NaN). ``log_prob`` is ln p(labelling | inputs) summed over the
    alignments the search kept (exact when nothing was pruned); ``score`` adds the
    scorer's terms and ranks the list; ``frames`` holds the frame at which each
    token was first appended to the prefix during the search.
    """
    frames = _prepare_frames(inputs, input_lengths, blank, layout, num_threads)
    width = _positive_int32("beam_width", beam_width)
    paths = _positive_int32("top_paths", top_paths)
    if paths > width:
        raise ValueError(f"top_paths={paths} must be at most beam_width={width}")
    prune = _check_prune_logp(prune_logp)
    max_time, batch_size, num_classes = frames.inputs_tnc.shape
    scorer_call = _scorer_call(scorer, num_classes)

    tokens = np.empty((batch_size, paths, max_time), np.int32)
    token_frames = np.empty((batch_size, paths, max_time), np.int64)
    counts = np.empty((batch_size, paths), np.int64)
    path_log_probs = np.empty((batch_size, paths), frames.inputs_tnc.dtype)
    scores = np.empty((batch_size, paths), frames.inputs_tnc.dtype)
    workspace_bytes = _ctc.beam_search_workspace_size(
        max_time,
        num_classes,
        frames.input_lengths,
        beam_width=width,
        top_paths=paths,
        with_scorer=scorer_call is not None,
        num_threads=frames.num_threads,
    )
    _ctc.beam_search(
        frames.inputs_tnc,
        frames.input_lengths,
        blank=frames.blank,
        log_probs=bool(log_probs),
        beam_width=width,
        top_paths=paths,
        prune_logp=prune,
        scorer=scorer_call,
        num_threads=frames.num_threads,
        tokens_out=tokens,
        token_frames_out=token_frames,
        token_counts_out=counts,
        log_probs_out=path_log_probs,
        scores_out=scores,
        workspace=np.empty(workspace_bytes, np.uint8),
    )
    return [
        [
            Hypothesis(
                tokens=tokens[n, p, : counts[n, p]].astype(np.int64),
                frames=token_frames[n, p, : counts[n, p]].copy(),
                log_prob=float(path_log_probs[n, p]),
                score=float(scores[n, p]),
            )
            for p in range(paths)
            if counts[n, p] >= 0
        ]
        for n in range(batch_size)
    ]


def _prepare_frames(
    inputs: npt.ArrayLike,
    input_lengths: npt.ArrayLike | None,
    blank: int,
    layout: Layout,
    num_threads: int | None,
) -> _Frames:
    _, inputs_tnc = _as_inputs(inputs, layout)
    max_time, batch_size, num_classes = inputs_tnc.shape
    return _Frames(
        inputs_tnc=inputs_tnc,
        input_lengths=_as_lengths(
            "input_lengths", input_lengths, batch_size, default=max_time, upper=("T", max_time)
        ),
        blank=_check_blank(blank, num_classes),
        num_threads=_check_num_threads(num_threads),
    )


def _check_prune_logp(prune_logp: Any) -> float | None:
    if prune_logp is None:
        return None
    if isinstance(prune_logp, (bool, np.bool_)) or not isinstance(
        prune_logp, (int, float, np.integer, np.floating)
    ):
        raise TypeError(f"prune_logp must be a number or None, but got {prune_logp!r}")
    if math.isnan(prune_logp):
        raise ValueError("prune_logp must not be NaN")
    return float(prune_logp)


def _scorer_call(scorer: ScorerLike | None, num_classes: int) -> _ctc.ScorerCall | None:
    if scorer is None:
        return None
    if not isinstance(scorer, Scorer):
        if not callable(scorer):
            raise TypeError(
                f"scorer must be a fastctc.Scorer or a callable, but got {type(scorer).__name__}"
            )
        scorer = Scorer(scorer)
    for name in ("weight", "insertion_bonus"):
        value = getattr(scorer, name)
        if not math.isfinite(value):
            raise ValueError(f"scorer.{name} must be finite, but got {value}")
    return _ctc.ScorerCall(
        checked_score_function(scorer, num_classes),
        num_classes,
        float(scorer.weight),
        float(scorer.insertion_bonus),
    )
