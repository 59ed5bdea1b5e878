"""Posterior occupancies of the CTC lattice: which class, and which state of the
extended label, each frame is in, averaged over all alignments of the label.

Computed by the loss's own forward-backward kernel (cpp/src/forward_backward.hpp),
which writes the occupancies where the loss writes its gradient.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from fastctc import _ctc
from fastctc._api import (
    FloatArray,
    LabelsLike,
    Layout,
    _prepare,
    _thread_workspace,
    _tnc_view,
    _workspace_bytes,
)


@dataclass(frozen=True)
class Posteriors:
    """The posterior occupancies of a batch (see :func:`ctc_posteriors`)."""

    classes: FloatArray  # (T, N, C), in the inputs' layout
    states: FloatArray  # (T, N, S), S = 2 * max label length + 1, in the inputs' layout
    log_likelihoods: FloatArray  # (N,): ln p(label | inputs), -inf when impossible


def ctc_posteriors(
    inputs: npt.ArrayLike,
    labels: LabelsLike,
    input_lengths: npt.ArrayLike | None = None,
    label_lengths: npt.ArrayLike | None = None,
    *,
    blank: int = 0,
    layout: Layout = "TNC",
    log_probs: bool = False,
    num_threads: int | None = None,
) -> Posteriors:
    """The posterior probability of each class and each label state at each frame.

    Takes the arguments of :func:`fastctc.ctc_loss`. Over all alignments of the
    label, weighted by their probability (Graves et al. 2006, eqs. (14)-(16)):

    - ``classes[t, n, k]``: the probability that frame t of sequence n emits class
      k; it sums to 1 over k on every frame within the input length;
    - ``states[t, n, s]``: the probability that the frame is in state s of the
      extended label (blank, label 0, blank, label 1, ..., blank: state 2j + 1 is
      label token j); it sums to 1 over s;
    - ``log_likelihoods[n]``: ln p(label | inputs), the negated loss.

    Both arrays have the inputs' layout (``(N, T, ...)`` for ``"NTC"``) and dtype,
    and are 0 past each input length, for states past a sequence's 2L+1, and for
    impossible sequences (log-likelihood ``-inf``). With logits, ``classes`` equals
    ``softmax(inputs) - grad`` of :func:`fastctc.ctc_loss_and_grad`.
    """
    problem = _prepare(inputs, labels, input_lengths, label_lengths, blank, layout, num_threads)
    max_time, batch_size, num_classes = problem.inputs_tnc.shape
    num_states = 2 * int(problem.label_lengths.max(initial=0)) + 1
    shape = {"TNC": (max_time, batch_size), "NTC": (batch_size, max_time)}[layout]
    classes = np.empty((*shape, num_classes), problem.dtype)
    states = np.empty((*shape, num_states), problem.dtype)
    log_likelihoods = np.empty(batch_size, problem.dtype)
    _ctc.ctc_posteriors(
        *problem.batch,
        blank=problem.blank,
        log_probs=bool(log_probs),
        num_threads=problem.num_threads,
        log_likelihoods_out=log_likelihoods,
        class_occupancy_out=_tnc_view(classes, layout),
        state_occupancy_out=_tnc_view(states, layout),
        workspace=_thread_workspace(_workspace_bytes(problem, with_grad=True)),
    )
    return Posteriors(classes=classes, states=states, log_likelihoods=log_likelihoods)
