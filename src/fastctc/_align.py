"""Forced alignment: the most probable path of each label through the CTC lattice.

Arguments are checked and normalised by :mod:`fastctc._api` exactly as for the
loss; the Viterbi search and the token spans are computed by the C core
(cpp/src/viterbi.hpp). This module allocates the outputs and shapes the result.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from fastctc import _ctc
from fastctc._api import FloatArray, LabelsLike, Layout, _prepare, _Problem

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class TokenSpans:
    """Where each token of one label sits on its best path; one entry per token.

    Like torchaudio's ``merge_tokens``: ``end`` is exclusive and ``score`` is the
    token's mean frame probability, ``mean(exp(log_probs[start:end]))``.
    """

    position: IntArray  # j: the token's index in the label
    token: IntArray  # its class
    start: IntArray  # its first frame
    end: IntArray  # one past its last frame
    score: FloatArray  # its mean probability over those frames

    def __len__(self) -> int:
        return int(self.position.shape[0])


@dataclass(frozen=True)
class Alignment:
    """The best path of every sequence of a batch (see :func:`forced_align`).

    A sequence without any path (fewer frames than its label needs, a label of
    probability zero, or a NaN in what it reads) has ``scores[n]`` of ``-inf`` (NaN
    for a NaN), ``feasible[n]`` False, labels and states of -1 on every frame, and
    ``spans[n]`` None: never a made-up path.
    """

    labels: IntArray  # (N, T): the class emitted at each frame; -1 past the input length
    states: IntArray  # (N, T): the extended-label state, 2j + 1 for token j, even for blanks
    log_probs: FloatArray  # (N, T): ln y of that class at that frame; 0 where labels is -1
    scores: FloatArray  # (N,): ln of the path's probability, the sum of its log_probs
    spans: list[TokenSpans | None]  # one per sequence

    @property
    def feasible(self) -> npt.NDArray[np.bool_]:
        """Whether each sequence has a path."""
        with np.errstate(invalid="ignore"):
            return np.asarray(self.scores > -np.inf)


def forced_align(
    inputs: npt.ArrayLike,
    labels: LabelsLike,
    input_lengths: npt.ArrayLike | None = None,
    label_lengths: npt.ArrayLike | None = None,
    *,
    blank: int = 0,
    layout: Layout = "TNC",
    log_probs: bool = False,
    num_threads: int | None = None,
) -> Alignment:
    """The single most probable CTC path (Viterbi) of each label, and its token spans.

    Takes the arguments of :func:`fastctc.ctc_loss` (inputs as logits or, with
    ``log_probs=True``, log-scores used as given; labels padded, concatenated or as
    a list; any blank and layout). Among all paths that collapse to the label, the
    one of highest probability is returned (ties are broken the same way every
    time, independent of the thread count). Frame outputs are batch-major, (N, T),
    whatever the layout.

    Returns
    -------
    An :class:`Alignment`: per-frame classes, states and log-probabilities, each
    path's log-probability, and each label token's span (first and one-past-last
    frame, mean probability).
    """
    problem = _prepare(inputs, labels, input_lengths, label_lengths, blank, layout, num_threads)
    max_time, batch_size, _ = problem.inputs_tnc.shape
    total_labels = problem.labels.shape[0]
    scores = np.empty(batch_size, problem.dtype)
    states = np.empty((batch_size, max_time), np.int32)
    frame_log_probs = np.empty((batch_size, max_time), problem.dtype)
    starts = np.empty(total_labels, np.int64)
    ends = np.empty(total_labels, np.int64)
    token_scores = np.empty(total_labels, problem.dtype)
    workspace_bytes = _ctc.align_workspace_size(*problem.extents, num_threads=problem.num_threads)
    _ctc.forced_align(
        *problem.batch,
        blank=problem.blank,
        log_probs=bool(log_probs),
        num_threads=problem.num_threads,
        path_scores_out=scores,
        frame_states_out=states,
        frame_log_probs_out=frame_log_probs,
        token_starts_out=starts,
        token_ends_out=ends,
        token_scores_out=token_scores,
        workspace=np.empty(workspace_bytes, np.uint8),
    )
    alignment_states = states.astype(np.int64)
    return Alignment(
        labels=_frame_classes(alignment_states, problem),
        states=alignment_states,
        log_probs=frame_log_probs,
        scores=scores,
        spans=_spans(problem, scores, starts, ends, token_scores),
    )


def _label_offsets(problem: _Problem) -> IntArray:
    """Where each sequence's label starts in the concatenated labels."""
    return np.concatenate([[0], np.cumsum(problem.label_lengths)[:-1]]).astype(np.int64)


def _frame_classes(states: IntArray, problem: _Problem) -> IntArray:
    """The class of each frame's state: l'_s is the blank for even s and label
    token (s - 1) / 2 for odd s; -1 where there is no state."""
    if problem.labels.shape[0] == 0:
        return np.where(states >= 0, problem.blank, -1)
    token_index = _label_offsets(problem)[:, None] + np.maximum(states - 1, 0) // 2
    token_class = problem.labels[np.minimum(token_index, problem.labels.shape[0] - 1)]
    classes = np.where(states % 2 == 1, token_class, problem.blank)
    return np.where(states >= 0, classes, -1).astype(np.int64)


def _spans(
    problem: _Problem,
    scores: FloatArray,
    starts: IntArray,
    ends: IntArray,
    token_scores: FloatArray,
) -> list[TokenSpans | None]:
    """Each sequence's slice of the concatenated token spans; None without a path."""
    offsets = _label_offsets(problem)
    spans: list[TokenSpans | None] = []
    for n, (offset, length) in enumerate(zip(offsets, problem.label_lengths)):
        if not scores[n] > -np.inf:
            spans.append(None)
            continue
        part = slice(int(offset), int(offset + length))
        spans.append(
            TokenSpans(
                position=np.arange(length, dtype=np.int64),
                token=problem.labels[part].astype(np.int64),
                start=starts[part],
                end=ends[part],
                score=token_scores[part],
            )
        )
    return spans
