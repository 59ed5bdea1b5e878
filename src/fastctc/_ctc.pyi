"""Type stubs of the compiled binding to the C API (see _ctc.pyx)."""

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
) -> None: ...
