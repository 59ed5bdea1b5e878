"""Type stubs of the compiled binding to the C API (see _ctc.pyx)."""

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

def simd_level() -> str: ...
def version() -> str: ...
def compiler() -> str: ...
def openmp_version() -> int: ...
def openmp_library() -> str: ...
def workspace_size(
    max_time: int,
    num_classes: int,
    input_lengths: npt.NDArray[np.int64],
    label_lengths: npt.NDArray[np.int64],
    *,
    with_grad: bool,
    num_threads: int,
) -> int: ...
def ctc_loss(
    inputs: npt.NDArray[np.floating],
    labels: npt.NDArray[np.int32],
    input_lengths: npt.NDArray[np.int64],
    label_lengths: npt.NDArray[np.int64],
    *,
    blank: int,
    log_probs: bool,
    zero_infinity: bool,
    num_threads: int,
    losses_out: npt.NDArray[np.floating],
    grad_out: npt.NDArray[np.floating] | None,
    grad_scale: npt.NDArray[np.floating] | None,
    workspace: npt.NDArray[np.uint8],
) -> bool: ...
def ctc_posteriors(
    inputs: npt.NDArray[np.floating],
    labels: npt.NDArray[np.int32],
    input_lengths: npt.NDArray[np.int64],
    label_lengths: npt.NDArray[np.int64],
    *,
    blank: int,
    log_probs: bool,
    num_threads: int,
    log_likelihoods_out: npt.NDArray[np.floating],
    class_occupancy_out: npt.NDArray[np.floating],
    state_occupancy_out: npt.NDArray[np.floating],
    workspace: npt.NDArray[np.uint8],
) -> None: ...
def align_workspace_size(
    max_time: int,
    num_classes: int,
    input_lengths: npt.NDArray[np.int64],
    label_lengths: npt.NDArray[np.int64],
    *,
    num_threads: int,
) -> int: ...
def forced_align(
    inputs: npt.NDArray[np.floating],
    labels: npt.NDArray[np.int32],
    input_lengths: npt.NDArray[np.int64],
    label_lengths: npt.NDArray[np.int64],
    *,
    blank: int,
    log_probs: bool,
    num_threads: int,
    path_scores_out: npt.NDArray[np.floating],
    frame_states_out: npt.NDArray[np.int32],
    frame_log_probs_out: npt.NDArray[np.floating],
    token_starts_out: npt.NDArray[np.int64],
    token_ends_out: npt.NDArray[np.int64],
    token_scores_out: npt.NDArray[np.floating],
    workspace: npt.NDArray[np.uint8],
) -> None: ...
def greedy_decode(
    inputs: npt.NDArray[np.floating],
    input_lengths: npt.NDArray[np.int64],
    *,
    blank: int,
    log_probs: bool,
    merge_repeated: bool,
    num_threads: int,
    tokens_out: npt.NDArray[np.int32],
    token_frames_out: npt.NDArray[np.int64],
    token_counts_out: npt.NDArray[np.int64],
    scores_out: npt.NDArray[np.floating],
) -> None: ...

class ScorerCall:
    def __init__(
        self,
        function: Callable[[tuple[int, ...]], npt.NDArray[np.float64]],
        num_classes: int,
        weight: float,
        insertion_bonus: float,
    ) -> None: ...

def beam_search_workspace_size(
    max_time: int,
    num_classes: int,
    input_lengths: npt.NDArray[np.int64],
    *,
    beam_width: int,
    top_paths: int,
    with_scorer: bool,
    num_threads: int,
) -> int: ...
def beam_search(
    inputs: npt.NDArray[np.floating],
    input_lengths: npt.NDArray[np.int64],
    *,
    blank: int,
    log_probs: bool,
    beam_width: int,
    top_paths: int,
    prune_logp: float | None,
    scorer: ScorerCall | None,
    num_threads: int,
    tokens_out: npt.NDArray[np.int32],
    token_frames_out: npt.NDArray[np.int64],
    token_counts_out: npt.NDArray[np.int64],
    log_probs_out: npt.NDArray[np.floating],
    scores_out: npt.NDArray[np.floating],
    workspace: npt.NDArray[np.uint8],
) -> None: ...
