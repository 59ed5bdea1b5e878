"""Type stubs of the compiled packing of labels and lengths (see _targets.pyx)."""

import numpy as np
import numpy.typing as npt

def pack_targets(
    labels: npt.NDArray[np.int32] | npt.NDArray[np.int64],
    concatenated: bool,
    label_lengths: npt.NDArray[np.int64] | None,
    input_lengths: npt.NDArray[np.int64] | None,
    batch_size: int,
    max_time: int,
    num_classes: int,
    blank: int,
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int64], npt.NDArray[np.int64]] | None: ...
