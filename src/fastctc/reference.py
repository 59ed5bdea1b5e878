"""The float64 oracle: CTC loss and gradient in the notation of Graves et al. (2006).

This module is the readable definition that fastctc's native core is tested
against, and that anyone can check their own CTC implementation with. It favours
clarity over speed: one sequence at a time, a Python loop over frames, NumPy over
the states of the extended label. Everything is computed in log space in float64,
so it neither underflows on long sequences nor loses precision on peaked inputs.

Notation (Section 4.1 of the paper; the paper counts from 1, we count from 0):

- ``y[t, k]``: probability of class k at frame t; we carry ``log_y``.
- ``l``: the label sequence; ``l'``: the extended label, with a blank before,
  between and after the labels, ``|l'| = 2|l| + 1``. Blanks sit at even states.
- ``alpha[t, s]``: the forward variable, eqs. (5)-(7);
  ``p(l|x) = alpha[T-1, -1] + alpha[T-1, -2]``, eq. (8).
- ``beta[t, s]``: the backward variable *without* the emission at frame t (the
  paper's beta divided by ``y[t, l'_s]``), so ``alpha * beta / p`` is directly the
  posterior occupancy of state s at frame t, eqs. (14)-(15).
- Each frame's row is carried relative to its largest entry, with the offsets
  summed apart: on long inputs ``ln alpha`` reaches tens of thousands, and rows
  of that magnitude would accumulate rounding errors frame after frame.
- gradient, eq. (16): ``y[t, k] - occupancy[t, k]`` with respect to the logits;
  ``-occupancy[t, k]`` with respect to log-scores taken as given.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "ctc_loss",
    "ctc_loss_and_grad",
    "extend_label",
    "log_alpha",
    "log_beta",
    "log_softmax",
    "occupancy",
]

Float64Array = npt.NDArray[np.float64]
NEG_INF = -np.inf


def log_softmax(logits: npt.ArrayLike) -> Float64Array:
    """ln y: the log-softmax over the last axis, in float64."""
    u = np.asarray(logits, dtype=np.float64)
    top = np.max(u, axis=-1, keepdims=True)
    with np.errstate(invalid="ignore"):  # a row without a finite maximum gives NaN
        log_y: Float64Array = u - (top + np.log(np.sum(np.exp(u - top), axis=-1, keepdims=True)))
    return log_y


def extend_label(label: npt.ArrayLike, blank: int) -> npt.NDArray[np.int64]:
    """l': the label with a blank before, between and after its classes."""
    label = np.asarray(label, dtype=np.int64)
    extended = np.full(2 * label.size + 1, blank, dtype=np.int64)
    extended[1::2] = label
    return extended


