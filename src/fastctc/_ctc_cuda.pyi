"""Type stubs of the compiled CUDA binding (see _ctc_cuda.pyx); built only with FASTCTC_CUDA=ON."""

def workspace_size(
    max_time: int, batch_size: int, num_classes: int, max_label_length: int, *, with_grad: bool
) -> int: ...
def ctc_loss(
    *,
    device: int,
    stream: int,
    double: bool,
    inputs: int,
    input_strides: tuple[int, int, int],
    max_time: int,
    batch_size: int,
    num_classes: int,
    max_label_length: int,
    input_lengths: int,
    label_lengths: int,
    labels: int,
    blank: int,
    log_probs: bool,
    zero_infinity: bool,
    losses: int,
    grad: int,
    grad_strides: tuple[int, int, int],
    grad_scale: int,
    workspace: int,
    workspace_bytes: int,
) -> None: ...