def _skip_allowed(extended: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
    """allowed[s]: a path may jump from state s-2 to s (eq. (6)): l'_s is a label
    that differs from l'_(s-2)."""
    allowed = np.zeros(extended.size, dtype=bool)
    allowed[3::2] = extended[3::2] != extended[1:-2:2]
    return allowed


def _shift(row: Float64Array, by: int) -> Float64Array:
    """row moved by ``by`` states towards higher s (lower if negative), -inf filled."""
    moved = np.full_like(row, NEG_INF)
    if by >= 0:
        moved[by:] = row[: max(row.size - by, 0)]
    else:
        moved[:by] = row[-by:]
    return moved


def _recentred(row: Float64Array) -> tuple[Float64Array, float]:
    """row - max(row) and max(row) (0 for a row of -inf, whose shift is meaningless)."""
    top = float(np.max(row))
    offset = top if np.isfinite(top) else 0.0
    return row - offset, offset


def _log_alpha_rows(
    log_y: Float64Array, extended: npt.NDArray[np.int64]
) -> tuple[Float64Array, Float64Array]:
    """ln alpha, each row relative to its maximum, and the running offsets."""
    frames, states = log_y.shape[0], extended.size
    skip = _skip_allowed(extended)
    alpha = np.full((frames, states), NEG_INF)
    offsets = np.zeros(frames)
    first = np.full(states, NEG_INF)
    first[:2] = log_y[0, extended[:2]]  # initial conditions
    alpha[0], offsets[0] = _recentred(first)
    for t in range(1, frames):
        prev = alpha[t - 1]
        jump = np.where(skip, _shift(prev, 2), NEG_INF)  # from s - 2
        row = np.logaddexp(np.logaddexp(prev, _shift(prev, 1)), jump) + log_y[t, extended]
        alpha[t], shift = _recentred(row)
        offsets[t] = offsets[t - 1] + shift
    return alpha, offsets


def _log_beta_rows(
    log_y: Float64Array, extended: npt.NDArray[np.int64]
) -> tuple[Float64Array, Float64Array]:
    """ln beta (without the emission at t), each row relative to its maximum, and
    the running offsets."""
    frames, states = log_y.shape[0], extended.size
    skip_into = _skip_allowed(extended)
    beta = np.full((frames, states), NEG_INF)
    offsets = np.zeros(frames)
    beta[-1, -2:] = 0.0  # a path may end in the last label or the final blank
    for t in range(frames - 2, -1, -1):
        nxt = beta[t + 1] + log_y[t + 1, extended]  # the paper's beta at t + 1
        jump = _shift(np.where(skip_into, nxt, NEG_INF), -2)  # to s + 2
        row = np.logaddexp(np.logaddexp(nxt, _shift(nxt, -1)), jump)
        beta[t], shift = _recentred(row)
        offsets[t] = offsets[t + 1] + shift
    return beta, offsets


def log_alpha(log_y: npt.ArrayLike, extended: npt.NDArray[np.int64]) -> Float64Array:
    """ln alpha[t, s] for t < T and s < |l'|, eqs. (5)-(7)."""
    alpha, offsets = _log_alpha_rows(np.asarray(log_y, dtype=np.float64), extended)
    absolute: Float64Array = alpha + offsets[:, None]
    return absolute


def log_beta(log_y: npt.ArrayLike, extended: npt.NDArray[np.int64]) -> Float64Array:
    """ln beta[t, s], excluding the emission at frame t (see the module notes)."""
    beta, offsets = _log_beta_rows(np.asarray(log_y, dtype=np.float64), extended)
    absolute: Float64Array = beta + offsets[:, None]
    return absolute


def occupancy(log_y: npt.ArrayLike, label: npt.ArrayLike, blank: int) -> tuple[float, Float64Array]:
    """ln p(l|x) and the posterior occupancy of each (frame, class) for one sequence.

    occupancy[t, k] is the probability, over the alignments of l weighted by their
    probability, that frame t emits class k; each row sums to 1. Impossible
    alignments give ln p = -inf and zero occupancy.
    """
    log_y = np.asarray(log_y, dtype=np.float64)
    frames, classes = log_y.shape
    extended = extend_label(label, blank)
    occ = np.zeros((frames, classes))
    if frames == 0:
        return (0.0 if extended.size == 1 else NEG_INF), occ
    alpha, alpha_offsets = _log_alpha_rows(log_y, extended)
    # eq. (8); one entry for an empty label
    log_p = float(np.logaddexp.reduce(alpha[-1, -2:])) + alpha_offsets[-1]
    if log_p == NEG_INF:
        return log_p, occ
    # eqs. (14)-(15): alpha beta / p, normalised per frame (the offsets cancel)
    beta, _ = _log_beta_rows(log_y, extended)
    joint = alpha + beta
    gamma = np.exp(joint - np.logaddexp.reduce(joint, axis=1, keepdims=True))
    for s, k in enumerate(extended):  # sum over lab(l, k), eq. (16)
        occ[:, k] += gamma[:, s]
    return log_p, occ


def ctc_loss_and_grad(
    inputs: npt.ArrayLike,
    labels: Sequence[npt.ArrayLike],
    input_lengths: npt.ArrayLike | None = None,
    *,
    blank: int = 0,
    log_probs: bool = False,
) -> tuple[Float64Array, Float64Array]:
    """The per-sequence losses -ln p(l|x) and their gradient, in float64.

    ``inputs`` has shape (T, N, C): logits, or log-scores with ``log_probs=True``.
    ``labels`` is a sequence of N 1-D label sequences; ``input_lengths`` defaults to
    T for all. ``blank`` may be negative (counting from the end). The gradient has
    the shape of ``inputs``, is zero past each input length, and is zero for
    impossible sequences, whose loss is +inf.
    """
    x = np.asarray(inputs, dtype=np.float64)
    frames, batch, classes = x.shape
    blank %= classes
    lengths = np.full(batch, frames) if input_lengths is None else np.asarray(input_lengths)
    losses = np.zeros(batch)
    grad = np.zeros_like(x)
    for n in range(batch):
        u = x[: lengths[n], n]
        log_y = u if log_probs else log_softmax(u)
        log_p, occ = occupancy(log_y, labels[n], blank)
        losses[n] = -log_p
        if log_p == NEG_INF:
            continue  # impossible: zero gradient
        softmax: Any = 0.0 if log_probs else np.exp(log_y)
        grad[: lengths[n], n] = softmax - occ  # eq. (16)
    return losses, grad


def ctc_loss(
    inputs: npt.ArrayLike,
    labels: Sequence[npt.ArrayLike],
    input_lengths: npt.ArrayLike | None = None,
    *,
    blank: int = 0,
    log_probs: bool = False,
) -> Float64Array:
    """The per-sequence losses -ln p(l|x), in float64 (see :func:`ctc_loss_and_grad`)."""
    return ctc_loss_and_grad(inputs, labels, input_lengths, blank=blank, log_probs=log_probs)[0]
